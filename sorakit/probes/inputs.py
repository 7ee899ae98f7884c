"""What the probes accept: a clip as (F, H, W, 3) uint8 or float in [0, 1], a frame rate, a prompt.

Bad input fails here, early, with a ValueError that says what is allowed, never deep in numpy.
"""
from __future__ import annotations

import math
from numbers import Real

import numpy as np

from ..limits import DEFAULT_FPS, LIMITS, text_error

MIN_SIDE = LIMITS.side[0]  # pixels; below this nothing can be tracked


def as_video(video) -> np.ndarray:
    """-> float32 (F, H, W, 3) in [0, 1]. Accepts uint8 or float numpy arrays and torch tensors.

    A float32 clip within [0, 1] is returned as is, not copied (treat the result as read-only).

    A leading batch axis of size 1 (`pipe(...).frames`) is dropped.
    """
    if video is None:
        raise ValueError("video is None: pass an (F, H, W, 3) array, e.g. pipe(...).frames[0]")
    if hasattr(video, "detach"):  # torch tensor
        video = video.detach().cpu().float().numpy()
    try:
        arr = np.asarray(video)
    except Exception as exc:  # ragged lists and the like
        raise ValueError(f"video must be an array of shape (F, H, W, 3), got {type(video).__name__}") from exc
    if arr.ndim == 5 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim != 4 or arr.shape[-1] != 3:
        raise ValueError(f"video must have shape (F, H, W, 3) (RGB frames last), got {arr.shape}; "
                         "for a pipeline output pass out.frames[0]")
    frames, height, width = arr.shape[:3]
    if frames < 1:
        raise ValueError("video has no frames")
    if height < MIN_SIDE or width < MIN_SIDE:
        raise ValueError(f"video frames must be at least {MIN_SIDE}x{MIN_SIDE} pixels, got {height}x{width}")
    if arr.dtype == np.uint8:
        return arr.astype(np.float32) / 255
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.floating):
        raise ValueError(f"video dtype must be uint8 (0..255) or float (0..1), got {arr.dtype}")
    arr = arr.astype(np.float32, copy=False)  # checked in place: clips can be hundreds of MB
    if not np.isfinite(arr).all():
        raise ValueError("video contains NaN or infinite values")
    lo, hi = float(arr.min()), float(arr.max())
    if lo < -1e-3 or hi > 1 + 1e-3:
        hint = " (a model-space tensor in [-1, 1]? map it with (x + 1) / 2)" if lo < 0 else ""
        raise ValueError(f"float video values must be in [0, 1], got [{lo:.3g}, {hi:.3g}]{hint}")
    return arr if 0 <= lo and hi <= 1 else np.clip(arr, 0, 1)


def as_fps(fps) -> float:
    """A frame rate within sorakit's limits (None: the world's); a bool or a string is not a rate."""
    if fps is None:
        return DEFAULT_FPS
    lo, hi = LIMITS.fps
    number = isinstance(fps, Real) and not isinstance(fps, (bool, np.bool_))
    if not number or not math.isfinite(float(fps)) or not lo <= float(fps) <= hi:
        raise ValueError(f"fps must be a number from {lo:g} to {hi:g}, got {fps!r}")
    return float(fps)


def as_prompt(prompt) -> str | None:
    if prompt is None:
        return None
    if not isinstance(prompt, str):
        raise ValueError(f"prompt must be a string or None, got {type(prompt).__name__}")
    if len(prompt) > LIMITS.prompt_chars:
        raise ValueError(f"prompt is {len(prompt)} characters; at most {LIMITS.prompt_chars} are allowed")
    if (error := text_error("prompt", prompt)) is not None:
        raise ValueError(error)
    return prompt.strip() or None
