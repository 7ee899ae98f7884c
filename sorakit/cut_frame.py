"""The first frame of a cut: a fresh framing of the same world, with the objects it already holds.

A cut starts a new shot without conditioning on the previous one's frames, so nothing but the
prompt would make its red ball the same red ball. Here the shot is drafted unconditioned (the
model places the objects where the prompt wants them), then its first frame is drawn again by
the world's renderer: every object the draft shows at the position the draft gave it, an object
seen in earlier shots with the colour and radius it had there. The shot is then made conditioned
on that one frame (`frames=`), so it starts with the established objects and moves them as the
prompt says.

The model keeps that frame but, from the next frame on, sizes the ball as its prompt says (measured:
docs/storyboards.md), so `with_sizes` also names each established object's size in a later shot's
prompt (continuing shots too) where the prompt names its colour without a size.
"""
from __future__ import annotations

import re

import numpy as np

from . import world
from .world.captions import SIZE_SYNONYMS

PRESENT = 0.5  # share of a shot's frames an object must be seen in to count as established by it


def shot_objects(video: np.ndarray) -> dict[str, float]:
    """{colour: median radius (world units)} of the objects a shot shows in most of its frames."""
    out = {}
    for colour, track in world.track(np.asarray(video, np.float32)).items():
        present = np.asarray(track.present, bool)
        if present.mean() >= PRESENT:
            out[colour] = float(np.nanmedian(np.asarray(track.radius)[present]))
    return out


_SIZE_WORDS = {w for words in SIZE_SYNONYMS.values() for w in words if w}


def size_name(radius: float) -> str:
    """The world's size word nearest to a radius (world units)."""
    return min(world.SIZES, key=lambda s: abs(world.SIZES[s] - radius))


def with_sizes(prompt: str, established: dict[str, float]) -> str:
    """`prompt` with the size of each established object named before its colour word, unless a size
    word is there already: "the red ball bounces" -> "the large red ball bounces"."""
    words = prompt.split(" ")
    for i, word in enumerate(words):
        colour = re.sub(r"[^a-z]", "", word.lower())
        if colour in established and not (i and words[i - 1].lower() in _SIZE_WORDS):
            words[i] = f"{size_name(established[colour])} {word}"
    return " ".join(words)


def first_frame(draft: np.ndarray, established: dict[str, float]) -> np.ndarray | None:
    """The draft's first frame drawn again with the established objects' radii, or None when the
    draft's first frame shows none of them (then the draft itself is the shot).

    draft: the unconditioned shot (F, H, W, 3) in [0, 1]; established: {colour: radius}.
    """
    draft = np.asarray(draft, np.float32)
    tracks = world.track(draft[:1])
    seen = {c: t for c, t in tracks.items() if bool(np.asarray(t.present)[0])}
    if not any(c in established for c in seen):
        return None
    height, width = draft.shape[1:3]
    balls = []
    for colour, track in seen.items():
        radius = float(established.get(colour, np.asarray(track.radius)[0]))
        x, y = np.asarray(track.pos)[0]
        y = max(float(y), radius)  # a ball drawn larger must not sink into the floor
        balls.append(world.Ball(colour, "medium", radius, float(x), y, 0.0, 0.0, 0.8))
    from .probes.tracking import find_hoop

    scene = world.Scene(seed=0, scenario="several", balls=tuple(balls), hoop=find_hoop(draft))
    pos = np.array([[[b.x, b.y] for b in balls]])
    frame = world.Trajectory(t=np.zeros(1), pos=pos, vel=np.zeros_like(pos))
    video, _ = world.render(scene, frame, height, width)
    return video[0]
