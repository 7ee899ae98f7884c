"""A clip as the probes see it: validated frames, tracks, motions and scenery, computed once.

Every probe takes either a video or a Context; `probes.run` builds one Context and passes it
to each probe, so tracking happens once and probes can reuse each other's results.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable

import numpy as np

from .. import world
from .inputs import as_fps, as_prompt, as_video
from .kinematics import Motion, analyse
from .tracking import find_hoop, track


@dataclass
class Context:
    video: np.ndarray  # (F, H, W, 3) float32 in [0, 1]
    fps: float
    prompt: str | None
    tracks: dict[str, world.Track]
    method: str  # "world" or "generic"
    gravity: float = world.GRAVITY  # the reference the gravity probe compares with
    results: dict = field(default_factory=dict, repr=False)  # probe name -> ProbeResult, filled by `result`

    @property
    def frames(self) -> int:
        return len(self.video)

    @cached_property
    def camera(self) -> world.Camera:
        return world.Camera(*self.video.shape[1:3])

    @cached_property
    def motions(self) -> dict[str, Motion]:
        return analyse(self.tracks, self.fps, self.camera, self.gravity, self.hoop) if self.tracks else {}

    @cached_property
    def hoop(self) -> world.Hoop | None:
        return find_hoop(self.video) if self.method == "world" else None

    @property
    def t(self) -> np.ndarray:
        return np.arange(self.frames) / self.fps

    def result(self, name: str, compute: Callable[["Context"], object]):
        """Run a probe once per context (other probes may ask for it again)."""
        if name not in self.results:
            self.results[name] = compute(self)
        return self.results[name]


def unmet(ctx: Context, name: str, frames: int = 1, objects: int = 0):
    """A skipped ProbeResult saying why, when the clip has fewer frames or objects than a probe needs."""
    from .report import skipped

    if ctx.frames < frames:
        return skipped(name, f"needs at least {frames} frames, the clip has {ctx.frames}")
    if len(ctx.motions) < objects:
        return skipped(name, "no object tracked" if not ctx.motions
                       else f"needs {objects} objects, the clip has {len(ctx.motions)}")
    return None


def prepare(video, fps=None, prompt=None, tracker: str = "auto", gravity: float | None = None) -> Context:
    """Context for `video` (or `video` itself when it already is one)."""
    if isinstance(video, Context):
        return video
    frames = as_video(video)
    if hasattr(video, "detach") or (isinstance(video, np.ndarray) and np.shares_memory(frames, video)):
        frames = frames.copy()  # the Context owns its frames: later edits to the caller's array do not reach it
    if gravity is not None and (not np.isfinite(gravity) or gravity <= 0):
        raise ValueError(f"gravity must be a positive number, got {gravity!r}")
    tracks, method = track(frames, tracker)
    return Context(frames, as_fps(fps), as_prompt(prompt), tracks, method,
                   world.GRAVITY if gravity is None else float(gravity))
