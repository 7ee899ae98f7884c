"""Sound travels with the clip: export muxes it (AAC) in sync, show plays it, silent clips stay as before."""
from __future__ import annotations

import base64
import re

import numpy as np
import pytest

from sorakit import probes, world
from sorakit.audio import read_audio
from sorakit.media import export, read_video, show


@pytest.fixture(scope="module")
def clip():
    return world.sample(0)  # several balls: 9 onsets in 2 s


def test_exported_mp4_carries_the_sound_in_sync(clip, tmp_path):
    path = export(clip.video, tmp_path / "clip.mp4", audio=clip.audio, sample_rate=clip.sample_rate)
    sound = read_audio(path, clip.sample_rate)
    assert abs(len(sound) - len(clip.audio)) <= 0.02 * clip.sample_rate  # the clip's 2 s, give or take AAC framing
    sync = probes.av_sync(clip, sound, clip.sample_rate)
    assert sync.metrics["f1"] == 1.0 and abs(sync.metrics["median_offset"]) <= 0.015, sync  # AAC delay compensated
    silent = export(clip.video, tmp_path / "silent.mp4")
    assert np.array_equal(read_video(path), read_video(silent))  # the sound changes no pixel
    with pytest.raises(ValueError, match="has no sound"):
        read_audio(silent)


def test_audio_is_fitted_to_the_clip_length(clip, tmp_path):
    short = clip.audio[: clip.sample_rate // 2]  # half a second of a 2 s clip: the rest is silence
    path = export(clip.video, tmp_path / "short.mp4", audio=short[:, 0], sample_rate=clip.sample_rate)
    sound = read_audio(path, clip.sample_rate)
    assert abs(len(sound) - len(clip.audio)) <= 0.02 * clip.sample_rate
    assert np.abs(sound[clip.sample_rate:]).max() < 1e-3 < np.abs(sound[: clip.sample_rate // 2]).max()


def test_show_plays_the_sound_and_stays_muted_autoplay_without(clip, tmp_path):
    with_sound = show(clip.video, audio=clip.audio, sample_rate=clip.sample_rate).data
    assert "muted" not in with_sound and "autoplay" not in with_sound  # browsers refuse to autoplay sound
    mp4 = tmp_path / "shown.mp4"
    mp4.write_bytes(base64.b64decode(re.search(r"base64,([^\"]+)", with_sound).group(1)))
    assert np.abs(read_audio(mp4)).max() > 0.1
    assert "autoplay loop muted" in show(clip.video).data


def test_bad_audio_arguments_are_refused(clip, tmp_path):
    with pytest.raises(ValueError, match="a .gif has no sound"):
        export(clip.video, tmp_path / "c.gif", audio=clip.audio, sample_rate=16000)
    with pytest.raises(ValueError, match="needs its sample_rate"):
        export(clip.video, tmp_path / "c.mp4", audio=clip.audio)
    with pytest.raises(ValueError, match="without audio"):
        export(clip.video, tmp_path / "c.mp4", sample_rate=16000)
    with pytest.raises(ValueError, match="1 or 2 channels"):
        show(clip.video, audio=np.zeros((16000, 6), np.float32), sample_rate=16000)
    with pytest.raises(ValueError, match="in \\[-1, 1\\]"):
        export(clip.video, tmp_path / "c.mp4", audio=clip.audio * 4, sample_rate=16000)
    assert not (tmp_path / "c.mp4").exists()
