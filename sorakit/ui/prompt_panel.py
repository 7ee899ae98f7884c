"""PromptPanel: prompt, negative prompt, seed (+ randomize), steps, guidance, frames (and for a diffusers
pipeline, height and width) and Generate. Defaults and allowed values follow the pipeline
(`sorakit.families.defaults`): e.g. Wan's 4k+1 frame counts, no negative prompt where it takes none.

A progress bar follows the denoising steps (through `callback_on_step_end`); a bad input or a
failed run shows its message in the panel instead of a traceback.
"""
from __future__ import annotations

import random
import traceback
from typing import Callable

import ipywidgets as W

from ..families.defaults import PipelineDefaults, pipeline_defaults
from ..limits import LIMITS
from .messages import error_html
from .recipe import Generation, Recipe, run_recipe

MAX_SEED = LIMITS.seed[1]


def step_sliders(spec: PipelineDefaults, steps: int, guidance: float) -> tuple[W.IntSlider, W.FloatSlider]:
    """Steps and guidance over the demo's ranges (a click stays seconds); a Python caller may ask for more."""
    low = max(LIMITS.demo_steps[0], spec.min_steps)
    return (W.IntSlider(steps, min=low, max=max(LIMITS.demo_steps[1], steps), description="steps"),
            W.FloatSlider(guidance, min=LIMITS.demo_guidance[0], max=max(LIMITS.demo_guidance[1], guidance),
                          step=0.5, description="guidance"))


def frames_slider(spec: PipelineDefaults, frames: int) -> W.IntSlider:
    """Frame counts the pipeline takes (its VAE's k*step+1) within the demo's range, or up to `frames`."""
    allowed = spec.allowed_frames(LIMITS.demo_frames[0], max(LIMITS.demo_frames[1], frames))
    return W.IntSlider(frames, min=allowed[0], max=allowed[-1], step=spec.frame_step, description="frames")


def size_slider(spec: PipelineDefaults, name: str, value: int) -> W.IntSlider:
    """Height or width in the pipeline's multiples (its VAE's compression x the patch)."""
    step = spec.size_step
    low = -(-LIMITS.side[0] // step) * step
    return W.IntSlider(value, min=low, max=max(LIMITS.side[1] // step * step, value), step=step, description=name)


class PromptPanel(W.VBox):
    def __init__(self, pipe, prompt: str = "a red ball is thrown to the right and bounces twice", seed: int = 0,
                 steps: int | None = None, guidance: float | None = None, num_frames: int | None = None,
                 negative_prompt: str = "", runner: Callable[..., Generation] = run_recipe,
                 height: int | None = None, width: int | None = None):
        """steps, guidance, num_frames, height, width: None for the pipeline's defaults."""
        self.pipe, self.runner = pipe, runner
        self.spec = spec = pipeline_defaults(pipe)
        steps = spec.steps if steps is None else steps
        guidance = spec.guidance if guidance is None else guidance
        self.result: Generation | None = None
        self.error: str | None = None
        self.error_traceback: str | None = None
        self._handlers: list[Callable[[Generation], None]] = []
        frames = num_frames or spec.num_frames
        wide = W.Layout(width="100%")
        self.prompt = W.Textarea(prompt, placeholder="describe a clip, e.g. 'a blue ball rolls to the left'",
                                 description="prompt", rows=2, layout=wide)
        self.negative = W.Text(negative_prompt, placeholder="(optional) what to avoid", description="negative",
                               layout=wide)
        self.seed = W.BoundedIntText(seed, min=LIMITS.seed[0], max=MAX_SEED, description="seed",
                                     layout=W.Layout(width="200px"))
        self.seed.add_class("sorakit-seed")
        self.randomize = W.Button(description="", icon="random", tooltip="random seed", layout=W.Layout(width="40px"))
        # The sliders span the demo's ranges (a click stays seconds); a Python caller may ask for more.
        self.steps, self.guidance = step_sliders(spec, steps, guidance)
        self.num_frames = frames_slider(spec, frames)
        self.height = size_slider(spec, "height", height or spec.height)
        self.width = size_slider(spec, "width", width or spec.width)
        self.button = W.Button(description="Generate", button_style="primary", icon="play")
        self.progress = W.IntProgress(0, min=0, max=steps, description="", layout=W.Layout(width="160px"))
        self.status = W.HTML("")
        self.randomize.on_click(lambda _: self.randomize_seed())
        self.button.on_click(lambda _: self.generate())
        negative = [self.negative] if spec.negative_prompt else []
        sizes = [self.height, self.width] if spec.sizes else []
        super().__init__([self.prompt, *negative, W.HBox([self.seed, self.randomize]), self.steps,
                          self.guidance, self.num_frames, *sizes, W.HBox([self.button, self.progress]), self.status])
        self.add_class("sorakit-prompt-panel")

    # --- state ------------------------------------------------------------------------------------
    def recipe(self) -> Recipe:
        """The panel's settings (checked against sorakit.limits: ValueError names a bad field; what the
        pipeline accepts is checked before sampling, naming the allowed values)."""
        sizes = dict(height=int(self.height.value), width=int(self.width.value)) if self.spec.sizes else {}
        return Recipe(self.prompt.value, seed=int(self.seed.value), steps=int(self.steps.value),
                      guidance=float(self.guidance.value), frames=int(self.num_frames.value),
                      negative_prompt=self.negative.value if self.spec.negative_prompt else "", **sizes)

    def set_recipe(self, recipe: Recipe) -> None:
        """Show a recipe's settings (those it knows) in the panel."""
        self.prompt.value, self.negative.value = recipe.prompt, recipe.negative_prompt
        for widget, value in ((self.seed, recipe.seed), (self.steps, recipe.steps), (self.guidance, recipe.guidance),
                              (self.num_frames, recipe.frames), (self.height, recipe.height),
                              (self.width, recipe.width)):
            if value is not None:
                widget.value = value

    def randomize_seed(self) -> int:
        self.seed.value = random.randint(*LIMITS.seed)
        return self.seed.value

    def on_result(self, handler: Callable[[Generation], None]) -> None:
        """Call handler(generation) after every successful Generate."""
        self._handlers.append(handler)

    # --- actions ----------------------------------------------------------------------------------
    def _on_step(self, done: int, total: int) -> None:
        self.progress.max, self.progress.value = total, done
        self.status.value = f"step {done}/{total}"

    def show_error(self, exc: BaseException) -> None:
        """Show `exc` in the panel (a ValueError is the user's to fix; anything else is reported as a failure)."""
        kind = "" if isinstance(exc, ValueError) else f"{type(exc).__name__}: "
        self.error = f"{kind}{exc}"
        self.error_traceback = "".join(traceback.format_exception(exc))
        self.status.value = error_html(self.error)
        self.progress.bar_style = "danger"

    def generate(self) -> Generation | None:
        """Run the recipe in the panel; returns the Generation, or None after showing an error."""
        self.error = self.error_traceback = None
        self.button.disabled = True
        self.progress.bar_style, self.progress.value = "", 0
        self.status.value = "starting…"
        try:
            result = self.runner(self.pipe, self.recipe(), on_step=self._on_step)
            self.result = result
            self.status.value = f"done in {result.seconds:.1f} s"
            self.progress.bar_style = "success"
            for handler in self._handlers:
                handler(result)
            return result
        except Exception as exc:  # shown in the widget: a notebook user should not get a traceback
            self.show_error(exc)
            return None
        finally:
            self.button.disabled = False
