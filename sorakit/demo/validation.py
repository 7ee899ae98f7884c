"""What the demo accepts, and turning accepted inputs into a Recipe.

Each check returns None (fine) or a message saying what is allowed; the ranges are sorakit.limits'
(the demo_* ones where a shared server needs tighter bounds than a Python caller).

The same checks run twice: in the event's `validator=` (before the job enters the queue, so a bad
request never waits behind others; the browser paints the message on the offending field and
gradio_client raises `ValidationError`), and again inside the handler, raising `gr.Error`, for
callers that bypass the validator (direct Python calls). Numbers are checked here rather than by
the sliders' own min/max, whose preprocessing error reaches API clients only as an opaque HTTP 400.
"""
from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any, Sequence

import numpy as np

from ..attention.words import merge_words, normalize
from ..families.defaults import SORAKIT, pipeline_defaults
from ..limits import LIMITS, Limits, text_error
from ..recipe import Recipe

__all__ = ["Checks", "Limits", "RefusedImage", "as_validations", "clip_error", "film_error", "float_error",
           "image_error", "int_error", "load_first_frame", "prompt_error", "raise_first", "word_error"]


class RefusedImage(str):
    """What the Image input hands on instead of a path when it refused the upload unread (the text says why)."""


def prompt_error(text: Any, tokenizer=None, max_tokens: int | None = None, *, limits: Limits = LIMITS,
                 name: str = "prompt", required: bool = True) -> str | None:
    if text is None:
        text = ""
    if not isinstance(text, str):
        return f"{name} must be text; got {type(text).__name__}"
    if required and not text.strip():
        return f"{name} is empty: describe the clip, e.g. 'a red ball bounces on the floor'"
    if len(text) > limits.prompt_chars:
        return f"{name} is {len(text)} characters; at most {limits.prompt_chars} are allowed"
    if (error := text_error(name, text)) is not None:  # before the tokenizer, whose TypeError says nothing
        return error
    if tokenizer is not None and max_tokens and text.strip():
        n = len(tokenizer(text).input_ids)
        if n > max_tokens:
            return (f"{name} is {n} tokens; the model reads at most {max_tokens} "
                    f"(about {max_tokens * 3 // 4} words): shorten it")
    return None


def int_error(name: str, value: Any, bounds: tuple[int, int]) -> str | None:
    lo, hi = bounds
    ok = isinstance(value, Integral) or (isinstance(value, Real) and math.isfinite(value) and value == int(value))
    if isinstance(value, bool) or not ok or not lo <= value <= hi:
        return f"{name} must be a whole number from {lo} to {hi}; got {value!r}"
    return None


def float_error(name: str, value: Any, bounds: tuple[float, float]) -> str | None:
    lo, hi = bounds
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value) or not lo <= value <= hi:
        return f"{name} must be a number from {lo:g} to {hi:g}; got {value!r}"
    return None


def _check_header(im, height: int, width: int, limits: Limits) -> None:
    lo, hi = limits.image_side
    w, h = im.size
    if min(w, h) < lo or max(w, h) > hi:
        raise ValueError(f"first frame is {w}x{h} px; each side must be {lo} to {hi} px")
    if max(w, h) / min(w, h) > limits.image_aspect + 1e-9:
        raise ValueError(f"first frame is {w}x{h} px; the model makes {width}x{height} frames, so "
                         f"use a roughly square image (sides within {limits.image_aspect:.2f}:1)")


def _open_image(path: str, height: int, width: int, limits: Limits, decode: bool):
    from PIL import Image, UnidentifiedImageError

    if isinstance(path, RefusedImage):
        raise ValueError(str(path))
    try:
        with Image.open(path) as im:  # reads the header only
            _check_header(im, height, width, limits)
            return im.convert("RGB").resize((width, height), Image.Resampling.BOX) if decode else None
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ValueError(f"first frame is not a readable image (PNG, JPEG, WebP...): {exc}") from None


