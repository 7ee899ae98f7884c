"""Video in and out: inline notebook video, mp4/gif export with provenance, reading back.

Videos are numpy arrays shaped (F, H, W, 3): float in [0, 1] or uint8. Model clips are tiny
(e.g. 32x32), so export and show upscale them with nearest neighbour until the short side is at
least 256 px: browsers would otherwise blur them and H.264's 2x2 chroma would smear them.
The mp4 is H.264 yuv420p (plays everywhere) and the bundled ffmpeg of imageio-ffmpeg is used, so
no system ffmpeg is needed. Every export carries its `Recipe` (prompt, seed, sizes, model, id, ...),
stored twice: as the file's `comment` tag and in a `<path>.json` sidecar; an mp4 also carries it in a
signed C2PA manifest, with a visible and an invisible mark (sorakit.provenance). `read_clip` reads a clip
back as the model made it: at the recipe's height x width, not at the upscaled viewing size (reading
lives in media_read.py, bounded for files from anywhere).
"""

from __future__ import annotations

import base64
import dataclasses
import json
import math
import os
import tempfile
import uuid
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from .audio import check_audio, fit_length, write_wav
from .limits import DEFAULT_FPS, LIMITS
from .media_read import read_clip, read_metadata, read_video
from .media_read import sidecar_path as _sidecar
from .recipe import Recipe

__all__ = ["show", "export", "read_clip", "read_video", "read_metadata", "to_uint8"]

MIN_SHORT_SIDE = 256  # px; default upscale target for export() and show()
_ALLOWED = "a video shaped (F, H, W, 3) with F >= 1: float values in [0, 1] or uint8"


def to_uint8(video: Any) -> np.ndarray:
    """Validate a video and return it as a uint8 (F, H, W, 3) array."""
    if hasattr(video, "detach"):  # torch tensor
        video = video.detach().cpu().numpy()
    arr = np.asarray(video)
    if arr.ndim != 4 or arr.shape[-1] != 3 or min(arr.shape) < 1:
        raise ValueError(f"expected {_ALLOWED}; got shape {arr.shape}")
    if arr.dtype == np.uint8:
        return arr
    if not np.issubdtype(arr.dtype, np.floating):
        raise ValueError(f"expected {_ALLOWED}; got dtype {arr.dtype}")
    if not np.isfinite(arr).all():
        raise ValueError(f"expected {_ALLOWED}; got NaN or inf values")
    lo, hi = float(arr.min()), float(arr.max())
    if lo < -1e-3 or hi > 1 + 1e-3:  # small tolerance for float round-off from models
        raise ValueError(f"expected {_ALLOWED}; got float values in [{lo:.3g}, {hi:.3g}]")
    return np.round(np.clip(arr, 0.0, 1.0) * 255.0).astype(np.uint8)


def _auto_scale(height: int, width: int) -> int:
    return max(1, math.ceil(MIN_SHORT_SIDE / min(height, width)))


def _upscale(frames: np.ndarray, scale: int | None) -> np.ndarray:
    """Nearest-neighbour integer upscale, then pad to even sides (yuv420p needs them)."""
    if scale is None:
        scale = _auto_scale(frames.shape[1], frames.shape[2])
    if not isinstance(scale, (int, np.integer)) or scale < 1:
        raise ValueError(f"scale must be a positive integer or None; got {scale!r}")
    if scale > 1:
        frames = frames.repeat(scale, axis=1).repeat(scale, axis=2)
    pad_h, pad_w = frames.shape[1] % 2, frames.shape[2] % 2
    if pad_h or pad_w:
        frames = np.pad(frames, ((0, 0), (0, pad_h), (0, pad_w), (0, 0)), mode="edge")
    return np.ascontiguousarray(frames)


def _recipe_json(recipe: Recipe) -> str:
    return json.dumps(recipe.to_dict(), sort_keys=True)


def _write_mp4(frames: np.ndarray, path: Path, fps: float, comment: str | None,
               soundtrack: tuple[np.ndarray, int] | None = None) -> None:
    """H.264 frames; with a soundtrack (samples, sample rate) fitted to the clip, AAC sound muxed in."""
    from .media_read import ffmpeg_io

    imageio_ffmpeg = ffmpeg_io()
    height, width = frames.shape[1:3]
    # x264's output depends on its thread count, which by default follows the CPU count: fix it so one
    # recipe gives the same pixels on every machine.
    params = ["-crf", "18", "-preset", "medium", "-threads", "2", "-movflags", "+faststart"]
    if comment is not None:
        params += ["-metadata", f"comment={comment}"]
    wav = None
    if soundtrack is not None:  # ffmpeg reads the sound from a WAV beside the output, removed afterwards
        wav = write_wav(path.with_name(f".{path.stem}.{uuid.uuid4().hex[:12]}.wav"), *soundtrack)
        params += ["-b:a", "128k"]
    try:
        writer = imageio_ffmpeg.write_frames(
            str(path), (width, height), fps=fps, codec="libx264", pix_fmt_out="yuv420p",
            quality=None, macro_block_size=1, output_params=params, ffmpeg_log_level="error",
            audio_path=None if wav is None else str(wav), audio_codec=None if wav is None else "aac",
        )
        writer.send(None)  # start ffmpeg
        for frame in frames:
            writer.send(frame.tobytes())
        writer.close()
    finally:
        if wav is not None:
            wav.unlink(missing_ok=True)


