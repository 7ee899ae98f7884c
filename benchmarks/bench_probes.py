"""Physics probes on default clips (16 frames, 32x32), one core: how many milliseconds each costs.

Prints one JSON document: median milliseconds per clip of `probes.run` and of each probe alone
(on a fresh Context, so tracking is included in every one), of the shared tracking step, and the
ratio of a full report to rendering the clip with `world.sample` (both measured here).

    python benchmarks/bench_probes.py [--clips 24]
"""
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before numpy/torch load their thread pools

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from sorakit import probes, world  # noqa: E402


def _ms(fn, items) -> float:
    """Median milliseconds of fn(item) over items."""
    times = []
    for item in items:
        t0 = time.perf_counter()
        fn(item)
        times.append((time.perf_counter() - t0) * 1000)
    return float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clips", type=int, default=24)
    args = parser.parse_args()
    seeds = range(500_000, 500_000 + args.clips)  # every scenario, mixed
    clips = [world.sample(s) for s in seeds]
    probes.run(clips[0].video, prompt=clips[0].caption)  # warm-up (imports, caches)
    out = {
        "clips": args.clips, "frames": 16, "size": "32x32", "machine": platform.machine(),
        "world_sample_ms": _ms(lambda s: world.sample(s), seeds),
        "tracking_ms": _ms(lambda c: probes.prepare(c.video).motions, clips),
        "run_ms": _ms(lambda c: probes.run(c.video, prompt=c.caption), clips),
        "per_probe_ms": {},
    }
    for name in probes.PROBES:
        out["per_probe_ms"][name] = _ms(lambda c: probes.run(c.video, prompt=c.caption, probes=[name]), clips)
    out["run_over_world_sample"] = out["run_ms"] / out["world_sample_ms"]
    out["slowest_probe"] = max(out["per_probe_ms"], key=out["per_probe_ms"].get)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
