"""Pack clips and heat maps for the browser: one PNG per clip, frames stacked top to bottom.

A 16-frame 32x32 clip is a 32x512 PNG (a few kB, lossless); the browser decodes it once and the
player draws frame i from rows [i*H, (i+1)*H), upscaled nearest-neighbour on a canvas.
"""
from __future__ import annotations

import io

import numpy as np
from PIL import Image

from ..media import to_uint8

__all__ = ["video_strip", "heat_strip", "png", "decode_strip", "heat_to_uint8", "sound_wav"]


def png(image: np.ndarray) -> bytes:
    """uint8 (H, W) or (H, W, 3|4) array -> PNG bytes."""
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image)).save(buf, format="PNG", compress_level=6)
    return buf.getvalue()


def video_strip(video) -> tuple[bytes, tuple[int, int, int]]:
    """(F, H, W, 3) float [0, 1] or uint8 -> (PNG bytes of the (F*H, W, 3) strip, (F, H, W))."""
    frames = to_uint8(video)
    f, h, w, _ = frames.shape
    return png(frames.reshape(f * h, w, 3)), (f, h, w)


def heat_to_uint8(heat) -> np.ndarray:
    """(F, h, w) heat in [0, 1] -> uint8; raises ValueError for anything else."""
    if hasattr(heat, "detach"):
        heat = heat.detach().cpu().numpy()
    arr = np.asarray(heat, dtype=np.float32)
    if arr.ndim != 3 or min(arr.shape) < 1:
        raise ValueError(f"heat must be shaped (F, h, w) with values in [0, 1]; got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError("heat must be finite (no NaN or inf)")
    return np.round(np.clip(arr, 0.0, 1.0) * 255).astype(np.uint8)


def heat_strip(heat) -> tuple[bytes, tuple[int, int, int]]:
    """(F, h, w) heat in [0, 1] -> (grey PNG bytes of the (F*h, w) strip, (F, h, w))."""
    arr = heat_to_uint8(heat)
    f, h, w = arr.shape
    return png(arr.reshape(f * h, w)), (f, h, w)


def decode_strip(data: bytes, num_frames: int) -> np.ndarray:
    """Inverse of video_strip / heat_strip: PNG bytes -> (F, H, W[, 3]) uint8 (used by tests and fallbacks)."""
    arr = np.asarray(Image.open(io.BytesIO(data)))
    if arr.shape[0] % num_frames:
        raise ValueError(f"strip of height {arr.shape[0]} does not split into {num_frames} frames")
    return arr.reshape(num_frames, arr.shape[0] // num_frames, *arr.shape[1:])


def sound_wav(audio, sample_rate, seconds: float) -> tuple[bytes, np.ndarray]:
    """A clip's soundtrack for the browser: (16-bit PCM WAV bytes, the checked samples (S, channels)), cut or
    padded with silence to last exactly `seconds` (the clip's duration), so the sound ends where the frames do."""
    from scipy.io import wavfile

    from ..audio import check_audio, fit_length

    samples, rate = check_audio(audio, sample_rate)
    samples = fit_length(samples, rate, seconds)
    buf = io.BytesIO()
    wavfile.write(buf, rate, np.round(samples * 32767).astype(np.int16))
    return buf.getvalue(), samples
