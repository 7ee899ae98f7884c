"""Sampling a Recipe for the widgets (step progress, optional attention capture) and the Generation
it gives: the clip with its completed recipe (model, sizes, frame hash), ready for `export`.

`Recipe` itself lives in `sorakit.recipe`; it is re-exported here for older imports.
"""
from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..limits import DEFAULT_FPS
from ..recipe import Recipe

__all__ = ["Generation", "Recipe", "quiet_progress", "run_recipe"]


@dataclass
class Generation:
    recipe: Recipe                      # completed: run_by(pipe) and with_video(video)
    video: np.ndarray                   # (F, H, W, 3) float32 in [0, 1]
    fps: float
    seconds: float = 0.0
    capture: object | None = field(default=None, repr=False)  # attention capture, when one was taken

    def metadata(self) -> dict:
        """The recipe as a dict (what export stores)."""
        return self.recipe.to_dict()


@contextlib.contextmanager
def quiet_progress(pipe):
    """Hide the pipeline's own tqdm bar while a widget shows progress; restore the user's setting after."""
    saved = dict(getattr(pipe, "_progress_bar_config", {}) or {})
    pipe.set_progress_bar_config(**{**saved, "disable": True})
    try:
        yield
    finally:
        pipe._progress_bar_config = saved


def run_recipe(pipe, recipe: Recipe, on_step: Callable[[int, int], None] | None = None,
               capture: Callable | None = None, moderation=True) -> Generation:
    """Sample one clip. `on_step(done, total)` is called after every denoising step.

    `capture(pipe)`, if given, is a context manager (e.g. `attention.capture`) entered around the
    call; the object it yields is kept on the Generation. `moderation` (True: the policy in use; a
    sorakit.safety.Moderation; False: off) checks the prompt before sampling and the clip after:
    a refusal is a PolicyRefusal (a ValueError) naming the category.
    """
    from ..families.defaults import call_kwargs
    from ..safety import resolve

    moderation = resolve(moderation)
    if moderation is not None:
        moderation.check_recipe(recipe)
    recipe = recipe.run_by(pipe)
    kwargs = call_kwargs(pipe, recipe)

    def step_end(_pipe, i, _t, tensors):
        if on_step is not None:
            on_step(i + 1, recipe.steps)
        return tensors

    start = time.perf_counter()
    with quiet_progress(pipe), (capture(pipe) if capture else contextlib.nullcontext()) as cap:
        out = pipe(**kwargs, callback_on_step_end=step_end)
    video = np.asarray(out.frames[0])
    if moderation is not None:
        moderation.check_clip(video, recipe)
    fps = recipe.fps if recipe.fps is not None else DEFAULT_FPS
    return Generation(recipe.with_video(video), video, fps, time.perf_counter() - start, cap)
