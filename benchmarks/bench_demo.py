"""The demo under load: 8 gradio_client users press Generate at the same moment.

One server (the shipped model, concurrency 1, default queue) gets a burst of 8 concurrent /generate
jobs; then a second server with a small queue (3) gets the same burst, to time the refusals.
Reports counts (clip / queue_full / error / hung) and latency percentiles in seconds, next to the
latency of one job alone, measured in the same run: `p50_over_single` and `p99_over_single` say how
much waiting a burst adds; `burst_over_serial` compares the burst's wall time with 8 lone jobs
(1.0 = no overhead from the queue and the clients). Prints one JSON document.

    python benchmarks/bench_demo.py [--steps 20] [--jobs 8]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sorakit import demo  # noqa: E402
from sorakit.demo.loadtest import hammer, summary  # noqa: E402
from sorakit.loading import WEIGHTS_DIR, assemble, load  # noqa: E402
from sorakit.model import build_transformer  # noqa: E402


def pick_model():
    if (WEIGHTS_DIR / "transformer" / "config.json").exists():
        return load(), "shipped (sorakit/weights)"
    return assemble(build_transformer().eval()), "default config, untrained (same cost)"


def burst(pipe, jobs: int, queue_size: int, params: dict) -> tuple[dict, float]:
    app = demo.launch(pipe, queue_size=queue_size, prevent_thread_lock=True, quiet=True)
    try:
        hammer(app.local_url, jobs=1, first_seed=10_000, **params)  # warm-up: one-off costs
        t0 = time.perf_counter()
        stats = summary(hammer(app.local_url, jobs=jobs, timeout=600, **params))
        return stats, time.perf_counter() - t0
    finally:
        app.close()


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--jobs", type=int, default=8)
    args = parser.parse_args(argv)
    pipe, model = pick_model()
    pipe.set_progress_bar_config(disable=True)
    params = dict(steps=args.steps, frames=args.frames)

    app = demo.launch(pipe, prevent_thread_lock=True, quiet=True)
    try:
        hammer(app.local_url, jobs=1, first_seed=10_000, **params)  # warm-up
        single = statistics.median(  # new seeds each time: the result cache must not answer
            summary(hammer(app.local_url, jobs=1, first_seed=20_000 + i, **params))["clip_latency_s"]["p50"]
            for i in range(3))
    finally:
        app.close()

    full, wall = burst(pipe, args.jobs, demo.app.QUEUE_SIZE, params)
    small, _ = burst(pipe, args.jobs, 3, params)
    lat = full["clip_latency_s"] or {}
    result = {
        "benchmark": "demo_load", "model": model, "steps": args.steps, "frames": args.frames,
        "torch_threads": __import__("torch").get_num_threads(), "concurrency_limit": 1,
        "single_job_s": round(single, 3),
        "burst": {"queue_size": demo.app.QUEUE_SIZE, **full, "wall_s": round(wall, 3)},
        "burst_small_queue": {"queue_size": 3, **small},
        "p50_over_single": round(lat["p50"] / single, 2) if lat else None,
        "p99_over_single": round(lat["p99"] / single, 2) if lat else None,
        "burst_over_serial": round(wall / (args.jobs * single), 2),
        "ok": full["hung"] == full["error"] == small["hung"] == small["error"] == 0
              and full["clip"] == args.jobs and small["clip"] + small["queue_full"] == args.jobs,
    }
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    sys.exit(0 if main()["ok"] else 1)
