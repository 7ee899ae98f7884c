"""Reading clips back, for any file someone hands you: bounded in memory and time, and honest about damage.

Frames are decoded one at a time and shrunk as they arrive, so memory follows the returned clip,
never the file's claims: frames larger than `LIMITS.image_side` are refused from the header, at most
`LIMITS.frames` frames are read (a longer file is refused, saying so), each side is area-downscaled
to at most `LIMITS.side` and the whole clip to at most `LIMITS.read_pixels` pixels. A truncated mp4
(its boxes promise more bytes than the file holds) or a clip with fewer frames than its recipe says
is refused as truncated rather than probed on what is left. Every problem is a ValueError.
"""
from __future__ import annotations

import json
import math
import os
import struct
import subprocess
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from .limits import LIMITS
from .recipe import Recipe

__all__ = ["read_clip", "read_metadata", "read_video", "video_size"]

MAX_RECIPE_BYTES = 256 * 1024  # a recipe is a few KB (its longest: 33 texts of 1000 characters)
_ISO_MEDIA = {b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip", b"uuid", b"styp"}


# --- frames -----------------------------------------------------------------------------------------
def _gif_frames(path: Path) -> tuple[tuple[int, int], Iterator[np.ndarray], Callable[[], None]]:
    from PIL import Image, ImageSequence

    im = Image.open(path)  # header only; PIL itself refuses a decompression bomb here
    width, height = im.size

    def frames():
        for frame in ImageSequence.Iterator(im):
            yield np.asarray(frame.convert("RGB"))

    return (height, width), frames(), im.close


def ffmpeg_io():
    """imageio_ffmpeg, with its fork-time process-group switch off: it starts ffmpeg with
    preexec_fn=os.setpgrp, and a fork in a threaded server (the demo) can then hang in the child before
    ffmpeg starts. The documented variable turns that off; a user's own setting wins."""
    os.environ.setdefault("IMAGEIO_FFMPEG_NO_PREVENT_SIGINT", "1")
    import imageio_ffmpeg

    return imageio_ffmpeg


def _ffmpeg_frames(path: Path) -> tuple[tuple[int, int], Iterator[np.ndarray], Callable[[], None]]:
    imageio_ffmpeg = ffmpeg_io()
    reader = imageio_ffmpeg.read_frames(str(path), pix_fmt="rgb24")
    try:
        meta = next(reader)
    except (OSError, RuntimeError, StopIteration) as exc:
        reader.close()
        log = str(exc)
        if "Video:" not in log and "Stream #" in log:
            raise ValueError(f"{path.name} has no video stream (audio only?)") from None
        last = [line for line in log.splitlines() if line.strip()][-1:] or ["no details"]
        raise ValueError(f"{path.name} is not a video ffmpeg can read: {last[0].strip()[:200]}") from None
    width, height = meta["size"]

    def frames():
        for raw in reader:
            yield np.frombuffer(raw, np.uint8).reshape(height, width, 3)

    return (height, width), frames(), reader.close  # closing stops ffmpeg when reading ends early


def _shrunk_size(height: int, width: int, longest: int) -> tuple[int, int]:
    """(H, W) scaled down (never up) so that neither side exceeds `longest`, aspect kept."""
    factor = min(1.0, longest / max(height, width))
    return max(1, round(height * factor)), max(1, round(width * factor))


def _resize(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    import cv2

    if frame.shape[:2] == tuple(size):
        return frame
    return cv2.resize(frame, (size[1], size[0]), interpolation=cv2.INTER_AREA)


def _check_size(size) -> tuple[int, int]:
    lo, hi = LIMITS.side
    ok = isinstance(size, (tuple, list)) and len(size) == 2
    ok = ok and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and lo <= v <= hi for v in size)
    if not ok:
        raise ValueError(f"size must be (height, width) with whole numbers from {lo} to {hi}; got {size!r}")
    return int(size[0]), int(size[1])


def read_video(path: str | os.PathLike, size: tuple[int, int] | None = None) -> np.ndarray:
    """Read an mp4/gif (or anything ffmpeg reads) as float32 (F, H, W, 3) in [0, 1].

    Frames come back at the stored resolution when it is within the limits (see the module's
    docstring; larger ones are area-downscaled); pass `size=(H, W)` to area-resize them, e.g. back to
    the model's resolution after an upscaled export. ValueError for a file that is missing, empty,
    not a video, truncated, longer than LIMITS.frames frames, or larger than LIMITS.image_side.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no such video file: {path}")
    if path.stat().st_size == 0:
        raise ValueError(f"{path.name} is empty (0 bytes)")
    size = None if size is None else _check_size(size)
    _check_complete(path)
    try:
        return _decode(path, size)
    except (OSError, RuntimeError, SyntaxError, EOFError) as exc:  # PIL/ffmpeg on damaged data
        raise ValueError(f"{path.name} could not be decoded ({type(exc).__name__}: {str(exc)[:200]})") from None
    except Exception as exc:
        from PIL import Image

        if isinstance(exc, Image.DecompressionBombError):
            raise ValueError(f"{path.name} is not a video sorakit reads: {exc}") from None
        raise


def _decode(path: Path, size: tuple[int, int] | None) -> np.ndarray:
    max_frames, max_side = LIMITS.frames[1], LIMITS.image_side[1]
    (height, width), frames, close = (_gif_frames if path.suffix.lower() == ".gif" else _ffmpeg_frames)(path)
    try:
        if max(height, width) > max_side:
            raise ValueError(f"{path.name} has {width}x{height} frames; sorakit reads frames of at most "
                             f"{max_side} px a side")
        target = size or _shrunk_size(height, width, LIMITS.side[1])
        kept = []
        for frame in frames:
            if len(kept) == max_frames:
                raise ValueError(f"{path.name} has more than {max_frames} frames; sorakit reads at most "
                                 f"{max_frames} (cut it first, e.g. ffmpeg -i in.mp4 -frames:v {max_frames} out.mp4)")
            kept.append(_resize(frame, target))
    finally:
        close()
    if not kept:
        raise ValueError(f"{path.name} holds no video frames")
    video = np.stack(kept)
    budget = LIMITS.read_pixels
    pixels = video.shape[0] * video.shape[1] * video.shape[2]
    if pixels > budget:
        if size is not None:
            raise ValueError(f"{path.name}: {len(video)} frames at {size[0]}x{size[1]} are {pixels} pixels; "
                             f"sorakit reads at most {budget} at once")
        factor = math.sqrt(budget / pixels)
        smaller = (max(1, int(video.shape[1] * factor)), max(1, int(video.shape[2] * factor)))
        video = np.stack([_resize(f, smaller) for f in video])
    return video.astype(np.float32) / 255.0


def video_size(path: str | os.PathLike) -> tuple[int, int]:
    """(height, width) of a video file's frames, from its header alone (nothing is decoded): a quick check
    before a file is queued for reading. ValueError for a missing, empty or unreadable file."""
    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        raise ValueError(f"{path.name} is missing or empty")
    try:
        size, _frames, close = (_gif_frames if path.suffix.lower() == ".gif" else _ffmpeg_frames)(path)
    except ValueError:
        raise
    except Exception as exc:  # PIL on a file that is not a gif, or a decompression bomb
        raise ValueError(f"{path.name} is not a video sorakit reads ({type(exc).__name__})") from None
    close()
    return size


def _check_complete(path: Path) -> None:
    """An ISO media file (mp4, mov) whose top-level boxes promise more bytes than it holds is truncated."""
    total = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8 or head[4:8] not in _ISO_MEDIA:
            return  # not ISO media: ffmpeg and PIL judge it
        offset = 0
        while offset < total:
            f.seek(offset)
            head = f.read(16)
            if len(head) < 8:
                break
            size, kind = struct.unpack(">I4s", head[:8])
            if size == 1 and len(head) == 16:
                size = struct.unpack(">Q", head[8:16])[0]
            elif size == 0:  # "to the end of the file"
                return
            if size < 8:
                raise ValueError(f"{path.name} is damaged: a box at byte {offset} says it is {size} bytes")
            if offset + size > total:
                name = kind.decode("latin-1")
                raise ValueError(f"{path.name} is truncated: its {name!r} box needs {offset + size} bytes but the "
                                 f"file ends at {total}")
            offset += size


# --- recipes ----------------------------------------------------------------------------------------
def sidecar_path(path: Path) -> Path:
    """Where export() writes a clip's recipe beside it: `<name>.json`."""
    return path.with_name(path.name + ".json")


def _embedded_comment(path: Path) -> str | None:
    """The `comment` tag inside an mp4 (via ffmpeg's ffmetadata output) or gif."""
    if path.suffix.lower() == ".gif":
        from PIL import Image

        try:
            with Image.open(path) as im:
                raw = im.info.get("comment")
        except Exception:  # not a readable gif (read_video says why): no recipe inside it
            return None
        return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    import imageio_ffmpeg

    proc = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "ffmetadata", "-"],
        capture_output=True, text=True, encoding="utf-8", errors="replace", timeout=60,
    )
    for line in proc.stdout.splitlines():
        if line.startswith("comment="):
            # ffmetadata escapes '=', ';', '#', '\\' and newlines with a backslash.
            value, escaped = [], False
            for ch in line[len("comment="):]:
                if escaped or ch != "\\":
                    value.append(ch)
                    escaped = False
                else:
                    escaped = True
            return "".join(value)
    return None


