"""Attention capture on every supported family: overhead and stored bytes on the tiny offline builds,
and the planned storage for real checkpoint sizes (from configs alone, on the meta device).

Overhead: sampling with `attention.capture(pipe)` (all layers, all steps, word maps) vs without, modes
interleaved over repeats, medians of this process's CPU time (one torch thread). Tiny builds have a
handful of tokens, so their ratios overstate what recording costs relative to a real model's compute
only where the Python bookkeeping dominates; treat them as an upper bound. Prints one JSON document.
"""
from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sorakit import attention  # noqa: E402
from sorakit.families import tiny  # noqa: E402

PROMPT = "a red ball is thrown to the right and bounces twice"
REPEATS = 5
# Real checkpoints: transformer config (only what sets depth and patching) + the pipeline's VAE
# compression + a typical call; text tokens of a ~12-word prompt.
REAL = {
    "Wan2.1-T2V-1.3B 81x480x832, 50 steps": (
        "WanTransformer3DModel", dict(num_layers=30, num_attention_heads=12, attention_head_dim=128, ffn_dim=8960,
                                      text_dim=4096, patch_size=(1, 2, 2)), (4, 8), (81, 480, 832, 50)),
    "CogVideoX-2b 49x480x720, 50 steps": (
        "CogVideoXTransformer3DModel", dict(num_layers=30, num_attention_heads=30, attention_head_dim=64),
        (4, 8), (49, 480, 720, 50)),
    "HunyuanVideo 61x544x960, 50 steps": (
        "HunyuanVideoTransformer3DModel", dict(num_layers=20, num_single_layers=40), (4, 8), (61, 544, 960, 50)),
    "LTX-Video 121x480x704, 50 steps": (
        "LTXVideoTransformer3DModel", dict(num_layers=28), (8, 32), (121, 480, 704, 50)),
    "Mochi-1 85x480x848, 64 steps": (
        "MochiTransformer3DModel", dict(num_layers=48), (6, 8), (85, 480, 848, 64)),
}
TEXT_TOKENS = 20


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
    import diffusers
    from accelerate import init_empty_weights

    rows = []
    for name, (cls, config, (s_t, s_s), (frames, height, width, steps)) in REAL.items():
        with init_empty_weights():
            transformer = getattr(diffusers, cls)(**config)
        pipe = SimpleNamespace(transformer=transformer, vae=object(), vae_scale_factor_temporal=s_t,
                               vae_scale_factor_spatial=s_s)
        full = attention.estimate(pipe, frames, height, width, steps, text_tokens=TEXT_TOKENS)
        n_layers = full.layers
        middle, late = range(n_layers // 3, -(-2 * n_layers // 3)), range(2 * steps // 3, steps)
        default = attention.estimate(pipe, frames, height, width, steps, text_tokens=TEXT_TOKENS,
                                     layers=middle, steps=late)
        rows.append({"checkpoint": name, "video_tokens": full.video_tokens, "grid": list(full.grid),
                     "all_layers_all_steps_GiB": round(full.nbytes / 2**30, 2),
                     "middle_third_layers_last_third_steps_GiB": round(default.nbytes / 2**30, 3),
                     "within_default_budget": full.nbytes <= attention.DEFAULT_BUDGET})
    return rows


def main():
    torch.set_num_threads(1)
    families = sys.argv[1:] or list(tiny.FAMILIES)
    print(json.dumps({"tiny": [tiny_family(f) for f in families], "real": real_plans()}, indent=1))


if __name__ == "__main__":
    main()
