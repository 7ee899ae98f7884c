"""Soundtracks as arrays: validation, fitting to a clip's length, WAV files, and reading a file's sound.

Audio is float samples shaped (samples,) for mono or (samples, channels) with 1 or 2 channels, in
[-1, 1], at an integer sample rate (world clips: 16 kHz stereo). The same checks serve export,
show and the A/V-sync probe, so every surface refuses bad audio with the same message.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np

ALLOWED = "float audio shaped (samples,) or (samples, channels) with 1 or 2 channels, finite, in [-1, 1]"
RATES = (8000, 192_000)
MIN_SAMPLES = 512  # one onset-analysis window
MAX_SECONDS = 600.0  # read_audio stops here: a file from elsewhere cannot make us decode for hours


def check_audio(audio, sample_rate) -> tuple[np.ndarray, int]:
    """(float32 samples shaped (samples, channels), sample rate), or a ValueError naming what is allowed."""
    lo, hi = RATES
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)) or not lo <= sample_rate <= hi:
        raise ValueError(f"sample_rate must be an integer from {lo} to {hi} Hz, got {sample_rate!r}")
    if hasattr(audio, "detach"):  # torch tensor
        audio = audio.detach().cpu().numpy()
    arr = np.asarray(audio)
    channels_ok = arr.ndim == 1 or (arr.ndim == 2 and arr.shape[1] in (1, 2))
    if not np.issubdtype(arr.dtype, np.floating) or not channels_ok:
        raise ValueError(f"expected {ALLOWED}; got dtype {arr.dtype}, shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"expected {ALLOWED}; got NaN or inf values")
    if arr.shape[0] < MIN_SAMPLES or np.abs(arr).max() > 1 + 1e-3:
        raise ValueError(f"expected {ALLOWED} and at least {MIN_SAMPLES} samples; got shape {arr.shape}, "
                         f"peak {np.abs(arr).max():.3g}")
    arr = arr.reshape(len(arr), -1)
    return np.ascontiguousarray(np.clip(arr, -1.0, 1.0), dtype=np.float32), int(sample_rate)


def fit_length(audio: np.ndarray, sample_rate: int, seconds: float) -> np.ndarray:
    """`audio` (samples, channels) cut or padded with silence to last exactly `seconds`."""
    n = int(round(seconds * sample_rate))
    if len(audio) >= n:
        return audio[:n]
    return np.concatenate([audio, np.zeros((n - len(audio), audio.shape[1]), audio.dtype)])


def write_wav(path: str | os.PathLike, audio: np.ndarray, sample_rate: int) -> Path:
    """16-bit PCM WAV of checked audio (what ffmpeg then encodes to AAC)."""
    from scipy.io import wavfile

    samples, sr = check_audio(audio, sample_rate)
    wavfile.write(str(path), sr, np.round(samples * 32767).astype(np.int16))
    return Path(path)


def read_audio(path: str | os.PathLike, sample_rate: int = 16_000) -> np.ndarray:
    """The sound of a media file as float32 stereo (samples, 2) at `sample_rate`; a ValueError if it has none."""
    import imageio_ffmpeg

    check_audio(np.zeros(MIN_SAMPLES, np.float32), sample_rate)  # the rate's own check
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no such file: {path}")
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-nostdin", "-i", str(path), "-t", str(MAX_SECONDS),
           "-vn", "-map", "0:a:0?", "-ac", "2", "-ar", str(int(sample_rate)), "-f", "f32le", "-"]
    out = subprocess.run(cmd, capture_output=True, timeout=120)
    if b"does not contain any stream" in out.stderr:  # the optional audio map matched nothing
        raise ValueError(f"{path.name} has no sound")
    if out.returncode != 0:
        raise ValueError(f"{path.name}: ffmpeg could not read its sound: {out.stderr.decode(errors='replace')[-200:]}")
    samples = np.frombuffer(out.stdout, np.float32)
    if samples.size == 0:
        raise ValueError(f"{path.name} has no sound")
    return samples.reshape(-1, 2).copy()
