"""Cost of attention capture: sampling time with capture vs without, and the memory it keeps.

Targets (cheap enough to leave on): cross-attention capture <= 1.25x the time of plain sampling, with a query map
<= 1.5x. The modes are interleaved over repeats and medians taken, so all ratios come from one run
on the same (possibly busy) machine; ratios use this process's CPU time (one torch thread), which
other processes on the machine disturb far less than wall time (also reported). Memory is what the
capture stores (torch tensors, counted), plus the bound on the transient score chunk. Prints one JSON document.

Model: the shipped weights if present, else the newest training export (copied to a temp dir),
else the default architecture untrained (same cost).
"""
from __future__ import annotations

import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sorakit import attention  # noqa: E402
from sorakit.attention.compute import CHUNK_ELEMENTS  # noqa: E402
from sorakit.loading import WEIGHTS_DIR, assemble, load  # noqa: E402
from sorakit.model import build_transformer  # noqa: E402

PROMPT = "a red ball is thrown to the right and bounces twice"
STEPS, REPEATS = 20, 5
MODES = {
    "plain": None,
    "cross": {},
    "query": {"query": (12, 16, 16)},
    "temporal": {"temporal": True},
}
TARGETS = {"cross": 1.25, "query": 1.5}


def pick_model():
    if (WEIGHTS_DIR / "transformer" / "config.json").exists():
        return load(), "shipped (sorakit/weights)"
    export = ROOT / "runs" / "shipped" / "pipeline"
    if (export / "transformer" / "config.json").exists():
        tmp = Path(tempfile.mkdtemp()) / "pipeline"
        shutil.copytree(export, tmp)
        return load(tmp), "training snapshot (runs/shipped/pipeline)"
    return assemble(build_transformer().eval()), "default config, untrained"


def run(pipe, kwargs):
    """-> (CPU seconds of this process, wall seconds, bytes the capture stores)."""
    gen = torch.Generator().manual_seed(0)
    cpu, wall = time.process_time(), time.perf_counter()
    if kwargs is None:
        pipe(PROMPT, generator=gen, num_inference_steps=STEPS, output_type="np")
        nbytes = 0
    else:
        with attention.capture(pipe, **kwargs) as cap:
            pipe(PROMPT, generator=gen, num_inference_steps=STEPS, output_type="np")
        nbytes = cap.nbytes
    return time.process_time() - cpu, time.perf_counter() - wall, nbytes


def main():
    torch.set_num_threads(1)
    pipe, source = pick_model()
    pipe.set_progress_bar_config(disable=True)
    run(pipe, {})  # warm-up
    cpu, wall = {m: [] for m in MODES}, {m: [] for m in MODES}
    stored = {}
    for _ in range(REPEATS):
        for mode, kwargs in MODES.items():
            c, w, stored[mode] = run(pipe, kwargs)
            cpu[mode].append(c)
            wall[mode].append(w)
    med = {m: statistics.median(t) for m, t in cpu.items()}
    med_wall = {m: statistics.median(t) for m, t in wall.items()}
    ratios = {m: round(med[m] / med["plain"], 3) for m in MODES if m != "plain"}
    result = {
        "benchmark": "attention capture",
        "model": source,
        "clip": [pipe.config.num_frames, pipe.config.height, pipe.config.width],
        "num_inference_steps": STEPS, "guidance_scale": 4.0, "repeats": REPEATS, "threads": 1,
        "median_cpu_seconds": {m: round(s, 3) for m, s in med.items()},
        "ratio_vs_plain": ratios,
        "median_wall_seconds": {m: round(s, 3) for m, s in med_wall.items()},
        "wall_ratio_vs_plain": {m: round(med_wall[m] / med_wall["plain"], 3) for m in MODES if m != "plain"},
        "stored_bytes": {m: stored[m] for m in MODES if m != "plain"},
        "transient_chunk_bytes": CHUNK_ELEMENTS * 4,
        "targets": TARGETS,
        "pass": all(ratios[m] <= t for m, t in TARGETS.items()),
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
