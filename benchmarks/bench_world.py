"""World data throughput on one core: is training data-bound?

Prints one JSON document: clips/s of `world.sample()` and of iterating `WorldClips` (what the
trainer consumes) at the default size and at 64x64, the per-clip time of each stage (scene
sampling, simulation, rendering, captioning) and of `track()`.

    python benchmarks/bench_world.py [--seconds 3]
"""
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before numpy/torch load their thread pools

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402

from sorakit import world  # noqa: E402
from sorakit.world.captions import caption  # noqa: E402
from sorakit.world.render import render  # noqa: E402


def _rate(make, seconds: float, start: int = 0, min_items: int = 20) -> tuple[float, float]:
    """(items per wall second, items per CPU second) of make(seed), after one warm-up.

    On a shared machine the CPU-second rate is what one free core would do.
    """
    make(start)
    t0, c0, n = time.perf_counter(), time.process_time(), 0
    while n < min_items or time.perf_counter() - t0 < seconds:
        make(start + 1 + n)
        n += 1
    return round(n / (time.perf_counter() - t0), 1), round(n / (time.process_time() - c0), 1)


def _stream_rate(size: int, seconds: float) -> tuple[float, float]:
    it = iter(world.WorldClips(start_seed=10_000, height=size, width=size))

    def make(_seed):
        item = next(it)
        assert item["video"].shape[-1] == size

    return _rate(make, seconds)


def _stages(size: int, n: int) -> dict:
    """Mean CPU milliseconds per clip spent in each stage, over seeds 0..n-1 (all scenarios mixed)."""
    total = dict.fromkeys(("scene", "simulate", "render", "caption", "track"), 0.0)
    for seed in range(n):
        t = time.process_time()
        scene = world.sample_scene(seed)
        total["scene"] += time.process_time() - t
        t = time.process_time()
        traj = world.simulate(scene)
        total["simulate"] += time.process_time() - t
        t = time.process_time()
        video, _ = render(scene, traj, size, size)
        total["render"] += time.process_time() - t
        t = time.process_time()
        caption(scene, traj)
        total["caption"] += time.process_time() - t
        t = time.process_time()
        world.track(video)
        total["track"] += time.process_time() - t
    return {k: round(1000 * v / n, 3) for k, v in total.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=3.0, help="time per throughput measurement")
    ap.add_argument("--stage-clips", type=int, default=100)
    args = ap.parse_args()
    torch.set_num_threads(1)
    out = {
        "benchmark": "world",
        "threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "clip": {"num_frames": 16, "fps": 8.0},
        "sizes": {},
    }
    for size in (32, 64):
        wall, cpu = _rate(lambda s: world.sample(s, height=size, width=size), args.seconds)
        stream_wall, stream_cpu = _stream_rate(size, args.seconds)
        out["sizes"][f"{size}x{size}"] = {
            "sample_clips_per_s": wall, "sample_clips_per_cpu_s": cpu,
            "worldclips_clips_per_s": stream_wall, "worldclips_clips_per_cpu_s": stream_cpu,
            "ms_per_clip": _stages(size, args.stage_clips),
        }
    wall, cpu = _rate(lambda s: world.sample(s, outcome="miss"), args.seconds / 2)
    out["hoop_outcome_constraint"] = {"clips_per_s": wall, "clips_per_cpu_s": cpu}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
