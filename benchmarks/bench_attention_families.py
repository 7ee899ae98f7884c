"""Attention capture on every supported family: overhead and stored bytes on the tiny offline builds,
and the planned storage for real checkpoint sizes (from configs alone, on the meta device).

Overhead: sampling with `attention.capture(pipe)` (all layers, all steps, word maps) vs without, modes
interleaved over repeats, medians of this process's CPU time (one torch thread). Tiny builds have a
handful of tokens, so their ratios overstate what recording costs relative to a real model's compute
only where the Python bookkeeping dominates; treat them as an upper bound. Prints one JSON document.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sorakit import attention  # noqa: E402
from sorakit.families import checkpoints, tiny  # noqa: E402

PROMPT = "a red ball is thrown to the right and bounces twice"
REPEATS = 5
TEXT_TOKENS = 20  # real checkpoints' plans: the real tokens of a ~12-word prompt


def cpu_time(fn) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def tiny_family(family: str) -> dict:
    pipe = tiny.build(family)
    call = dict(tiny.CALLS[family], output_type="np")
    run = lambda: pipe(PROMPT, generator=torch.Generator().manual_seed(0), **call)  # noqa: E731
    caps = []

    def captured():
        with attention.capture(pipe) as cap:
            run()
        caps.append(cap)

    run()  # warm up
    times = {"plain": [], "capture": []}
    for _ in range(REPEATS):
        times["plain"].append(cpu_time(run))
        times["capture"].append(cpu_time(captured))
    plain, cap_s = statistics.median(times["plain"]), statistics.median(times["capture"])
    cap = caps[-1]
    return {"family": family, "tokens": list(cap.grid), "text_tokens": cap.plan.text_tokens,
            "layers": cap.num_layers, "steps": cap.num_steps, "plain_s": round(plain, 3),
            "capture_s": round(cap_s, 3), "overhead": round(cap_s / plain - 1, 3),
            "stored_bytes": cap.nbytes, "estimated_bytes": cap.estimated_bytes}


def real_plans() -> list[dict]:
    rows = []
    for name, spec in checkpoints.CHECKPOINTS.items():
        pipe = checkpoints.meta_pipeline(name)
        frames, height, width, steps = (spec.call[k] for k in ("num_frames", "height", "width", "num_inference_steps"))
        full = attention.estimate(pipe, frames, height, width, steps, text_tokens=TEXT_TOKENS)
        n_layers = full.layers
        middle, late = range(n_layers // 3, -(-2 * n_layers // 3)), range(2 * steps // 3, steps)
        default = attention.estimate(pipe, frames, height, width, steps, text_tokens=TEXT_TOKENS,
                                     layers=middle, steps=late)
        rows.append({"checkpoint": f"{name} {spec.describe()}", "video_tokens": full.video_tokens,
                     "grid": list(full.grid), "all_layers_all_steps_GiB": round(full.nbytes / 2**30, 2),
                     "middle_third_layers_last_third_steps_GiB": round(default.nbytes / 2**30, 3),
                     "within_default_budget": full.nbytes <= attention.DEFAULT_BUDGET})
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("families", nargs="*", metavar="family",
                        help=f"tiny builds to time (default all: {', '.join(tiny.FAMILIES)})")
    families = parser.parse_args().families or list(tiny.FAMILIES)
    unknown = [f for f in families if f not in tiny.FAMILIES]  # (choices= rejects an empty list before 3.12)
    if unknown:
        parser.error(f"unknown family {', '.join(unknown)}; choose from {', '.join(tiny.FAMILIES)}")
    torch.set_num_threads(1)
    print(json.dumps({"tiny": [tiny_family(f) for f in families], "real": real_plans()}, indent=1))


if __name__ == "__main__":
    main()