def _soundtrack(audio: Any, sample_rate: Any, seconds: float, suffix: str) -> tuple[np.ndarray, int] | None:
    """Checked audio cut or padded to the clip's duration, or None without audio."""
    if audio is None:
        if sample_rate is not None:
            raise ValueError("sample_rate= was given without audio=")
        return None
    if sample_rate is None:
        raise ValueError("audio= needs its sample_rate= (e.g. clip.sample_rate, 16000)")
    if suffix == ".gif":
        raise ValueError("a .gif has no sound: export to .mp4 to keep the audio")
    samples, sr = check_audio(audio, sample_rate)
    return fit_length(samples, sr, seconds), sr


def _write_gif(frames: np.ndarray, path: Path, fps: float, comment: str | None) -> None:
    from PIL import Image

    # Adaptive palette per frame without dithering keeps flat colours flat.
    images = [
        Image.fromarray(f).quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        for f in frames
    ]
    extra = {"comment": comment.encode("utf-8")} if comment is not None else {}
    images[0].save(
        path, save_all=True, append_images=images[1:], duration=round(1000 / fps), loop=0,
        optimize=False, disposal=1, **extra,
    )


def export(video: Any, path: str | os.PathLike, fps: float | None = None,
           recipe: Recipe | Mapping[str, Any] | None = None, scale: int | None = None, *,
           metadata: Mapping[str, Any] | None = None, watermark: bool = True, provenance: bool = True,
           signing_key=None, parent_files: Sequence[str | os.PathLike] = (),
           audio: Any = None, sample_rate: int | None = None) -> Path:
    """Write `video` to `path` (.mp4: H.264 yuv420p, or .gif) with its recipe; return the path.

    `recipe` says how the clip was made (`Recipe.from_call(pipe, prompt, ...)`); export adds the
    clip's frame count, size and frame hash, and stores it in the file and a `<path>.json` sidecar.
    Without one, a recipe of sizes and fps alone is written (none for a video outside the
    generation limits). `fps` defaults to the recipe's, else 8. `scale` is an integer
    nearest-neighbour upscale; None picks the smallest that makes the short side >= 256 px.
    `metadata=` is the older name of `recipe=` (a dict of recipe fields). `audio` (float samples,
    mono (S,) or stereo (S, 2), at `sample_rate`) is muxed into an .mp4 as AAC, cut or padded with
    silence to the clip's duration; without it the file is silent, as before.

    Provenance (docs/provenance.md): `watermark` draws a small moving "sorakit" mark on the file's
    frames (never on `video` itself); `provenance` makes an .mp4 carry a signed C2PA manifest (source
    type trainedAlgorithmicMedia, sorakit's version, the model and its weights hash, the recipe) and an
    invisible 32-bit mark tied to it. `signing_key` is a `sorakit.provenance.SigningKey` (default: the
    user's own from $SORAKIT_SIGNING_CERT/$SORAKIT_SIGNING_KEY, else this machine's development CA,
    untrusted elsewhere). `parent_files` are the mp4s of the recipe's parents, in order (a remix's
    source): they become the manifest's ingredients with their own manifests; parents without a file
    are named by id.
    """
    frames = to_uint8(video)
    recipe = _as_recipe(recipe, metadata)
    fps = _export_fps(fps, recipe)
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".mp4", ".gif"):
        raise ValueError(f"export writes .mp4 or .gif files; got {path.name!r}")
    recipe = _clip_recipe(recipe, frames, fps)
    comment = None if recipe is None else _recipe_json(recipe)
    soundtrack = _soundtrack(audio, sample_rate, len(frames) / fps, suffix)
    for name, flag in (("watermark", watermark), ("provenance", provenance)):
        if not isinstance(flag, bool):
            raise TypeError(f"{name} must be True or False; got {flag!r}")
    if parent_files and not (provenance and suffix == ".mp4"):
        raise ValueError("parent_files are recorded in an .mp4's C2PA manifest: export to .mp4 with provenance=True")
    path.parent.mkdir(parents=True, exist_ok=True)
    shown = _upscale(frames, scale)
    if watermark:
        from .provenance.visible import draw_visible_mark

        shown = draw_visible_mark(shown)  # a copy: the caller's frames stay clean for probes and attention
    def encode(marked, out: Path) -> None:
        # A silent clip is written exactly as before sound existed (the same call, the same file).
        sound = () if soundtrack is None else (soundtrack,)
        _write_mp4(marked, out, fps, comment, *sound)

    if suffix == ".gif":
        _replace_atomically(path, lambda tmp: _write_gif(shown, tmp, fps, comment))
    elif not provenance:
        _replace_atomically(path, lambda tmp: encode(shown, tmp))
    else:
        from .provenance.stamp import write_signed_mp4

        # The unsigned encoding goes to a temporary file of its own, beside the one the signed clip goes to.
        _replace_atomically(path, lambda tmp: write_signed_mp4(
            shown, tmp, encode, recipe, scratch=_temp_path(path), title=path.name, visible=watermark,
            signing_key=signing_key, parent_files=parent_files))
    sidecar = _sidecar(path)
    if comment is None:
        sidecar.unlink(missing_ok=True)  # an older export's recipe would describe another clip
    else:
        _replace_atomically(sidecar, lambda tmp: tmp.write_text(comment + "\n", encoding="utf-8"))
    return path


