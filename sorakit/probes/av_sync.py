"""A/V sync: does the sound start when something visibly hits something?

Audio onsets (librosa's spectral-flux onset detection on an absolute dB scale, so a quiet clip's
noise is not blown up into onsets) are matched one-to-one with reference contact times within a
tolerance (mir_eval's onset matching, 50 ms by default: the usual onset-F1 window). The reference is
either the visible contacts in a video (kinematic breakpoints of its tracks, `breakpoints.contacts`:
where a ball's free flight ends, timed where the flight before and the flight after meet), or the
simulator's events of a world clip. A shift is found by sliding the onsets against the contacts
(up to `max_shift`) and keeping the lag that matches the most; a clip whose sound matches much better
shifted than as it is, is flagged as shifted.

`av_align` is AV-Align (Yariv et al. 2024), for comparison with published numbers: the IoU of audio
onset peaks and optical-flow-magnitude peaks, each match within one frame.
"""
from __future__ import annotations

from numbers import Real

import numpy as np

from .. import world
from ..audio import check_audio
from .breakpoints import contacts
from .context import Context
from .report import ProbeResult, skipped

NAME = "av_sync"
TOLERANCE = 0.05  # s: the onset-F1 window
MIN_F1 = 0.8  # below this the sound does not follow the contacts
_HOP = 64  # samples per onset-envelope frame at 16 kHz: 4 ms, well under the tolerance
_N_FFT = 512
_FLOOR_DB = -70.0  # dBFS below which the spectrogram is silence
_DELTA = 4.0  # dB of mean spectral flux an onset must rise above its neighbourhood (rolling noise: < 2.2)


def as_audio(audio, sample_rate) -> tuple[np.ndarray, int]:
    """Validated mono float32 samples and an integer sample rate."""
    samples, sr = check_audio(audio, sample_rate)
    return np.ascontiguousarray(samples.mean(axis=1)), sr


def audio_onsets(audio, sample_rate: int) -> np.ndarray:
    """Seconds at which a sound starts in `audio`."""
    import librosa

    y, sr = as_audio(audio, sample_rate)
    hop = max(1, round(_HOP * sr / 16_000))
    n_fft = int(2 ** round(np.log2(_N_FFT * sr / 16_000)))
    mel = librosa.feature.melspectrogram(y=y, sr=sr, n_fft=n_fft, hop_length=hop, n_mels=64, fmax=sr / 2)
    db = librosa.power_to_db(mel, ref=1.0, amin=10 ** (_FLOOR_DB / 10), top_db=None)
    env = librosa.onset.onset_strength(S=db, sr=sr, hop_length=hop, n_fft=n_fft, lag=1, max_size=1)
    frames = lambda s: max(1, round(s * sr / hop))  # noqa: E731
    peaks = librosa.onset.onset_detect(
        onset_envelope=env, sr=sr, hop_length=hop, normalize=False, delta=_DELTA,
        pre_max=frames(0.03), post_max=frames(0.03), pre_avg=frames(0.1), post_avg=frames(0.1),
        wait=frames(world.sound.MERGE))
    return librosa.frames_to_time(peaks, sr=sr, hop_length=hop)


def visible_contacts(video, fps=None) -> np.ndarray:
    """Seconds of the contacts visible in `video` (or a Context): where a tracked ball's free flight
    breaks (a bounce, a hit, two balls colliding) or it drops through a hoop, merged as heard."""
    return _merged(c["time"] for c in contacts(video, fps))


def _merged(times) -> np.ndarray:
    out: list[float] = []
    for t in sorted(float(t) for t in times):
        if not out or t - out[-1] > world.sound.MERGE:
            out.append(t)
    return np.asarray(out, dtype=float)


def _reference(reference, fps) -> tuple[np.ndarray, str]:
    if isinstance(reference, world.Clip):
        if reference.audio is None and not reference.sounds:  # sampled with audio=False: sounds from the events
            return _merged(e.time for e in reference.events if e.kind in world.sound.SOUNDING), "simulator events"
        return reference.onsets, "simulator events"
    if isinstance(reference, Context):
        return visible_contacts(reference), "visible contacts"
    if hasattr(reference, "detach") or (isinstance(reference, np.ndarray) and reference.ndim == 4):
        return visible_contacts(reference, fps), "visible contacts"
    if isinstance(reference, (list, tuple, np.ndarray)):
        items = list(reference)
        if all(hasattr(e, "time") and hasattr(e, "kind") for e in items):
            return _merged(e.time for e in items if e.kind in world.sound.SOUNDING), "events"
        if all(isinstance(t, Real) and not isinstance(t, bool) and np.isfinite(t) for t in items):
            return _merged(items), "times"
    raise TypeError("av_sync's reference must be a video (F, H, W, 3), a probes Context, a world Clip, "
                    f"a list of world Events, or a list of times in seconds; got {type(reference).__name__}")


def _match(ref: np.ndarray, est: np.ndarray, tolerance: float) -> list[tuple[int, int]]:
    import mir_eval

    if len(ref) == 0 or len(est) == 0:
        return []
    return mir_eval.util.match_events(ref, est, tolerance)


def _f1(matches: int, n_ref: int, n_est: int) -> tuple[float | None, float | None, float | None]:
    """Precision, recall, F1; None where undefined (no onsets, no contacts, or neither)."""
    precision = matches / n_est if n_est else None
    recall = matches / n_ref if n_ref else None
    if precision is None and recall is None:
        return None, None, None
    f1 = 2 * precision * recall / (precision + recall) if precision and recall else 0.0
    return precision, recall, f1


