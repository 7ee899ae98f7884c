"""The A/V-sync probe: ground truth is in sync, a shifted soundtrack is caught and its shift measured."""
from __future__ import annotations

import numpy as np
import pytest

from sorakit import probes, world
from sorakit.probes.av_sync import match_onsets, pool_onsets

SR = world.SAMPLE_RATE


def _shifted(audio: np.ndarray, seconds: float) -> np.ndarray:
    """The soundtrack played `seconds` late (early when negative), silence filling the gap."""
    k = int(round(seconds * SR))
    out = np.zeros_like(audio)
    if k >= 0:
        out[k:] = audio[:len(audio) - k]
    else:
        out[:k] = audio[-k:]
    return out


@pytest.fixture(scope="module")
def clips():
    # several balls (9 and 5 onsets), a hoop shot (rim clang, swish), a drop
    return [world.sample(seed) for seed in (0, 2, 3, 11)]


def test_ground_truth_is_in_sync_with_the_simulator(clips):
    for clip in clips:
        result = probes.av_sync(clip, clip.audio, clip.sample_rate)
        assert result.passed and result.metrics["f1"] == 1.0, result
        assert result.metrics["reference"] == "simulator events"
        assert len(result.metrics["onsets"]) == len(clip.onsets) >= 1
        assert abs(result.metrics["median_offset"]) <= 0.015  # the onset detector's latency, a few ms


@pytest.mark.parametrize("shift", [0.1, 0.25, -0.1])
def test_a_shifted_soundtrack_is_flagged_with_its_shift(clips, shift):
    for clip in clips:
        result = probes.av_sync(clip, _shifted(clip.audio, shift), clip.sample_rate)
        assert result.passed is False and result.metrics["shifted"], result
        # dense clips (9 onsets in 2 s) match some onsets by chance even when shifted
        assert result.metrics["f1"] + 0.25 <= result.metrics["f1_if_shifted_back"] >= 0.8  # ends lose onsets
        assert result.metrics["median_offset"] == pytest.approx(shift, abs=0.015)
        assert "shifted by" in result.reason


def test_visible_contacts_in_the_video_are_the_reference_for_any_clip():
    clip = world.sample(11, height=64, width=64, fps=24, num_frames=48)  # a drop: one clear floor bounce
    in_sync = probes.av_sync(clip.video, clip.audio, clip.sample_rate, fps=24)
    assert in_sync.metrics["reference"] == "visible contacts" and in_sync.passed, in_sync
    assert abs(in_sync.metrics["median_offset"]) < 0.02
    late = probes.av_sync(clip.video, _shifted(clip.audio, 0.25), clip.sample_rate, fps=24)
    assert late.passed is False and late.metrics["estimated_shift"] == pytest.approx(0.25, abs=0.03)


def test_silence_against_contacts_fails_and_nothing_against_nothing_is_skipped():
    clip = world.sample(11)
    silent = probes.av_sync(clip, np.zeros_like(clip.audio), SR)
    assert silent.passed is False and silent.metrics["recall"] == 0.0
    rolling = world.sample(1, scenario="roll")  # no contact, quiet rolling noise: no onset either
    skipped = probes.av_sync(rolling, rolling.audio, SR)
    assert skipped.passed is None and skipped.metrics["onsets"].size == 0


def test_onsets_are_matched_as_many_as_the_window_allows_not_nearest_first():
    # nearest-first would pair 0.15 with 0.14 and leave two unmatched; the maximum matching pairs both
    m = match_onsets([0.10, 0.15], [0.14, 0.19], 0.05)
    assert m.pairs == [(0, 0), (1, 1)] and m.offsets == pytest.approx([0.04, 0.04])
    assert m.scores() == (1.0, 1.0, 1.0)
    assert match_onsets([0.10], [0.16], 0.05).matched == 0


def test_clips_are_pooled_by_their_counts_and_a_clip_with_nothing_has_no_f1():
    both = match_onsets([0.10, 0.50], [0.11, 0.48])  # offsets +10 and -20 ms
    nothing = match_onsets([], [])
    silent = match_onsets([0.30], [])  # a contact and no onset: F1 0
    p = pool_onsets([both, nothing, silent])
    assert (p["reference"], p["onsets"], p["matched"]) == (3, 2, 2)
    assert (p["precision"], p["recall"], p["f1"]) == pytest.approx((1.0, 2 / 3, 0.8))
    assert (p["mean_f1"], p["clips_scored"]) == (0.5, 2)  # mean of 1.0 and 0.0: the empty clip left out
    assert (p["median_offset"], p["median_abs_offset"]) == pytest.approx((-0.005, 0.015))
    assert nothing.scores() == (None, None, None) and silent.scores() == (None, 0.0, 0.0)
    assert pool_onsets([])["f1"] is None and pool_onsets([nothing])["median_offset"] is None


def test_matching_refuses_what_is_not_times():
    with pytest.raises(ValueError, match="1-D"):
        match_onsets(np.zeros((2, 2)), [0.1])
    with pytest.raises(ValueError, match="finite"):
        match_onsets([np.nan], [0.1])
    with pytest.raises(ValueError, match="tolerance"):
        match_onsets([0.1], [0.1], tolerance=0)
    with pytest.raises(TypeError, match="OnsetMatch"):
        pool_onsets([{"contacts": [], "onsets": []}])


def _jumps_and_clicks(jump_frames, fps=24, frames=48):
    """A still square that jumps 6 px at `jump_frames`, and a click at each jump's time."""
    video = np.zeros((frames, 64, 64, 3), np.float32)
    x = 4
    for f in range(frames):
        x += 6 if f in jump_frames else 0
        video[f, 28:36, x:x + 8] = 1.0
    audio = np.zeros(int(frames / fps * SR), np.float32)
    burst = np.random.default_rng(0).standard_normal(800) * np.exp(-np.arange(800) / 80) * 0.5
    for f in jump_frames:
        audio[int(f / fps * SR):int(f / fps * SR) + 800] += burst
    return video, audio


def test_av_align_is_the_iou_of_onset_and_flow_peaks():
    video, audio = _jumps_and_clicks((10, 30))
    assert probes.av_align(video, audio, SR, fps=24) == 1.0  # both peaks match, nothing else peaks
    assert probes.av_align(video, _shifted(audio, 0.25), SR, fps=24) == 0.0  # six frames off: no match


def test_bad_input_is_refused_with_what_is_allowed():
    clip = world.sample(11)
    with pytest.raises(ValueError, match="samples, channels"):
        probes.av_sync(clip, np.zeros((SR, 3), np.float32), SR)
    with pytest.raises(ValueError, match="samples, channels"):
        probes.av_sync(clip, np.zeros(SR, np.int16), SR)
    with pytest.raises(ValueError, match="NaN"):
        probes.av_sync(clip, np.full(SR, np.nan, np.float32), SR)
    with pytest.raises(ValueError, match="sample_rate must be"):
        probes.av_sync(clip, clip.audio, 0)
    with pytest.raises(ValueError, match="tolerance"):
        probes.av_sync(clip, clip.audio, SR, tolerance=0)
    with pytest.raises(TypeError, match="reference must be"):
        probes.av_sync("clip.mp4", clip.audio, SR)
    with pytest.raises(ValueError, match="at least 3 frames"):
        probes.av_align(clip.video[:2], clip.audio, SR)
