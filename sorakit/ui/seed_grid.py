"""SeedGrid: prompt variants x seeds, clips looping side by side; click a clip to pick it.

Every clip is sampled alone with its own seed (the same call the prompt panel makes), so a picked
clip is exactly what Generate gives for that prompt and seed. Steps, guidance, frames (and a diffusers
pipeline's height and width) start at the pipeline's defaults (`sorakit.families.defaults`).
"""
from __future__ import annotations

from typing import Callable, Sequence

import anywidget
import ipywidgets as W
import traitlets as t

from ..families.defaults import pipeline_defaults
from ..limits import LIMITS
from .assets import css, esm
from .codec import video_strip
from .fallback import StaticFallback, clip_html
from .messages import error_html
from .prompt_panel import frames_slider, size_slider, step_sliders
from .recipe import Generation, Recipe, run_recipe

MAX_CLIPS = 64


class GridView(anywidget.AnyWidget):
    """The browser grid alone: `clips` is a list of {row, seed, png, frames, height, width}."""

    _esm = esm("seed_grid.js")
    _css = css()
    clips = t.List([]).tag(sync=True)
    columns = t.Int(4).tag(sync=True)
    fps = t.Float(8.0).tag(sync=True)
    size = t.Int(96).tag(sync=True)
    picked = t.Int(-1).tag(sync=True)


def _seed_list(seeds) -> list[int]:
    lo, hi = LIMITS.seed
    seeds = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
    if not seeds or not all(isinstance(s, int) and lo <= s <= hi for s in seeds):
        raise ValueError(f"seeds must be a positive count or a list of whole numbers from {lo} to {hi}; got {seeds!r}")
    return seeds


class SeedGrid(StaticFallback, W.VBox):
    def __init__(self, pipe, prompt: str | Sequence[str] = "a red ball is thrown to the right and bounces twice",
                 seeds: int | Sequence[int] = 4, steps: int | None = None, guidance: float | None = None,
                 negative_prompt: str = "", runner: Callable[..., Generation] = run_recipe,
                 num_frames: int | None = None, height: int | None = None, width: int | None = None):
        """steps, guidance, num_frames, height, width: None for the pipeline's defaults."""
        self.pipe, self.runner = pipe, runner
        self.spec = spec = pipeline_defaults(pipe)
        self.generations: list[Generation] = []
        self._handlers: list[Callable[[Generation], None]] = []
        variants = [prompt] if isinstance(prompt, str) else list(prompt)
        self.variants = W.Textarea("\n".join(variants), description="prompts", rows=max(2, len(variants)),
                                   placeholder="one prompt per line", layout=W.Layout(width="100%"))
        seeds = _seed_list(seeds)
        self.seeds = W.Text(", ".join(map(str, seeds)), description="seeds")
        self.seeds.add_class("sorakit-seeds")
        self.steps, self.guidance = step_sliders(spec, spec.steps if steps is None else steps,
                                                 spec.guidance if guidance is None else guidance)
        self.num_frames = frames_slider(spec, num_frames or spec.num_frames)
        self.height = size_slider(spec, "height", height or spec.height)
        self.width = size_slider(spec, "width", width or spec.width)
        self.negative_prompt = negative_prompt if spec.negative_prompt else ""
        self.button = W.Button(description="Run grid", icon="th")
        self.progress = W.IntProgress(0, min=0, max=1, layout=W.Layout(width="160px"))
        self.status = W.HTML("")
        self.view = GridView(fps=spec.fps, columns=len(seeds))
        self.view.on_msg(self._on_browser_msg)
        self.button.on_click(lambda _: self.run())
        sizes = [self.height, self.width] if spec.sizes else []
        super().__init__([self.variants, self.seeds, self.steps, self.guidance, self.num_frames, *sizes,
                          W.HBox([self.button, self.progress]), self.status, self.view])

    def recipes(self) -> list[Recipe]:
        prompts = [p.strip() for p in self.variants.value.splitlines() if p.strip()]
        if not prompts:
            raise ValueError("write at least one prompt (one per line)")
        try:
            seeds = _seed_list([int(s) for s in self.seeds.value.replace(",", " ").split()])
        except ValueError:
            raise ValueError(f"seeds must be whole numbers from {LIMITS.seed[0]} to {LIMITS.seed[1]} separated by "
                             f"commas; got {self.seeds.value!r}") from None
        if len(prompts) * len(seeds) > MAX_CLIPS:
            raise ValueError(f"{len(prompts)} prompts x {len(seeds)} seeds is more than {MAX_CLIPS} clips")
        sizes = dict(height=int(self.height.value), width=int(self.width.value)) if self.spec.sizes else {}
        frames, steps = int(self.num_frames.value), int(self.steps.value)
        return [Recipe(p, seed=s, steps=steps, guidance=float(self.guidance.value), frames=frames,
                       negative_prompt=self.negative_prompt, **sizes) for p in prompts for s in seeds]

    def run(self) -> list[Generation]:
        """Sample every prompt x seed; errors are shown in the widget (and an empty list returned)."""
        self.button.disabled = True
        try:
            recipes = self.recipes()
            total = sum(r.steps for r in recipes)
            self.progress.max, self.progress.value, self.progress.bar_style = total, 0, ""
            gens: list[Generation] = []
            for r in recipes:
                done_before = self.progress.value
                gens.append(self.runner(self.pipe, r,
                                        on_step=lambda d, _n, b=done_before: setattr(self.progress, "value", b + d)))
                self.status.value = f"{len(gens)}/{len(recipes)} clips"
            self._show(gens)
            self.progress.bar_style = "success"
            return gens
        except Exception as exc:
            self.status.value = error_html(exc)
            self.progress.bar_style = "danger"
            return []
        finally:
            self.button.disabled = False

    def _show(self, gens: list[Generation]) -> None:
        self.generations = gens
        clips = []
        for g in gens:
            data, (f, h, w) = video_strip(g.video)
            clips.append(dict(row=g.recipe.prompt, seed=g.recipe.seed, png=data, frames=f, height=h, width=w))
        with self.view.hold_sync():
            self.view.columns = len({g.recipe.seed for g in gens}) or 1
            self.view.picked = -1
            self.view.clips = clips

    def on_pick(self, handler: Callable[[Generation], None]) -> None:
        """Call handler(generation) when a clip is clicked."""
        self._handlers.append(handler)

    def pick(self, index: int) -> Generation:
        if not 0 <= index < len(self.generations):
            raise ValueError(f"no clip {index}: the grid holds {len(self.generations)}")
        self.view.picked = index
        for handler in self._handlers:
            handler(self.generations[index])
        return self.generations[index]

    def _on_browser_msg(self, _widget, content, _buffers) -> None:
        if isinstance(content, dict) and content.get("event") == "pick":
            try:
                self.pick(int(content.get("index", -1)))
            except ValueError as exc:
                self.status.value = error_html(exc)

    def _fallback(self):
        if not self.generations:
            return None, None
        cells = "".join(clip_html(g.video, g.fps, f"seed {g.recipe.seed}: {g.recipe.prompt}", width=128)
                        for g in self.generations)
        return f"<div>{cells}</div>", None