def load_first_frame(path: str, height: int, width: int, limits: Limits = LIMITS) -> np.ndarray:
    """An uploaded image as the model's first frame: (height, width, 3) float32 in [0, 1].

    Roughly square images of a sane size are area-resized to height x width; others raise ValueError
    (from the header, before decoding). Decoding happens here, inside the job, not in the validator.
    """
    return np.asarray(_open_image(path, height, width, limits, decode=True), np.float32) / 255.0


def forget_upload(path: Any) -> None:
    """Delete a refused upload from Gradio's upload folder (never a file outside it)."""
    import os

    from gradio.utils import get_upload_folder, is_in_or_equal

    if isinstance(path, str) and not isinstance(path, RefusedImage) and os.path.isfile(path):
        if is_in_or_equal(path, get_upload_folder()):
            try:
                os.remove(path)
            except OSError:
                pass


def image_error(path: Any, height: int, width: int, limits: Limits = LIMITS) -> str | None:
    if path is None:
        return None  # optional: text-to-video
    if not isinstance(path, str):
        return f"first frame must be an uploaded image; got {type(path).__name__}"
    try:  # the header only: validators run before the queue, for every request at once
        _open_image(path, height, width, limits, decode=False)
    except ValueError as exc:
        return str(exc)
    return None


def clip_error(path: Any, limits: Limits = LIMITS) -> str | None:
    """An uploaded clip to remix: a video file (mp4, webm, gif...) of a sane, roughly square size, judged
    from its header (the frames are read in the job). None: no clip (the caller may pick another source)."""
    from ..media_read import video_size

    if path is None:
        return None
    if not isinstance(path, str):
        return f"the clip must be an uploaded video file; got {type(path).__name__}"
    try:
        height, width = video_size(path)
    except ValueError as exc:
        return f"the clip is not a video file sorakit reads (mp4, webm, mov, gif): {exc}"
    lo, hi = limits.image_side
    if min(height, width) < lo or max(height, width) > hi:
        return f"the clip is {width}x{height} px; each side must be {lo} to {hi} px"
    if max(height, width) / min(height, width) > limits.image_aspect + 1e-9:
        return (f"the clip is {width}x{height} px; the model's frames are square, so use a roughly square clip "
                f"(sides within {limits.image_aspect:.2f}:1)")
    return None


def film_error(shots: int, frames_per_shot: int, limits: Limits = LIMITS, max_shots: int | None = None) -> str | None:
    """A demo storyboard: 1 to `max_shots` shots whose film (shots x frames per shot) fits `limits.demo_frames`."""
    most = limits.storyboard_shots[1] if max_shots is None else max_shots
    if shots < 1:
        return "the storyboard has no shots: write a prompt for shot 1 (and for the shots that follow it)"
    if shots > most:
        return f"the demo makes storyboards of 1 to {most} shots; got {shots}"
    total, hi = shots * frames_per_shot, limits.demo_frames[1]
    if total > hi:
        return (f"the film would be {shots} x {frames_per_shot} = {total} frames; the demo makes at most {hi}: "
                f"use fewer shots or at most {hi // shots} frames per shot")
    return None


def word_error(word: Any, words: list[str]) -> str | None:
    """`word` must be one of the prompt's `words` (as attention maps split them)."""
    choices = ", ".join(words) or "(the prompt has no words)"
    if not isinstance(word, str) or not normalize(word):
        return f"choose a word of the prompt: {choices}"
    if normalize(word) not in words:
        return f"{word!r} is not a word of the prompt; choose one of: {choices}"
    return None


