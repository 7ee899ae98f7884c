"""What training watches besides the loss: sample clips and check them against the world.

The loss says little about whether a coherent ball moves the right way, so every few hundred steps
we sample held-out captions and parse them with `world.track()`. This is the light, training-time
check; `sorakit eval quality` (sorakit.eval.quality) adds the physics probes and the truth rows.
"""
from __future__ import annotations

import numpy as np
import torch

from .. import world
from ..flow import denoising_loss

MONITOR_SEED = 1_000_000  # held-out seeds: training streams start at 0 and never get here
RADIUS_TOL = 0.2  # a persistent ball keeps its radius within 20 %
MONITOR_SCENARIOS = ("throw", "roll", "drop", "hoop", "throw", "roll", "collide", "drop")
DIRECTION_SEED = 1_200_000  # held out too, apart from the monitor's and `eval quality`'s seeds


def monitor_clips(n: int = 8, height: int = 32, width: int = 32, num_frames: int = 16) -> list[world.Clip]:
    return [world.sample(MONITOR_SEED + k, scenario=MONITOR_SCENARIOS[k % len(MONITOR_SCENARIOS)],
                         height=height, width=width, num_frames=num_frames) for k in range(n)]


def direction_clips(n: int = 16, height: int = 32, width: int = 32, num_frames: int = 16) -> list[world.Clip]:
    """Held-out throws and rolls, half to each side."""
    return [world.sample(DIRECTION_SEED + k, scenario=("throw", "roll")[k % 2], direction=("left", "right")[k // 2 % 2],
                         height=height, width=width, num_frames=num_frames) for k in range(n)]


@torch.no_grad()
def direction_reliance(pipe, clips: list[world.Clip], t: float = 0.9, seed: int = 0) -> float:
    """How much the model leans on the direction word: the relative rise of its denoising loss at
    time t when "left" and "right" are swapped in the captions. 0 means the word is ignored.

    Cheap (two forward passes), so training can log it; sampling-based direction needs many clips.
    """
    x0 = pipe.encode(torch.stack([world.to_model_space(c.video) for c in clips]))
    noise = torch.randn(x0.shape, generator=torch.Generator().manual_seed(seed))
    times, given = torch.full((len(clips),), t), torch.zeros(len(clips), 1, x0.shape[2], 1, 1)
    true, swapped = (denoising_loss(pipe.transformer, x0, pipe.encode_text(caps), times, noise, given).item()
                     for caps in ([c.caption for c in clips], [world.mirror_caption(c.caption) for c in clips]))
    return swapped / true - 1


SEEN_SHARE = 0.5  # a colour is in a clip when tracked in at least half of its frames


def seen_colours(tracks: dict) -> dict:
    """The tracks of the colours in the clip (tracked in at least SEEN_SHARE of its frames): the colour check."""
    return {c: t for c, t in tracks.items() if t.present.mean() >= SEEN_SHARE}


def track_scores(video: np.ndarray, truth: world.Clip) -> dict:
    """Colour, count, persistence, direction and motion of a generated clip, parsed by `world.track()`,
    against the clip its caption came from."""
    tracks = world.track(video)
    named = truth.states.color
    seen = seen_colours(tracks)
    colour_ok = all(c in seen for c in named)
    count_ok = set(seen) == set(named) and all(np.median(seen[c].components[seen[c].present]) == 1 for c in named)
    out = {"colour": float(colour_ok), "count": float(count_ok)}
    main = named[0]
    if len(named) == 1:
        out["persistence"] = float(_persists(tracks, main))
    if main in tracks and tracks[main].present.sum() >= 2:
        pos = tracks[main].pos
        ok = tracks[main].present & truth.states.visible[:, 0]
        err = np.linalg.norm(pos[ok] - truth.states.pos[ok, 0], axis=-1)
        out["position_error"] = float(err.mean()) if len(err) else float("nan")
        steps = np.linalg.norm(np.diff(pos, axis=0), axis=-1)
        out["max_jump"] = float(np.nanmax(steps)) if np.isfinite(steps).any() else float("nan")
        if truth.scene.direction is not None:
            first, last = np.flatnonzero(tracks[main].present)[[0, -1]]
            named_way = 1 if truth.scene.direction == "right" else -1
            out["direction"] = float(np.sign(pos[last, 0] - pos[first, 0]) == named_way)
    return out


def _persists(tracks: dict, color: str) -> bool:
    """Exactly one object in every frame: the named ball whole (one blob) in each frame, no other
    ball anywhere, and its radius within RADIUS_TOL of its median."""
    t = tracks.get(color)
    if t is None or not t.present.all() or (np.asarray(t.components) != 1).any():
        return False
    if any(o.present.any() for c, o in tracks.items() if c != color):
        return False
    r = np.asarray(t.radius)
    return bool(np.all(np.abs(r / np.median(r) - 1) <= RADIUS_TOL))


def summarize(scores: list[dict]) -> dict:
    keys = sorted({k for s in scores for k in s})
    return {k: float(np.nanmean([s[k] for s in scores if k in s])) for k in keys}


@torch.no_grad()
def generate(pipe, clips: list[world.Clip], seed: int = 0, steps: int = 20, guidance: float = 4.0) -> np.ndarray:
    """(n, F, H, W, 3) videos for the clips' captions; one batched pipeline call."""
    return pipe([c.caption for c in clips], generator=torch.Generator().manual_seed(seed),
                num_inference_steps=steps, guidance_scale=guidance, output_type="np").frames


def sample_and_score(pipe, clips: list[world.Clip], seed: int = 0, steps: int = 20, guidance: float = 4.0):
    """-> (videos (n, F, H, W, 3), summary dict)."""
    videos = generate(pipe, clips, seed, steps, guidance)
    return videos, summarize([track_scores(v, c) for v, c in zip(videos, clips)])
