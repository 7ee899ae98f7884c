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

from dataclasses import dataclass
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


@dataclass(frozen=True, eq=False)
class OnsetMatch:
    """One clip's sound onsets matched one-to-one with its reference events (contacts or simulator onsets)."""

    reference: np.ndarray  # (n,) event times, s
    onsets: np.ndarray  # (m,) onset times, s
    pairs: list[tuple[int, int]]  # (i, j): reference[i] is heard at onsets[j]

    @property
    def matched(self) -> int:
        return len(self.pairs)

    @property
    def offsets(self) -> np.ndarray:
        """(matched,) onset minus event time of each pair, s: positive means the sound is late."""
        return np.array([self.onsets[j] - self.reference[i] for i, j in self.pairs], dtype=float)

    def scores(self) -> tuple[float | None, float | None, float | None]:
        """(precision, recall, F1) of this clip, as `onset_scores`."""
        return onset_scores(self.matched, len(self.reference), len(self.onsets))


def match_onsets(reference, onsets, tolerance: float = TOLERANCE) -> OnsetMatch:
    """Match onset times to reference event times (both in s), each at most once, within `tolerance`:
    mir_eval's maximum matching (as many pairs as the window allows, not greedy nearest-first)."""
    import mir_eval

    reference, onsets = np.asarray(reference, dtype=float), np.asarray(onsets, dtype=float)
    if reference.ndim != 1 or onsets.ndim != 1:
        raise ValueError(f"reference and onsets must be 1-D arrays of seconds, got shapes "
                         f"{reference.shape} and {onsets.shape}")
    if not (np.isfinite(reference).all() and np.isfinite(onsets).all()):
        raise ValueError("reference and onsets must be finite times in seconds, got NaN or infinity")
    if isinstance(tolerance, bool) or not isinstance(tolerance, Real) or not tolerance > 0:
        raise ValueError(f"tolerance must be a positive number of seconds, got {tolerance!r}")
    pairs = mir_eval.util.match_events(reference, onsets, tolerance) if len(reference) and len(onsets) else []
    return OnsetMatch(reference, onsets, [(int(i), int(j)) for i, j in pairs])


def onset_scores(matched: int, n_reference: int, n_onsets: int) -> tuple[float | None, float | None, float | None]:
    """Precision, recall and F1 (= 2 matched / (events + onsets)) of `matched` pairs; None where undefined:
    precision without onsets, recall without events, all three without either. No onsets for some
    events, or onsets for none: F1 0."""
    precision = matched / n_onsets if n_onsets else None
    recall = matched / n_reference if n_reference else None
    f1 = 2 * matched / (n_reference + n_onsets) if n_reference + n_onsets else None
    return precision, recall, f1


def pool_onsets(clips) -> dict:
    """Scores over several clips' `OnsetMatch`es: "reference", "onsets", "matched" (counts summed);
    "precision", "recall", "f1" of the summed counts (`onset_scores`); "mean_f1", the mean of the clips'
    own F1 over the "clips_scored" clips that have one (a clip with neither events nor onsets has none);
    "median_offset" and "median_abs_offset" of every matched pair (s). None where undefined."""
    clips = list(clips)
    if not all(isinstance(c, OnsetMatch) for c in clips):
        raise TypeError("pool_onsets takes OnsetMatch objects (from match_onsets), got "
                        f"{sorted({type(c).__name__ for c in clips if not isinstance(c, OnsetMatch)})}")
    n_ref, n_est = sum(len(c.reference) for c in clips), sum(len(c.onsets) for c in clips)
    matched = sum(c.matched for c in clips)
    precision, recall, f1 = onset_scores(matched, n_ref, n_est)
    per_clip = [c.scores()[2] for c in clips]
    per_clip = [f for f in per_clip if f is not None]
    offsets = np.concatenate([c.offsets for c in clips]) if clips else np.zeros(0)
    return {"reference": n_ref, "onsets": n_est, "matched": matched, "precision": precision, "recall": recall,
            "f1": f1, "mean_f1": float(np.mean(per_clip)) if per_clip else None, "clips_scored": len(per_clip),
            "median_offset": float(np.median(offsets)) if len(offsets) else None,
            "median_abs_offset": float(np.median(np.abs(offsets))) if len(offsets) else None}


def best_shift(ref: np.ndarray, est: np.ndarray, tolerance: float, max_shift: float) -> tuple[float, int]:
    """(shift, matches): how late the onsets are (s) when the most of them match; 0 when nothing does."""
    best = (0, np.inf, 0.0)  # (matches, spread, shift)
    for lag in np.arange(-max_shift, max_shift + 1e-9, tolerance / 20):
        pairs = match_onsets(ref + lag, est, tolerance).pairs
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
    in_sync = match_onsets(ref, est, tolerance)
    precision, recall, f1 = in_sync.scores()
    shift, shifted_matches = best_shift(ref, est, tolerance, max_shift)
    _, _, f1_shifted = onset_scores(shifted_matches, len(ref), len(est))
    in_sync_offset = float(np.median(in_sync.offsets)) if in_sync.matched else None
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
    detail = (f"onset F1 {f1:.2f} at {tolerance * 1000:.0f} ms ({in_sync.matched} of {len(est)} onsets match "
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
