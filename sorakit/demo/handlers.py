"""The demo's event handlers: generate a clip, show a word's attention, run the physics probes.

Each handler has a `check_*` twin used as the event's `validator=` (runs before the queue) and
re-checks its inputs itself, so a direct call gets the same `gr.Error`. Argument order is the API
order: `/generate`, `/attention` and `/probe` all take the prompt first.
"""
from __future__ import annotations

import secrets
from typing import Any

import gradio as gr
import numpy as np

from ..media import export
from .files import OutputDir
from .recipe import Recipe, ResultCache
from .validation import Checks, Limits, as_validations, load_first_frame, normalize, raise_first, word_error
from .views import figure_to_image, gallery_items, report_markdown

GALLERY_SIZE = 12  # clips kept in a browser session's gallery (as small animated GIFs)
THUMB_SCALE = 4


class Handlers:
    def __init__(self, pipe, outputs: OutputDir | None = None, limits: Limits = Limits(), cache_size: int = 8):
        self.pipe = pipe
        self.checks = Checks(pipe, limits)
        self.outputs = outputs or OutputDir()
        self.cache = ResultCache(cache_size)
        self.fps = float(pipe.config.get("fps", 8))
        self._model_hash: str | None = None

    # --- shared steps -----------------------------------------------------------------------------
    def _recipe(self, prompt, negative_prompt, seed, steps, guidance, frames, image) -> Recipe:
        raise_first(self.checks.recipe(prompt, negative_prompt, seed, steps, guidance, frames, image))
        first = None if image is None else load_first_frame(image, self.checks.height, self.checks.width,
                                                             self.checks.limits)
        return Recipe(prompt.strip(), (negative_prompt or "").strip(), int(seed), int(steps), float(guidance),
                      int(frames), first)

    def _sample(self, recipe: Recipe, capture: bool = False) -> tuple[np.ndarray, Any]:
        """The recipe's clip (and attention capture if asked), from the cache when possible."""
        cached = self.cache.get(recipe.key)
        if "video" in cached and (not capture or cached.get("capture") is not None):
            return cached["video"], cached.get("capture")
        try:
            if capture:
                from .. import attention

                with attention.capture(self.pipe) as cap:
                    video = recipe.run(self.pipe)
                self.cache.put(recipe.key, video=video, capture=cap)
                return video, cap
            video = recipe.run(self.pipe)
        except ValueError as exc:  # the pipeline's own check_inputs
            raise gr.Error(str(exc)) from None
        self.cache.put(recipe.key, video=video)
        return video, None

    def _export(self, video: np.ndarray, recipe: Recipe, kind: str, **extra) -> str:
        if self._model_hash is None:
            from ..loading import model_hash  # one definition of "which weights made this clip"

            self._model_hash = model_hash(self.pipe) or ""
        meta = {**recipe.metadata(), "model_hash": self._model_hash, "fps": self.fps, **extra}
        return str(export(video, self.outputs.new(kind, ".mp4"), fps=self.fps, metadata=meta))

    # --- /generate --------------------------------------------------------------------------------
    def check_generate(self, prompt, negative_prompt, seed, randomize_seed, steps, guidance, frames, image,
                       gallery=None):
        errors = self.checks.recipe(prompt, negative_prompt, 0 if randomize_seed else seed, steps, guidance,
                                    frames, image)
        return as_validations([*errors[:3], None, *errors[3:], None])  # randomize_seed, gallery: any value

    def generate(self, prompt: str, negative_prompt: str = "", seed: int = 0, randomize_seed: bool = False,
                 steps: int = 20, guidance: float = 4.0, frames: int = 16, image: str | None = None,
                 gallery: list | None = None, progress=gr.Progress(track_tqdm=True)):
        """Text (and optionally a first frame) -> an H.264 mp4. Returns (clip, seed used, session gallery).

        `gallery` is the browser session's list of (clip, caption); a gr.State, so not part of the API.
        """
        if randomize_seed:
            seed = secrets.randbelow(self.checks.limits.seed[1] + 1)
        recipe = self._recipe(prompt, negative_prompt, seed, steps, guidance, frames, image)
        progress(0, desc="sampling")
        video, _ = self._sample(recipe)
        path = self._export(video, recipe, "clip")
        thumb = export(video, self.outputs.new("thumb", ".gif"), fps=self.fps, scale=THUMB_SCALE)
        caption = f"{recipe.prompt} · seed {recipe.seed}"
        return path, recipe.seed, [(str(thumb), caption), *gallery_items(gallery)][:GALLERY_SIZE]

    @staticmethod
    def show_gallery(gallery: list | None) -> list[tuple[str, str]]:
        return gallery_items(gallery)

    # --- /attention -------------------------------------------------------------------------------
    def check_attention(self, prompt, word, negative_prompt, seed, steps, guidance, frames, image):
        errors = self.checks.recipe(prompt, negative_prompt, seed, steps, guidance, frames, image)
        return as_validations([errors[0], word_error(word, self.checks.words(prompt)), *errors[1:]])

    def attention(self, prompt: str, word: str, negative_prompt: str = "", seed: int = 0, steps: int = 20,
                  guidance: float = 4.0, frames: int = 16, image: str | None = None,
                  progress=gr.Progress(track_tqdm=True)) -> str:
        """The clip of this recipe with the chosen word's cross-attention heat laid over it (mp4)."""
        recipe = self._recipe(prompt, negative_prompt, seed, steps, guidance, frames, image)
        raise_first([word_error(word, self.checks.words(prompt))])
        from .. import attention

        progress(0, desc="sampling with attention capture")
        video, cap = self._sample(recipe, capture=True)
        try:
            heat = cap.word_map(word)
        except (KeyError, ValueError) as exc:
            raise gr.Error(f"no attention map for {word!r}: {exc}") from None
        return self._export(attention.overlay(video, heat), recipe, "attention", attention_word=normalize(word))

    def word_choices(self, prompt: str, current: str | None = None):
        """The Attention tab's word list follows the prompt (keeps the chosen word while it is there)."""
        words = self.checks.words(prompt)
        return gr.Dropdown(choices=words, value=current if current in words else (words[0] if words else None))

    # --- /probe -----------------------------------------------------------------------------------
    def check_probe(self, prompt, negative_prompt, seed, steps, guidance, frames, image):
        return as_validations(self.checks.recipe(prompt, negative_prompt, seed, steps, guidance, frames, image))

    def probe(self, prompt: str, negative_prompt: str = "", seed: int = 0, steps: int = 20, guidance: float = 4.0,
              frames: int = 16, image: str | None = None, progress=gr.Progress(track_tqdm=True)):
        """Physics probes on this recipe's clip. Returns (verdicts as markdown, plot image, report dict)."""
        recipe = self._recipe(prompt, negative_prompt, seed, steps, guidance, frames, image)
        from .. import probes

        progress(0, desc="sampling")
        video, _ = self._sample(recipe)
        progress(0.9, desc="probing")
        try:
            report = probes.run(video, prompt=recipe.prompt, fps=self.fps)
        except ValueError as exc:
            raise gr.Error(f"the probes could not read this clip: {exc}") from None
        return report_markdown(report), figure_to_image(report.plot()), report.to_dict()
