"""What export does to an mp4 for provenance: hide the invisible mark, encode, then sign the file.

Kept apart from media.py so `import sorakit.media` stays light: the C2PA library, cryptography and
the watermark library load on the first signed export.
"""
from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from . import invisible
from .keys import SigningKey, default_signing_key
from .manifest import sign_mp4

__all__ = ["mark_id_for", "write_signed_mp4"]

logger = logging.getLogger(__name__)
_warned: set[str] = set()


def mark_id_for(recipe, frames: np.ndarray) -> str:
    """The 32-bit id (8 hex digits) a clip's invisible mark carries: its recipe id's first 32 bits, which
    the manifest records; the frames' hash for a clip without a recipe."""
    if recipe is not None:
        return recipe.id[:8]
    return hashlib.sha256(np.ascontiguousarray(frames).tobytes()).hexdigest()[:8]


def _warn_once(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        logger.warning(message)


def write_signed_mp4(frames: np.ndarray, dest: Path, write: Callable[[np.ndarray, Path], None], recipe, *,
                     scratch: Path, title: str, visible: bool, signing_key: SigningKey | None = None,
                     parent_files: Sequence[str | os.PathLike] = ()) -> None:
    """Encode `frames` (uint8, at export size, visible mark already drawn if any) with `write(frames, path)`
    to `scratch`, then write it signed to `dest`. The invisible mark goes in first when the library is installed
    and the frames are large enough (256x256); the manifest says which marks the clip carries."""
    key = signing_key if signing_key is not None else default_signing_key()
    if not isinstance(key, SigningKey):
        raise TypeError(f"signing_key must be a sorakit.provenance.SigningKey; got {type(key).__name__}")
    mark = {"visible": bool(visible), "invisible_id": None, "invisible_method": None}
    height, width = frames.shape[1:3]
    if not invisible.available():
        _warn_once("invisible-watermark is not installed: clips are exported without the invisible mark "
                   "(pip install 'sorakit[provenance]')")
    elif height * width < invisible.MIN_PIXELS:
        _warn_once(f"frames of {width}x{height} are too small for the invisible mark (256x256 at least)")
    else:
        mark["invisible_id"] = mark_id_for(recipe, frames)
        mark["invisible_method"] = f"invisible-watermark {invisible.METHOD}, 32-bit id + 16-bit check"
        frames = invisible.MarkedFrames(frames, mark["invisible_id"])  # marked as the encoder takes them
    try:
        write(frames, scratch)
        sign_mp4(scratch, dest, recipe, key, title=title, watermark=mark, parent_files=parent_files)
    finally:
        scratch.unlink(missing_ok=True)