def _temp_path(path: Path) -> Path:
    return path.with_name(f".{path.stem}.{uuid.uuid4().hex[:12]}.tmp{path.suffix}")


def _replace_atomically(path: Path, write) -> None:
    """`write(tmp)` to a temporary file beside `path`, then rename it over `path`.

    A kill or an error mid-write leaves the previous file whole (os.replace is atomic on one file
    system); the temporary file keeps the suffix so ffmpeg and PIL pick the format from it.
    """
    tmp = _temp_path(path)  # created as usual (umask)
    try:
        write(tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())  # the bytes are on disk before the name points at them
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _as_recipe(recipe: Recipe | Mapping[str, Any] | None, metadata: Mapping[str, Any] | None) -> Recipe | None:
    if recipe is not None and metadata is not None:
        raise ValueError("pass recipe= or metadata= (its older name), not both")
    recipe = metadata if recipe is None else recipe
    if recipe is None or isinstance(recipe, Recipe):
        return recipe
    if isinstance(recipe, Mapping):
        return Recipe.from_dict(recipe)
    raise ValueError(f"recipe must be a sorakit Recipe (or a dict of its fields); got {type(recipe).__name__}")


def _export_fps(fps: float | None, recipe: Recipe | None) -> float:
    if fps is None:
        return recipe.fps if recipe is not None and recipe.fps is not None else DEFAULT_FPS
    lo, hi = LIMITS.fps
    if isinstance(fps, bool) or not isinstance(fps, (int, float, np.number)) or not lo <= fps <= hi:
        raise ValueError(f"fps must be a number from {lo:g} to {hi:g}; got {fps!r}")
    if recipe is not None and recipe.fps is not None and recipe.fps != fps:
        raise ValueError(f"fps={fps:g} but the recipe says the clip plays at {recipe.fps:g} fps")
    return float(fps)


def _clip_recipe(recipe: Recipe | None, frames: np.ndarray, fps: float) -> Recipe | None:
    """The recipe to store: the given one (or one of sizes and fps alone) completed with this clip."""
    if recipe is not None:
        return dataclasses.replace(recipe, fps=fps).with_video(frames)
    try:
        return Recipe(seed=None, steps=None, guidance=None, fps=fps).with_video(frames)
    except ValueError:  # e.g. a 1-frame or 1080p video: no model made it, so there is no recipe to keep
        return None


def show(video: Any, fps: float = 8, width: int | None = None, scale: int | None = None, *,
         audio: Any = None, sample_rate: int | None = None, muted: bool = False):
    """Return an HTML5 <video> with the clip embedded as base64 H.264 (survives notebook save).

    With `audio` (and its `sample_rate`) the clip plays with sound (AAC): it then waits for play,
    since browsers refuse to autoplay sound; without it, it autoplays muted and loops as before.
    `muted=True` keeps the sound but starts muted, so the clip autoplays; the controls unmute it.
    """
    from IPython.display import HTML

    if not isinstance(muted, (bool, np.bool_)):
        raise ValueError(f"muted must be True or False, got {muted!r}")
    frames = to_uint8(video)
    soundtrack = _soundtrack(audio, sample_rate, len(frames) / fps, ".mp4")
    frames = _upscale(frames, scale)
    with tempfile.TemporaryDirectory() as tmp:
        mp4 = Path(tmp) / "clip.mp4"
        _write_mp4(frames, mp4, fps, None, soundtrack)
        data = base64.b64encode(mp4.read_bytes()).decode("ascii")
    width = int(width) if width else frames.shape[2]
    play = "autoplay loop muted" if soundtrack is None or muted else "loop"
    return HTML(
        f'<video {play} controls playsinline width="{width}" '
        f'style="image-rendering: pixelated">'
        f'<source src="data:video/mp4;base64,{data}" type="video/mp4"></video>'
    )