def _sidecar_text(path: Path) -> str | None:
    sidecar = sidecar_path(path)
    if not sidecar.is_file():
        return None
    if sidecar.stat().st_size > MAX_RECIPE_BYTES:
        raise ValueError(f"{sidecar.name} is {sidecar.stat().st_size} bytes; a recipe is at most "
                         f"{MAX_RECIPE_BYTES} bytes")
    return sidecar.read_text(encoding="utf-8", errors="replace")


def read_metadata(path: str | os.PathLike) -> Recipe | None:
    """The Recipe stored by export(): from inside the file, else from the sidecar; None if neither has one.

    The file is untrusted: a recipe with a bad field raises ValueError naming the field.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no such video file: {path}")
    for where, read in (("its comment tag", _embedded_comment), ("its sidecar", _sidecar_text)):
        text = read(path)
        if not text:
            continue
        if len(text) > MAX_RECIPE_BYTES:
            raise ValueError(f"the recipe in {path.name} ({where}) is {len(text)} characters; at most "
                             f"{MAX_RECIPE_BYTES} are read")
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, RecursionError):
            continue  # a comment that is not ours
        try:
            return Recipe.from_dict(data)
        except ValueError as exc:
            raise ValueError(f"the recipe in {path.name} ({where}) is not valid: {exc}") from None
    return None


def read_clip(path: str | os.PathLike) -> tuple[np.ndarray, Recipe | None]:
    """A clip as the model made it, with its recipe: frames read back at the recipe's height x width
    (exports are upscaled for viewing) as float32 (F, H, W, 3) in [0, 1]; at the stored size (within
    the limits) when the file has no recipe (or one without sizes). A clip with fewer or more frames
    than its recipe says is refused: it was truncated or edited."""
    recipe = read_metadata(path)
    size = None
    if recipe is not None and recipe.height is not None and recipe.width is not None:
        size = (recipe.height, recipe.width)
    video = read_video(path, size=size)
    if recipe is not None and recipe.frames is not None and recipe.frames != len(video):
        raise ValueError(f"{Path(path).name} holds {len(video)} frames but its recipe says {recipe.frames}: "
                         f"the file is truncated or was edited")
    return video, recipe
