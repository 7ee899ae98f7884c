"""Fire concurrent gradio_client jobs at a running demo and classify every outcome.

Used by the load test (tests/test_demo_load.py) and the benchmark (benchmarks/bench_demo.py):

    outcomes = hammer(app.local_url, jobs=8, steps=2, frames=4)
    summary(outcomes)   # counts per kind + latency percentiles (seconds)

Each job is its own client (its own browser-like session). Kinds: "clip" (an mp4 came back),
"queue_full" (the server refused it because the queue is full), "error" (anything else, with the
message), "hung" (no answer within `timeout`). A healthy server gives only the first two.
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

import numpy as np

KINDS = ("clip", "queue_full", "error", "hung")


@dataclass
class Outcome:
    kind: str
    seconds: float
    detail: str = ""


def _one(url: str, start: threading.Barrier, prompt: str, seed: int, params: dict) -> Outcome:
    from gradio_client import Client
    from gradio_client.utils import QueueError

    client = Client(url, verbose=False)
    try:
        start.wait()
        t0 = time.perf_counter()
        try:
            path, _ = client.predict(prompt, seed=seed, api_name="/generate", **params)
        except QueueError as exc:
            return Outcome("queue_full", time.perf_counter() - t0, str(exc))
        except Exception as exc:  # noqa: BLE001 - classified and reported, not hidden
            return Outcome("error", time.perf_counter() - t0, f"{type(exc).__name__}: {exc}")
        ok = Path(path).is_file() and Path(path).stat().st_size > 0
        return Outcome("clip" if ok else "error", time.perf_counter() - t0, str(path))
    finally:
        client.close()


def hammer(url: str, jobs: int = 8, prompt: str = "a red ball is thrown to the right and bounces twice",
           timeout: float = 300.0, first_seed: int = 0, **params) -> list[Outcome]:
    """`jobs` clients call /generate at the same moment, one Outcome each, in order.

    Seeds are first_seed, first_seed + 1, ...: distinct recipes, so the demo's result cache never
    answers for the model (give later bursts new seeds too).
    """
    start = threading.Barrier(jobs)
    pool = ThreadPoolExecutor(max_workers=jobs)
    futures = [pool.submit(_one, url, start, prompt, first_seed + i, params) for i in range(jobs)]
    done, _ = wait(futures, timeout=timeout)
    pool.shutdown(wait=False, cancel_futures=True)
    return [f.result() if f in done else Outcome("hung", timeout, "no answer") for f in futures]


def summary(outcomes: list[Outcome]) -> dict:
    """Counts per kind and latency percentiles of the finished clips and of the refusals (seconds)."""
    def pct(kind):
        t = np.array([o.seconds for o in outcomes if o.kind == kind])
        if t.size == 0:
            return None
        return {f"p{q}": round(float(np.percentile(t, q)), 3) for q in (50, 90, 99)} | {"max": round(float(t.max()), 3)}

    return {"jobs": len(outcomes), **{k: sum(o.kind == k for o in outcomes) for k in KINDS},
            "clip_latency_s": pct("clip"), "queue_full_latency_s": pct("queue_full"),
            "errors": [o.detail for o in outcomes if o.kind in ("error", "hung")]}
