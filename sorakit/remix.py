"""Remix and extend any clip, with the lineage recorded in the new clip's recipe.

`remix` is SDEdit through SpacetimePipeline's own video-to-video path (`video=`, `strength=`): the
clip is noised to the level `strength` sets and the last `strength` fraction of the schedule runs
with the new prompt. `extend` continues a clip past the model's training length, one window at a
time, each conditioned on the last `context` frames through the pipeline's `frames=` conditioning.
Both take a clip from the pipeline (numpy (F, H, W, 3) in [0, 1] or uint8), or the path of an
exported file; a clip of another size is resized to the model's. The result's recipe names its
parent: "remix of <id> at strength s", "extension of <id>".
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from diffusers.utils import logging

from .limits import DEFAULT_FPS, LIMITS
from .recipe import Recipe, video_digest
from .sound.joins import derived_sound, source_sound

__all__ = ["Derived", "extend", "remix"]

logger = logging.get_logger(__name__)

_CLIP = "a video: numpy (F, H, W, 3) of floats in [0, 1] or uint8, or the path of an .mp4/.gif"


@dataclass(frozen=True)
class Derived:
    """A clip made from another one: its frames (F, H, W, 3) in [0, 1] and its recipe (with its parent).

    `parent_file` is the source's path when it was given as a file: export it with
    `export(d.video, out, recipe=d.recipe, parent_files=[d.parent_file])` and the parent, with its own
    C2PA manifest, becomes the new clip's ingredient. `audio` (samples, 2) at `sample_rate` is its
    soundtrack when the source had one (or sound was asked for), else None: pass both to `export`.
    """

    video: np.ndarray
    recipe: Recipe
    parent_file: Path | None = None
    audio: np.ndarray | None = None
    sample_rate: int | None = None


def _as_clip(video: Any) -> tuple[np.ndarray, Recipe | None]:
    """(frames (F, H, W, 3), float in [0, 1] or as given if already float; the file's recipe if read)."""
    if isinstance(video, (str, os.PathLike)):
        from .media_read import read_clip

        return read_clip(Path(video))
    arr = video.detach().cpu().numpy() if isinstance(video, torch.Tensor) else np.asarray(video)
    if arr.ndim != 4 or arr.shape[-1] != 3 or min(arr.shape) < 1 or arr.dtype.kind not in "uf":
        raise ValueError(f"video must be {_CLIP}; got {type(video).__name__} of shape {np.shape(arr)}")
    return (arr.astype(np.float32) / 255 if arr.dtype == np.uint8 else arr), None


def _fit(pipe, clip: np.ndarray) -> np.ndarray:
    """The clip at the model's height x width (OpenCV: area when shrinking, bilinear when growing)."""
    import cv2

    height, width = pipe.config.height, pipe.config.width
    if clip.shape[1:3] == (height, width):
        return clip
    logger.warning(f"video is {clip.shape[2]}x{clip.shape[1]} (WxH); resizing it to the model's {width}x{height}")
    shrink = clip.shape[1] * clip.shape[2] > height * width
    interpolation = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    frames = [cv2.resize(np.asarray(f, np.float32), (width, height), interpolation=interpolation) for f in clip]
    return np.clip(np.stack(frames), 0, 1)


def _parent_id(pipe, clip: np.ndarray, parent: Recipe | str | None, read: Recipe | None) -> str:
    """The parent's id: a given recipe's or id, the file's recipe's, else the id export gives the bare clip."""
    parent = read if parent is None else parent
    if isinstance(parent, Recipe):
        return parent.id
    if isinstance(parent, str):
        return parent  # Recipe checks it is an id
    if parent is not None:
        raise ValueError(f"parent must be the source's Recipe or id, or None; got {type(parent).__name__}")
    fps = pipe.config.get("fps") or DEFAULT_FPS
    try:
        return Recipe(seed=None, steps=None, guidance=None, fps=fps).with_video(clip).id
    except ValueError:  # outside the recipe limits (e.g. a large video): the frames' hash alone
        return video_digest(clip)


def _source(pipe, video, parent) -> tuple[np.ndarray, str]:
    clip, read = _as_clip(video)
    return _fit(pipe, clip), _parent_id(pipe, clip, parent, read)


def _file(video) -> Path | None:
    return Path(video) if isinstance(video, (str, os.PathLike)) else None


def _fps(pipe) -> float:
    return pipe.config.get("fps") or DEFAULT_FPS


def remix(pipe, video: Any, prompt: str, strength: float = 0.8, *, parent: Recipe | str | None = None,
          seed: int = 0, num_inference_steps: int = 20, guidance_scale: float = 4.0,
          negative_prompt: str | None = None, audio=None, sample_rate: int | None = None) -> Derived:
    """`video` remade with `prompt` (SDEdit): the last `strength` of the schedule runs from the clip noised
    to that level. strength 0 returns the clip as given (at the model's size), 1 ignores it (the same as a
    fresh sample with this seed); in between, the higher, the further the result may depart from it.

    `parent` is the source's recipe or id when known (a file's own recipe is read with it). A source with
    sound (a file's own, or `audio=` with its `sample_rate=`; `audio=True` for sound anyway, False for
    none) gives a remix with the sound `add_sound` hears in the new frames.
    """
    clip, parent_id = _source(pipe, video, parent)
    sound = source_sound(video, audio, sample_rate)
    frames, height, width = clip.shape[:3]
    # All inputs are checked (with the pipeline's messages) before the strength-0 shortcut.
    pipe.check_inputs(prompt, negative_prompt, None, frames, height, width, num_inference_steps, guidance_scale, 1,
                      "np", ["latents"], video=clip, strength=strength)
    if strength == 0:
        out = clip.copy()
    else:
        out = pipe(prompt, negative_prompt=negative_prompt, video=clip, strength=strength, num_frames=frames,
                   num_inference_steps=num_inference_steps, guidance_scale=guidance_scale,
                   generator=torch.Generator().manual_seed(seed), output_type="np").frames[0]
    recipe = Recipe.from_call(pipe, prompt, negative_prompt=negative_prompt, seed=seed, steps=num_inference_steps,
                              guidance=guidance_scale, frames=frames, parents=(parent_id,), derivation="remix",
                              strength=float(strength), video=out)
    return Derived(out, recipe, _file(video), *derived_sound(sound, out, 0, _fps(pipe)))


def extend(pipe, video: Any, prompt: str, frames: int, *, context: int | None = None,
           parent: Recipe | str | None = None, seed: int = 0, num_inference_steps: int = 20,
           guidance_scale: float = 4.0, negative_prompt: str | None = None, audio=None,
           sample_rate: int | None = None) -> Derived:
    """`video` continued with `prompt` to `frames` frames in all; its own frames are kept exactly.

    Each window of the model's length is conditioned on the last `context` frames made so far
    (default half a window) and adds the rest, until the length is reached. One generator seeded
    with `seed` serves every window, so the result is reproducible. A source with sound (as for `remix`)
    keeps it over its own frames; the new frames get the sound `add_sound` hears in them.
    """
    clip, parent_id = _source(pipe, video, parent)
    sound = source_sound(video, audio, sample_rate)
    window = pipe.config.num_frames
    context = window // 2 if context is None else context
    low, high = len(clip) + 1, LIMITS.frames[1]
    if isinstance(frames, bool) or not isinstance(frames, (int, np.integer)) or not low <= frames <= high:
        raise ValueError(f"frames (the length of the extended clip) must be a whole number from {low} (one more "
                         f"than the clip's {len(clip)}) to {high}; got {frames!r}")
    if isinstance(context, bool) or not isinstance(context, (int, np.integer)) or not 1 <= context < window:
        raise ValueError(f"context must be a whole number of frames from 1 to {window - 1} (the model makes "
                         f"{window} at a time); got {context!r}")
    generator = torch.Generator().manual_seed(seed)
    out = clip
    while len(out) < frames:
        given = out[-min(context, len(out)):]
        made = pipe(prompt, negative_prompt=negative_prompt, frames=given, num_frames=window,
                    num_inference_steps=num_inference_steps, guidance_scale=guidance_scale, generator=generator,
                    output_type="np").frames[0]
        out = np.concatenate([out, made[len(given):len(given) + frames - len(out)]])
    recipe = Recipe.from_call(pipe, prompt, negative_prompt=negative_prompt, seed=seed, steps=num_inference_steps,
                              guidance=guidance_scale, frames=int(frames), parents=(parent_id,),
                              derivation="extension", video=out, extra={"context_frames": int(context)})
    return Derived(out, recipe, _file(video), *derived_sound(sound, out, len(clip), _fps(pipe)))
