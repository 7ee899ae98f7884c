"""`sorakit eval quality`: colour, count, persistence, direction and gravity on clips generated from
held-out captions, each share with the number of clips behind it, beside what the true clips score.

The clips, the `world.track()` checks and the direction-word measure are the training monitor's
(sorakit.training.monitor), so a training log and this report measure the same things; the gravity
probe is added here, where evaluation may use the probes.
"""
from __future__ import annotations

import numpy as np

from .. import world
from ..distributed import map_shared
from ..probes.gravity import gravity
from ..training.monitor import MONITOR_SEED, direction_clips, direction_reliance, generate, monitor_clips, track_scores

GRAVITY_TOL = 0.25  # a free-flight parabola's acceleration within 25 % of the world's g


def score_clip(video: np.ndarray, truth: world.Clip) -> dict:
    """The monitor's `track_scores`, plus "gravity" where the gravity probe found free flight to fit."""
    out = track_scores(video, truth)
    fall = gravity(video, fps=truth.fps)
    if fall.ran:
        out["gravity"] = float(abs(fall.metrics["relative_error"]) <= GRAVITY_TOL)
    return out


def shares(rows: list[dict]) -> dict:
    """Per measure: the mean over the clips it applies to, and how many those are."""
    out = {}
    for key in sorted({k for s in rows for k in s}):
        values = [s[key] for s in rows if key in s and np.isfinite(s[key])]
        if values:
            out[key] = {"mean": float(np.mean(values)), "n": len(values)}
    return out


def evaluate_quality(pipe, n: int = 64, batch_size: int = 16, steps: int = 20, guidance: float = 4.0,
                     progress: bool = True) -> dict:
    """The measures on `n` clips generated from held-out captions (batch b seeded b) and on the true
    clips (what a perfect model scores), plus the direction-word reliance on 16 held-out clips."""
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    cfg = pipe.config
    clips = monitor_clips(n, cfg.height, cfg.width, cfg.num_frames)
    truth = [score_clip(c.video, c) for c in clips]

    def scored(b: int) -> list[dict]:  # batch b is seeded b: the same scores whichever process runs it
        batch = clips[b * batch_size:(b + 1) * batch_size]
        return [score_clip(v, c) for v, c in zip(generate(pipe, batch, seed=b, steps=steps, guidance=guidance), batch)]

    # Under `accelerate launch`, each process generates a share of the batches; all get every score.
    scores = [s for part in map_shared(scored, range(-(-n // batch_size)), desc="quality", progress=progress)
              for s in part]
    reliance = direction_reliance(pipe, direction_clips(16, cfg.height, cfg.width, cfg.num_frames))
    return {"generated": shares(scores), "truth": shares(truth), "direction_reliance": reliance,
            "config": {"n": n, "steps": steps, "guidance": guidance, "seed": MONITOR_SEED}}
