"""PromptPanel: prompt, negative prompt, seed (+ randomize), steps, guidance, frames and Generate.

A progress bar follows the denoising steps (through `callback_on_step_end`); a bad input or a
failed run shows its message in the panel instead of a traceback.
"""
from __future__ import annotations

import random
import traceback
from typing import Callable

import ipywidgets as W

from ..limits import LIMITS
from .messages import error_html
from .recipe import Generation, Recipe, run_recipe

MAX_SEED = LIMITS.seed[1]


class PromptPanel(W.VBox):
    def __init__(self, pipe, prompt: str = "a red ball is thrown to the right and bounces twice", seed: int = 0,
                 steps: int = 20, guidance: float = 4.0, num_frames: int | None = None, negative_prompt: str = "",
                 runner: Callable[..., Generation] = run_recipe):
        self.pipe, self.runner = pipe, runner
        self.result: Generation | None = None
        self.error: str | None = None
        self.error_traceback: str | None = None
        self._handlers: list[Callable[[Generation], None]] = []
        frames = num_frames or int(pipe.config.num_frames)
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
        self.steps = W.IntSlider(steps, min=LIMITS.demo_steps[0], max=max(LIMITS.demo_steps[1], steps),
                                 description="steps")
        self.guidance = W.FloatSlider(guidance, min=LIMITS.demo_guidance[0],
                                      max=max(LIMITS.demo_guidance[1], guidance), step=0.5, description="guidance")
        self.num_frames = W.IntSlider(frames, min=LIMITS.demo_frames[0], max=max(LIMITS.demo_frames[1], frames),
                                      description="frames")
        self.button = W.Button(description="Generate", button_style="primary", icon="play")
        self.progress = W.IntProgress(0, min=0, max=steps, description="", layout=W.Layout(width="160px"))
        self.status = W.HTML("")
        self.randomize.on_click(lambda _: self.randomize_seed())
        self.button.on_click(lambda _: self.generate())
        super().__init__([self.prompt, self.negative, W.HBox([self.seed, self.randomize]), self.steps,
                          self.guidance, self.num_frames, W.HBox([self.button, self.progress]), self.status])
        self.add_class("sorakit-prompt-panel")

    # --- state ------------------------------------------------------------------------------------
    def recipe(self) -> Recipe:
        """The panel's settings (checked against sorakit.limits: ValueError names a bad field)."""
        return Recipe(self.prompt.value, seed=int(self.seed.value), steps=int(self.steps.value),
                      guidance=float(self.guidance.value), frames=int(self.num_frames.value),
                      negative_prompt=self.negative.value)

    def set_recipe(self, recipe: Recipe) -> None:
        """Show a recipe's settings (those it knows) in the panel."""
        self.prompt.value, self.negative.value = recipe.prompt, recipe.negative_prompt
        for widget, value in ((self.seed, recipe.seed), (self.steps, recipe.steps), (self.guidance, recipe.guidance),
                              (self.num_frames, recipe.frames)):
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
