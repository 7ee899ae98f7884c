"""The Player with sound: the soundtrack travels as WAV as long as the clip, and in Chromium the audio
element follows play/pause, the scrubber and the speed (widgets/player.js under a stand-in model)."""
from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
from scipy.io import wavfile

from sorakit import ui
from sorakit.ui.assets import widgets_dir

SR = 16_000
FPS = 8.0


@pytest.fixture
def clip(square_clip):
    video = square_clip(16)  # 2 s at 8 fps
    audio = np.zeros((int(2 * SR), 2), np.float32)
    for k in range(4):  # a click at the start of frames 0, 4, 8, 12
        audio[int(k * 0.5 * SR):int(k * 0.5 * SR) + 200] = 0.5
    return video, audio


def test_soundtrack_travels_as_wav_as_long_as_the_clip(clip):
    video, audio = clip
    player = ui.Player(video, fps=FPS, audio=audio[:20_000], sample_rate=SR)  # shorter: padded with silence
    rate, samples = wavfile.read(io.BytesIO(player.audio_wav))
    assert rate == SR and samples.shape == (32_000, 2) and player.audio.shape == (32_000, 2)
    assert np.abs(samples[:20_000] / 32767 - audio[:20_000]).max() < 1e-4 and not samples[20_000:].any()
    player.show_video(video[:8], fps=FPS, audio=audio, sample_rate=SR)  # longer: cut to the 1 s of frames
    assert wavfile.read(io.BytesIO(player.audio_wav))[1].shape == (16_000, 2)
    player.show_video(video)
    assert player.audio_wav == b"" and player.audio is None and player.sample_rate is None
    with pytest.raises(ValueError, match="go together"):
        player.show_video(video, audio=audio)
    with pytest.raises(ValueError, match="sample_rate must be an integer"):
        player.show_video(video, audio=audio, sample_rate=44.1)
    with pytest.raises(ValueError, match="finite"):
        player.show_video(video, audio=np.full((1000, 2), np.nan, np.float32), sample_rate=SR)


HARNESS = """<!doctype html><html><head><link rel="stylesheet" href="sorakit.css"></head><body>
<div id="root"></div><script id="state" type="application/json">STATE</script>
<script type="module">
import widget from "./player.js";
const raw = JSON.parse(document.getElementById("state").textContent), state = {}, handlers = {};
for (const [k, v] of Object.entries(raw)) {  // Bytes traits arrive as DataViews, as anywidget hands them over
  if (v && v.$bytes !== undefined) {
    const s = atob(v.$bytes), a = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) a[i] = s.charCodeAt(i);
    state[k] = new DataView(a.buffer);
  } else state[k] = v;
}
window.model = {  // the part of anywidget's model the widget uses; change events fire synchronously
  get: (k) => state[k],
  set: (k, v) => {
    const old = state[k]; state[k] = v;
    if (old !== v) (handlers[`change:${k}`] || []).forEach((f) => f());
  },
  on: (e, f) => { (handlers[e] ||= []).push(f); },
  off: (e, f) => { handlers[e] = (handlers[e] || []).filter((g) => g !== f); },
  save_changes: () => {}, send: () => {},
};
widget.render({ model: window.model, el: document.getElementById("root") });
window.ready = true;
</script></body></html>"""
AUDIO = "document.querySelector('audio.sorakit-audio')"
FRAME = "+document.querySelector('.sorakit-player-canvas').dataset.frame"


def _page(chromium, player):
    state = {k: ({"$bytes": base64.b64encode(bytes(v)).decode()} if isinstance(v, (bytes, memoryview)) else v)
             for k, v in player.get_state().items() if not k.startswith("_")}
    html = HARNESS.replace("STATE", json.dumps(state).replace("</", "<\\/"))
    files = {"index.html": (html, "text/html"),
             "player.js": ((widgets_dir() / "player.js").read_text(), "text/javascript"),
             "sorakit.css": ((widgets_dir() / "sorakit.css").read_text(), "text/css")}

    def serve(route):
        body, kind = files[route.request.url.rsplit("/", 1)[-1]]
        route.fulfill(body=body, content_type=kind)

    page = chromium.new_page()
    page.route("http://sorakit.test/**", serve)
    page.goto("http://sorakit.test/index.html")
    page.wait_for_function(f"() => window.ready && {AUDIO}.readyState >= 2 && {FRAME} === 0", timeout=15_000)
    return page


