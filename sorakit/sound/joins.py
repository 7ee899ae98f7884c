"""Soundtracks for clips made of other clips: storyboards (takes joined at cuts), extensions (a clip
carried on) and remixes (a clip remade). Every soundtrack lasts exactly as long as its frames play,
and each part of it starts at the sample where its first frame is shown.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..audio import check_audio, fit_length
from ..world import SAMPLE_RATE
from .soundtrack import add_sound


def frame_sample(frame: int, fps: float, sample_rate: int) -> int:
    """The first sample heard with `frame` (frame 0 at sample 0)."""
    return int(round(frame * sample_rate / fps))


def takes_soundtrack(video: np.ndarray, fps: float, takes: Sequence[int],
                     sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """One stereo soundtrack (samples, 2) for `video` made of takes starting at the frames `takes`
    (0 first; a cut starts each of the others). Each take is heard on its own, so a cut, where
    everything jumps, is never heard as an impact; each take's sound starts at its first frame's sample."""
    bounds = sorted({0, *(int(t) for t in takes)} | {len(video)})
    if bounds[0] != 0 or bounds[-1] != len(video) or any(not 0 <= t <= len(video) for t in takes):
        raise ValueError(f"takes must be frame indices within the video's {len(video)} frames; got {list(takes)}")
    parts = []
    for start, end in zip(bounds, bounds[1:]):
        audio, _ = add_sound(video[start:end], fps=fps, sample_rate=sample_rate)
        seconds = (frame_sample(end, fps, sample_rate) - frame_sample(start, fps, sample_rate)) / sample_rate
        parts.append(fit_length(audio, sample_rate, seconds))
    return np.concatenate(parts)


def extended_soundtrack(audio: Any, sample_rate: int, video: np.ndarray, kept: int, fps: float) -> np.ndarray:
    """The soundtrack of `video`, whose first `kept` frames had `audio`: that sound is kept as it was
    over those frames and the new frames get the sound add_sound hears in them (seeing the whole clip,
    so motion across the seam is heard as it would be in one take)."""
    audio, sample_rate = check_audio(audio, sample_rate)
    seam = frame_sample(kept, fps, sample_rate)
    old = fit_length(audio, sample_rate, seam / sample_rate)
    heard, _ = add_sound(video, fps=fps, sample_rate=sample_rate)
    new = fit_length(heard, sample_rate, frame_sample(len(video), fps, sample_rate) / sample_rate)[seam:]
    if old.shape[1] != new.shape[1]:  # a mono source: its sound on both sides
        old = np.repeat(old, new.shape[1], axis=1)
    return np.concatenate([old, new])


def source_sound(video: Any, audio: Any = None, sample_rate: int | None = None) -> tuple[np.ndarray | None, int] | None:
    """What a remix or extension of `video` should sound like it came from: (the source's soundtrack or
    None when it had none but sound is asked for, sample rate), or None for a silent result.

    audio: None (the default): the sound of a file given as the source, if it has any, else silent;
    an array (with its `sample_rate`): the source's soundtrack; True: sound even for a silent source;
    False: silent.
    """
    import os

    if audio is None or audio is True:
        if isinstance(video, (str, os.PathLike)):
            from ..audio import read_audio

            try:
                return read_audio(video, SAMPLE_RATE), SAMPLE_RATE
            except ValueError:  # no sound in the file
                pass
        return (None, SAMPLE_RATE) if audio is True else None
    if audio is False:
        return None
    if sample_rate is None:
        raise ValueError("audio= (the source's soundtrack) needs its sample_rate= (e.g. clip.sample_rate)")
    return check_audio(audio, sample_rate)


def derived_sound(source: tuple[np.ndarray | None, int] | None, video: np.ndarray, kept: int,
                  fps: float) -> tuple[np.ndarray | None, int | None]:
    """(audio, sample_rate) of a clip derived from a source with `source_sound`: None, None for a silent
    one; the source's sound over the `kept` frames it shares with the source (0 for a remix, where every
    frame is new), and what add_sound hears in the rest."""
    if source is None:
        return None, None
    audio, sample_rate = source
    if audio is None or kept == 0:
        heard, _ = add_sound(video, fps=fps, sample_rate=sample_rate)
        return fit_length(heard, sample_rate, frame_sample(len(video), fps, sample_rate) / sample_rate), sample_rate
    return extended_soundtrack(audio, sample_rate, video, kept, fps), sample_rate
