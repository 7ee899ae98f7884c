"""add_sound: a soundtrack for any clip, from learned impact timing and the world's procedural synthesis.

ImpactNet (trained on world clips) says when impacts start, what made them and how hard; each is then
synthesised by the same modal synthesis as the world's ground truth (sorakit.world.sound), panned to
where the moving things are in that frame. Nothing here generates waveforms with a network.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from .. import world
from .features import clip_features, foreground_x
from .model import KINDS, ImpactNet, load

WEIGHTS = Path(__file__).resolve().parent.parent / "weights" / "sound"
THRESHOLD = 0.5  # onset probability; the shipped value is in the model's config (tuned on validation seeds)


@lru_cache(maxsize=1)
def shipped_model() -> tuple[ImpactNet, dict]:
    if not (WEIGHTS / "model.safetensors").is_file():
        raise FileNotFoundError(f"the sound model's weights are missing from {WEIGHTS}")
    return load(WEIGHTS)


def predict_impacts(video, fps: float | None = None, model: ImpactNet | None = None,
                    threshold: float | None = None) -> list[world.Impact]:
    """The impacts ImpactNet hears in `video`: kind, onset time, normal speed, x (world units) and, from a
    model with a material head, the restitution of the ball that hit (else the synthesis' default)."""
    from ..probes.inputs import as_fps, as_video

    frames, fps = as_video(video), as_fps(fps)
    if model is None:
        model, config = shipped_model()
        threshold = config.get("threshold", THRESHOLD) if threshold is None else threshold
    threshold = THRESHOLD if threshold is None else threshold
    feats = clip_features(frames, fps, model.config.get("contacts", False), model.bins)
    with torch.no_grad():
        out = model(torch.from_numpy(feats)[None])
    prob = torch.sigmoid(out["onset"][0]).numpy()  # (F, bins)
    kinds = out["kind"][0].argmax(-1).numpy()
    speeds = np.expm1(out["speed"][0].numpy()).clip(0.1, 30)
    radius, default = world.sound.DEFAULT_BALL  # the video gives neither the size nor, without the head, the material
    restitution = torch.sigmoid(out["restitution"][0]).numpy() if "restitution" in out else np.full(prob.shape, default)
    last = len(frames) - 1
    return [world.Impact(KINDS[kinds[f, b]], t, float(speeds[f, b]), 10.0 * foreground_x(frames, min(f + 1, last)),
                         ((radius, float(restitution[f, b])),))
            for f, b, t in _peaks(prob, fps, threshold)]


def _peaks(prob: np.ndarray, fps: float, threshold: float) -> list[tuple[int, int, float]]:
    """Bins above `threshold` that are the most likely within MERGE on either side, as (frame, bin, time)."""
    frames, bins = prob.shape
    flat = prob[:-1].reshape(-1)  # the last frame has no interval after it
    times = (np.arange(flat.size) + 0.5) / bins / fps
    reach = world.sound.MERGE
    found = []
    for j in np.argsort(-flat):
        if flat[j] < threshold:
            break
        if all(abs(times[j] - times[k]) > reach for k in found):
            found.append(j)
    return sorted((int(j // bins), int(j % bins), float(times[j])) for j in found)


def add_sound(video, fps: float | None = None, sample_rate: int = world.SAMPLE_RATE) -> tuple[np.ndarray, int]:
    """(audio, sample_rate): a stereo float32 soundtrack for `video`, as long as the clip plays.

    Learned impact timing (ImpactNet) + procedural synthesis (the world's modal impacts).
    """
    from ..probes.inputs import as_fps, as_video

    frames, fps = as_video(video), as_fps(fps)
    impacts = predict_impacts(frames, fps)
    audio, _ = world.render_impacts(impacts, len(frames) / fps, sample_rate)
    return audio, sample_rate