@pytest.mark.browser
def test_audio_follows_play_pause_scrubber_and_speed_in_chromium(chromium, clip):
    video, audio = clip
    player = ui.Player(video, fps=FPS, audio=audio, sample_rate=SR)
    player.playing = False
    page = _page(chromium, player)
    try:
        assert page.evaluate(f"{AUDIO}.duration") == pytest.approx(2.0, abs=0.01)
        assert page.evaluate(f"{AUDIO}.paused") is True

        page.click(".sorakit-play")  # a user gesture: the browser lets sound start
        page.wait_for_function(f"() => !{AUDIO}.paused && {AUDIO}.currentTime > 0.3", timeout=10_000)
        frame, time = page.evaluate(f"[{FRAME}, {AUDIO}.currentTime]")
        assert abs(frame - int(time * FPS) % 16) <= 1  # the frame shown is the sound's

        page.click(".sorakit-play")  # pause: sound stops at the frame shown
        assert page.evaluate(f"{AUDIO}.paused") is True
        frame, time = page.evaluate(f"[{FRAME}, {AUDIO}.currentTime]")
        assert time == pytest.approx(frame / FPS, abs=1e-3)

        page.locator(".sorakit-scrub").fill("10")
        page.wait_for_function(f"() => {FRAME} === 10")
        assert page.evaluate(f"{AUDIO}.currentTime") == pytest.approx(10 / FPS, abs=1e-3)
        assert page.evaluate(f"{AUDIO}.paused") is True

        rates = {}
        for speed in ("1", "2"):  # from frame 0 each time, 0.6 s of wall clock: no loop within it
            page.locator(".sorakit-speed").select_option(speed)
            page.locator(".sorakit-scrub").fill("0")
            page.click(".sorakit-play")
            rates[speed] = page.evaluate(f"""async () => {{
                const a = {AUDIO};
                while (a.paused || a.readyState < 2) await new Promise((r) => setTimeout(r, 20));
                const t0 = a.currentTime, w0 = performance.now();
                await new Promise((r) => setTimeout(r, 600));
                return [a.playbackRate, (a.currentTime - t0) / ((performance.now() - w0) / 1000)];
            }}""")
        assert rates["1"][0] == 1 and rates["2"][0] == 2
        assert 1.5 <= rates["2"][1] / rates["1"][1] <= 2.5, rates  # sound runs twice as fast at 2x

        page.evaluate("window.model.set('muted', true)")
        assert page.evaluate(f"{AUDIO}.muted") is True
        page.locator(".sorakit-scrub").fill("4")  # scrubbing while playing pauses frames and sound
        page.wait_for_function(f"() => {FRAME} === 4 && {AUDIO}.paused", timeout=5000)
        assert page.evaluate(f"{AUDIO}.currentTime") == pytest.approx(4 / FPS, abs=1e-3)
    finally:
        page.close()


def test_studio_plays_its_clips_with_sound_and_mutes_them(tiny_pipe, tmp_path):
    import sorakit
    from sorakit.audio import read_audio

    studio = ui.Studio(tiny_pipe, "a red ball bounces", seed=1, steps=1, seeds=1, moderation=False)
    generation = studio.generate()
    heard, rate = sorakit.add_sound(generation.video, fps=generation.fps)
    assert studio.player.sample_rate == rate and np.array_equal(studio.player.audio, heard)
    assert wavfile.read(io.BytesIO(studio.player.audio_wav))[1].shape == (len(generation.video) / FPS * SR, 2)
    assert studio.player.muted is False
    studio.mute.value = True
    assert studio.player.muted is True and studio.player.audio_wav  # muted, the soundtrack stays
    studio.mute.value = False
    assert studio.player.muted is False
    path = studio.export(tmp_path / "clip.mp4")
    assert abs(len(read_audio(path, SR)) - len(heard)) <= 1024  # the mp4 carries the sound (AAC)


def test_studio_hears_a_storyboard_film_take_by_take(tiny_pipe, monkeypatch):
    from sorakit.sound import joins

    heard = []  # the takes each soundtrack was made over (the untrained model's clips may well be silent)
    monkeypatch.setattr(joins, "takes_soundtrack", lambda video, fps, takes, rate: heard.append(tuple(takes)) or
                        np.full((int(round(len(video) / fps * rate)), 2), 0.1, np.float32))
    studio = ui.Studio(tiny_pipe, "a red ball bounces", seed=1, steps=1, seeds=1, moderation=False)
    studio.storyboard.board.add("a blue ball rolls", transition="cut", frames=6)
    film = studio.storyboard.generate()
    assert film is not None and film.takes == (0, 16) and heard == [(0, 16)]
    assert studio.player.audio.shape == (int(22 / FPS * SR), 2) and np.allclose(studio.player.audio, 0.1, atol=1e-4)
