"""A generation recipe (what the prompt panel holds) and running it through a pipeline."""
from __future__ import annotations

import contextlib
import time
from dataclasses import asdict, dataclass, field
from typing import Callable

import numpy as np
import torch


@dataclass(frozen=True)
class Recipe:
    prompt: str
    seed: int = 0
    steps: int = 20
    guidance: float = 4.0
    num_frames: int | None = None      # None: the pipeline's default
    negative_prompt: str = ""

    def pipe_kwargs(self) -> dict:
        """Keyword arguments for SpacetimePipeline.__call__ (same seed -> same clip)."""
        if not isinstance(self.seed, (int, np.integer)) or not 0 <= self.seed < 2**63:
            raise ValueError(f"seed must be a non-negative integer; got {self.seed!r}")
        return dict(prompt=self.prompt, negative_prompt=self.negative_prompt or None, num_frames=self.num_frames,
                    num_inference_steps=int(self.steps), guidance_scale=float(self.guidance),
                    generator=torch.Generator().manual_seed(int(self.seed)), output_type="np")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Generation:
    recipe: Recipe
    video: np.ndarray                   # (F, H, W, 3) float32 in [0, 1]
    fps: float
    seconds: float = 0.0
    capture: object | None = field(default=None, repr=False)  # attention capture, when one was taken

    def metadata(self) -> dict:
        return {**self.recipe.to_dict(), "fps": self.fps}


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
               capture: Callable | None = None) -> Generation:
    """Sample one clip. `on_step(done, total)` is called after every denoising step.

    `capture(pipe)`, if given, is a context manager (e.g. `attention.capture`) entered around the
    call; the object it yields is kept on the Generation.
    """
    kwargs = recipe.pipe_kwargs()

    def step_end(_pipe, i, _t, tensors):
        if on_step is not None:
            on_step(i + 1, kwargs["num_inference_steps"])
        return tensors

    start = time.perf_counter()
    with quiet_progress(pipe), (capture(pipe) if capture else contextlib.nullcontext()) as cap:
        out = pipe(**kwargs, callback_on_step_end=step_end)
    return Generation(recipe, np.asarray(out.frames[0]), float(pipe.config.fps), time.perf_counter() - start, cap)