class Checks:
    """The demo's checks bound to one pipeline (its tokenizer, text length, frame size and what it accepts:
    `sorakit.families.defaults`). size: (height, width) of every clip (default: the pipeline's)."""

    def __init__(self, pipe, limits: Limits = LIMITS, size: tuple[int, int] | None = None):
        self.pipe, self.limits = pipe, limits
        self.spec = pipeline_defaults(pipe)
        self.tokenizer = getattr(pipe, "tokenizer", None)
        self.max_tokens = pipe.config.get("max_text_tokens")
        self.height, self.width = size or (self.spec.height, self.spec.width)
        errors = [self.spec.size_error(name, value, *LIMITS.clip_side)
                  for name, value in (("height", self.height), ("width", self.width))]
        if size is not None and any(errors):
            raise ValueError(next(e for e in errors if e))
        # sorakit's pipeline makes its own size unless told; a diffusers pipeline is always told the demo's
        self.sizes = {} if size is None and self.spec.family == SORAKIT else dict(height=self.height, width=self.width)

    def default_frames(self) -> int:
        """The pipeline's default frame count, or the nearest one the demo allows."""
        return self.spec.fit_frames(*self.limits.demo_frames)

    def image_use_error(self, image) -> str | None:
        """Whether this pipeline takes a first frame (and needs one)."""
        if image is not None and self.spec.first_frame is None:
            return f"this model ({self.spec.pipeline}) makes clips from text alone: remove the first frame"
        if image is None and self.spec.first_frame_required:
            return f"this model ({self.spec.pipeline}) makes a clip from a first frame: upload one"
        return None

    def words(self, prompt: Any) -> list[str]:
        """The prompt's words as the attention maps name them (sub-words merged, lower case, no repeats)."""
        if not isinstance(prompt, str) or not prompt.strip() or self.tokenizer is None:
            return []
        ids = self.tokenizer(prompt, truncation=True, max_length=self.max_tokens).input_ids
        return list(dict.fromkeys(w for w, _ in merge_words(self.tokenizer, ids)))

    def recipe(self, prompt, negative_prompt, seed, steps, guidance, frames, image) -> list[str | None]:
        """One message-or-None per field, in this order. frames None: the pipeline's own count."""
        lim = self.limits
        frames = self.default_frames() if frames is None else frames
        errors = [
            prompt_error(prompt, self.tokenizer, self.max_tokens, limits=lim),
            prompt_error(negative_prompt, self.tokenizer, self.max_tokens, limits=lim,
                         name="negative prompt", required=False),
            int_error("seed", seed, lim.seed),
            int_error("steps", steps, lim.demo_steps) or self.spec.steps_error(steps),
            float_error("guidance", guidance, lim.demo_guidance),
            int_error("frames", frames, lim.demo_frames) or self.spec.frames_error(int(frames), *lim.demo_frames),
        ]
        # The image last, and only when everything else is fine: a refused request opens no file.
        image_check = None if any(errors) else (self.image_use_error(image)
                                                or image_error(image, self.height, self.width, lim))
        if image_check is not None:
            forget_upload(image)  # useless to anyone: do not keep it in the cache for an hour
        return [*errors, image_check]

    def accept(self, prompt, negative_prompt, seed, steps, guidance, frames, image) -> tuple[Recipe, np.ndarray | None]:
        """Checked inputs -> (the clip's Recipe, the first frame to condition on or None); gr.Error if bad."""
        frames = self.default_frames() if frames is None else frames  # a direct call's default: the model's length
        raise_first(self.recipe(prompt, negative_prompt, seed, steps, guidance, frames, image))
        try:
            first = None if image is None else load_first_frame(image, self.height, self.width, self.limits)
        except ValueError as exc:  # a header that lied: decoding failed inside the job
            raise_first([str(exc)])
        recipe = Recipe.from_call(self.pipe, prompt.strip(), negative_prompt=(negative_prompt or "").strip(),
                                  seed=int(seed), steps=int(steps), guidance=float(guidance), frames=int(frames),
                                  first_frame=first, **self.sizes)
        return recipe, first


def as_validations(errors: Sequence[str | None]) -> list[dict]:
    """Checks -> the list of `gr.validate` a Gradio validator returns (one per input)."""
    import gradio as gr

    return [gr.validate(e is None, e or "") for e in errors]


def raise_first(errors: Sequence[str | None]) -> None:
    """Checks -> `gr.Error` with the first message (handlers re-check what validators checked)."""
    import gradio as gr

    for e in errors:
        if e is not None:
            raise gr.Error(e)