def best_shift(ref: np.ndarray, est: np.ndarray, tolerance: float, max_shift: float) -> tuple[float, int]:
    """(shift, matches): how late the onsets are (s) when the most of them match; 0 when nothing does."""
    best = (0, np.inf, 0.0)  # (matches, spread, shift)
    for lag in np.arange(-max_shift, max_shift + 1e-9, tolerance / 20):
        pairs = _match(ref + lag, est, tolerance)
        if not pairs:
            continue
        residual = np.array([est[j] - ref[i] - lag for i, j in pairs])
        key = (len(pairs), float(np.abs(residual).mean()))
        if key[0] > best[0] or (key[0] == best[0] and key[1] < best[1]):
            best = (key[0], key[1], float(lag + np.median(residual)))
    return best[2], best[0]


def av_sync(video_or_tracks, audio, sample_rate: int, *, fps=None, tolerance: float = TOLERANCE,
            max_shift: float = 0.5) -> ProbeResult:
    """Onset precision, recall and F1 of `audio` against the contacts, the median offset, and a shift verdict.

    `video_or_tracks`: a video (its visible contacts), a probes Context (its tracks), a world Clip (its
    simulator events), or event times. Offsets are audio minus picture: positive means the sound is late.
    """
    for name, v, hi in (("tolerance", tolerance, 0.5), ("max_shift", max_shift, 5.0)):
        if isinstance(v, bool) or not isinstance(v, Real) or not 0 < v <= hi:
            raise ValueError(f"{name} must be a number of seconds in (0, {hi}], got {v!r}")
    ref, source = _reference(video_or_tracks, fps)
    est = audio_onsets(audio, sample_rate)
    pairs = _match(ref, est, tolerance)
    precision, recall, f1 = _f1(len(pairs), len(ref), len(est))
    shift, shifted_matches = best_shift(ref, est, tolerance, max_shift)
    _, _, f1_shifted = _f1(shifted_matches, len(ref), len(est))
    in_sync_offset = float(np.median([est[j] - ref[i] for i, j in pairs])) if pairs else None
    shifted = f1 is not None and abs(shift) > tolerance and f1_shifted >= max(f1 + 0.25, 0.5)
    metrics = {"precision": precision, "recall": recall, "f1": f1, "tolerance": tolerance,
               "median_offset": shift if shifted else in_sync_offset, "shifted": shifted,
               "estimated_shift": shift, "f1_if_shifted_back": f1_shifted, "reference": source,
               "onsets": est, "contacts": ref}
    if len(ref) == 0 and len(est) == 0:
        return skipped(NAME, f"no contacts ({source}) and no sound onsets: nothing to align", **metrics)
    if shifted:
        return ProbeResult(NAME, False, f"sound is shifted by {shift * 1000:+.0f} ms (onset F1 {f1:.2f} as is, "
                                        f"{f1_shifted:.2f} shifted back)", metrics)
    offset = "" if in_sync_offset is None else f", median offset {in_sync_offset * 1000:+.0f} ms"
    detail = (f"onset F1 {f1:.2f} at {tolerance * 1000:.0f} ms ({len(pairs)} of {len(est)} onsets match "
              f"{len(ref)} {source}){offset}")
    return ProbeResult(NAME, f1 >= MIN_F1, detail if f1 >= MIN_F1 else f"sound does not follow the contacts: {detail}",
                       metrics)


def av_align(video, audio, sample_rate: int, fps=None) -> float:
    """AV-Align (Yariv et al. 2024): IoU of audio onset peaks and optical-flow peaks, within one frame.

    As published: librosa's default onset detection on the audio at 22.05 kHz; mean Farneback flow
    magnitude between consecutive frames, whose strict local maxima are the video peaks. The frames are
    used at their own size (the published code reads them from the decoded file).
    """
    import cv2
    import librosa

    from .inputs import as_fps, as_video

    frames = (as_video(video) * 255).round().astype(np.uint8)
    if len(frames) < 3:
        raise ValueError(f"av_align needs at least 3 frames (a flow peak has neighbours), got {len(frames)}")
    fps = as_fps(fps)
    y, sr = as_audio(audio, sample_rate)
    y = librosa.resample(y, orig_sr=sr, target_sr=22050)
    env = librosa.onset.onset_strength(y=y, sr=22050)
    audio_peaks = librosa.frames_to_time(librosa.onset.onset_detect(onset_envelope=env, sr=22050), sr=22050)
    gray = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
    flow = [_flow_magnitude(gray[max(i - 1, 0)], gray[max(i, 1)]) for i in range(len(gray))]
    video_peaks = [i / fps for i in range(1, len(flow) - 1) if flow[i - 1] < flow[i] > flow[i + 1]]
    hits = sum(any(v - 1 / fps < a < v + 1 / fps for v in video_peaks) for a in audio_peaks)
    union = len(audio_peaks) + len(video_peaks) - hits
    return hits / union if union else 0.0


def _flow_magnitude(a: np.ndarray, b: np.ndarray) -> float:
    import cv2

    flow = cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 3, 15, 3, 5, 1.2, 0)
    return float(cv2.magnitude(flow[..., 0], flow[..., 1]).mean())
