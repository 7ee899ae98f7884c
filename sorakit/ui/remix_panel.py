"""RemixPanel: remix (SDEdit, strength 0..1) or extend a source clip with a prompt.

The source is asked for at the click (`source()`), so the panel follows whatever the owner calls
current: the Studio's clip, or a storyboard shot picked on the timeline. The result, with its
recipe naming the source as its parent, goes to `show`. Moderation reads the prompt before
sampling and the clip after, as `run_recipe` does for a plain clip.
"""
from __future__ import annotations

import time
from typing import Callable, NamedTuple

import ipywidgets as W
import numpy as np

from ..limits import DEFAULT_FPS, LIMITS
from ..recipe import Recipe
from .messages import error_html
from .recipe import Generation, quiet_progress


class Source(NamedTuple):
    """What a remix or an extension starts from: the frames, their recipe (the parent) and a name to show."""

    video: np.ndarray
    recipe: Recipe | None
    name: str


class RemixPanel(W.VBox):
    def __init__(self, pipe, source: Callable[[], Source | None], show: Callable[[Generation], None],
                 settings: Callable[[], tuple[int, float]] = lambda: (20, 4.0), strength: float = 0.6,
                 moderation=True):
        """settings(): the (steps, guidance) to sample with, read at the click (the owner's sliders)."""
        from ..safety import resolve

        self.pipe, self.source, self.show = pipe, source, show
        self.moderation = resolve(moderation)
        self.settings = settings
        self.result: Generation | None = None
        self.error: str | None = None
        self.target = W.HTML("")
        self.prompt = W.Text("", placeholder="prompt (empty: the source's own)", description="prompt",
                             layout=W.Layout(width="100%"))
        self.strength = W.FloatSlider(strength, min=0.0, max=1.0, step=0.05, description="strength",
                                      tooltip="0 keeps the clip, 1 ignores it")
        self.remix_button = W.Button(description="Remix", icon="random", tooltip="remake the clip (SDEdit)")
        window = int(pipe.config.get("num_frames", 16))  # a diffusers pipeline's config may not say
        self.add_frames = W.IntSlider(max(1, window // 2), min=1, max=LIMITS.demo_frames[1], description="add frames")
        self.extend_button = W.Button(description="Extend", icon="forward", tooltip="continue the clip")
        self.status = W.HTML("")
        self.remix_button.on_click(lambda _: self.remix())
        self.extend_button.on_click(lambda _: self.extend())
        super().__init__([self.target, self.prompt, W.HBox([self.strength, self.remix_button]),
                          W.HBox([self.add_frames, self.extend_button]), self.status])
        self.add_class("sorakit-remix")
        self.refresh()

    def refresh(self) -> None:
        """Say what Remix and Extend will act on (call when the owner's current clip or shot changes)."""
        src = self.source()
        self.target.value = "<i>no clip yet: generate one first</i>" if src is None else \
            f"<b>source:</b> {_escape(src.name)} ({len(src.video)} frames)"

    def remix(self, strength: float | None = None, prompt: str | None = None) -> Generation | None:
        """Remix the source at `strength` (default: the slider's); returns the new clip or None after an error."""
        from ..remix import remix

        strength = self.strength.value if strength is None else strength
        return self._run("remixing", lambda src, text, steps, guidance: remix(
            self.pipe, src.video, text, strength, parent=_parent(src), num_inference_steps=steps,
            guidance_scale=guidance), prompt)

    def extend(self, add: int | None = None, prompt: str | None = None) -> Generation | None:
        """Continue the source by `add` frames (default: the slider's); returns the new clip or None."""
        from ..remix import extend

        add = self.add_frames.value if add is None else add
        return self._run("extending", lambda src, text, steps, guidance: extend(
            self.pipe, src.video, text, len(src.video) + add, parent=_parent(src), num_inference_steps=steps,
            guidance_scale=guidance), prompt)

    def _run(self, doing: str, make, prompt: str | None) -> Generation | None:
        self.error = None
        self.remix_button.disabled = self.extend_button.disabled = True
        try:
            src = self.source()
            if src is None:
                raise ValueError("no clip yet: generate a clip or a storyboard first")
            text = (self.prompt.value if prompt is None else prompt).strip() or \
                (src.recipe.prompt if src.recipe is not None else "")
            if not text:
                raise ValueError("prompt is empty: say what the new clip shows")
            if self.moderation is not None:
                self.moderation.check_prompt(text)
            self.status.value = f"{doing} {_escape(src.name)}…"
            start = time.perf_counter()
            with quiet_progress(self.pipe):
                derived = make(src, text, *self.settings())
            if self.moderation is not None:
                self.moderation.check_clip(derived.video, derived.recipe)
            fps = derived.recipe.fps or DEFAULT_FPS
            self.result = Generation(derived.recipe, derived.video, fps, time.perf_counter() - start)
            self.status.value = f"done in {self.result.seconds:.1f} s"
            self.show(self.result)
            return self.result
        except Exception as exc:  # shown in the panel: a notebook user should not get a traceback
            self.error = f"{'' if isinstance(exc, ValueError) else type(exc).__name__ + ': '}{exc}"
            self.status.value = error_html(self.error)
            return None
        finally:
            self.remix_button.disabled = self.extend_button.disabled = False
            self.refresh()


def _parent(src: Source) -> Recipe | None:
    return src.recipe  # None: remix names the frames' own hash as the parent


def _escape(text: str) -> str:
    import html

    return html.escape(text)
