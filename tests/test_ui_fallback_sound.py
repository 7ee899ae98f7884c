"""The Player's static fallback (what nbviewer, GitHub or an exported page shows) keeps the clip's sound:
the embedded mp4 carries the soundtrack as AAC, as long as the clip, muted as the Player was; a silent
Player's fallback has no audio stream. In Chromium the fallback video loads at the clip's duration and
decodes its sound."""
from __future__ import annotations

import base64
import re

import numpy as np
import pytest

from sorakit import ui, world
from sorakit.audio import read_audio

SR = world.SAMPLE_RATE


@pytest.fixture(scope="module")
def clip():
    return world.sample(3, num_frames=24)  # 3 s at 8 fps, 16 kHz stereo, a bounce to hear


def _fallback_html(player) -> str:
    data, _ = player._repr_mimebundle_()
    return data["text/html"]


def _mp4(markup: str, tmp_path, name: str = "fallback.mp4"):
    (payload,) = re.findall(r'src="data:video/mp4;base64,([^"]+)"', markup)
    path = tmp_path / name
    path.write_bytes(base64.b64decode(payload))
    return path


def _envelope(samples: np.ndarray, window: int = 320) -> np.ndarray:
    """RMS of the mono mix in 20 ms windows."""
    mono = samples.mean(axis=1)[: len(samples) // window * window]
    return np.sqrt((mono.reshape(-1, window) ** 2).mean(axis=1))


def test_fallback_video_carries_the_soundtrack_as_long_as_the_clip(clip, tmp_path):
    player = ui.Player(clip.video, fps=clip.fps, audio=clip.audio, sample_rate=clip.sample_rate)
    markup = _fallback_html(player)
    heard = read_audio(_mp4(markup, tmp_path), SR)
    assert abs(len(heard) - 3 * SR) <= 1024  # the clip's 3 s (AAC frames are 1024 samples)
    n = min(len(heard), len(clip.audio))
    truth, got = _envelope(clip.audio[:n]), _envelope(heard[:n])
    assert np.corrcoef(truth, got)[0, 1] > 0.9  # the same sound, at the same times
    assert np.argmax(got) == np.argmax(truth)
    tag = re.search(r"<video[^>]*>", markup).group(0)
    assert " muted" not in tag and "autoplay" not in tag  # with sound it waits for play, as sorakit.show does
    silent = _fallback_html(ui.Player(clip.video, fps=clip.fps))
    extra = len(markup) - len(silent)
    assert 0 < extra < 64_000, extra  # a 16-bit WAV of these 3 s would add 256 kB as base64


def test_muted_player_falls_back_muted_with_the_sound_kept(clip, tmp_path):
    player = ui.Player(clip.video, fps=clip.fps, audio=clip.audio, sample_rate=clip.sample_rate)
    player.muted = True
    markup = _fallback_html(player)
    tag = re.search(r"<video[^>]*>", markup).group(0)
    assert " muted" in tag and "autoplay" in tag  # muted, the browser lets it autoplay; its controls unmute
    assert abs(len(read_audio(_mp4(markup, tmp_path), SR)) - 3 * SR) <= 1024


def test_silent_player_falls_back_without_an_audio_stream(clip, tmp_path):
    player = ui.Player(clip.video, fps=clip.fps)
    with pytest.raises(ValueError, match="has no sound"):
        read_audio(_mp4(_fallback_html(player), tmp_path), SR)
    player.show_video(clip.video, fps=clip.fps, audio=clip.audio, sample_rate=clip.sample_rate)
    player.show_video(clip.video, fps=clip.fps)  # a new silent clip drops the old sound
    with pytest.raises(ValueError, match="has no sound"):
        read_audio(_mp4(_fallback_html(player), tmp_path, "again.mp4"), SR)


def test_show_refuses_a_muted_that_is_not_a_bool(clip):
    from sorakit import media

    with pytest.raises(ValueError, match="muted must be True or False"):
        media.show(clip.video, audio=clip.audio, sample_rate=SR, muted="yes")


VIDEO = "document.querySelector('video')"


@pytest.mark.browser
def test_fallback_loads_and_decodes_its_sound_in_chromium(chromium, clip):
    markups = {"sound": _fallback_html(ui.Player(clip.video, fps=clip.fps, audio=clip.audio, sample_rate=SR)),
               "silent": _fallback_html(ui.Player(clip.video, fps=clip.fps))}
    decoded = {}
    page = chromium.new_page()
    try:
        for name, markup in markups.items():
            page.set_content(markup)
            page.wait_for_function(f"() => {VIDEO}.readyState >= 1", timeout=15_000)
            assert page.evaluate(f"{VIDEO}.duration") == pytest.approx(3.0, abs=0.05)
            page.evaluate(f"() => {{ {VIDEO}.muted = true; return {VIDEO}.play(); }}")  # muted: no gesture needed
            page.wait_for_function(f"() => {VIDEO}.currentTime > 0.5", timeout=15_000)
            decoded[name] = page.evaluate(f"{VIDEO}.webkitAudioDecodedByteCount")
    finally:
        page.close()
    assert decoded["sound"] > 0 and decoded["silent"] == 0, decoded
