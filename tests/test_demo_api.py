"""The demo driven the way scripts use it: a real server on loopback and gradio_client."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

gr_client = pytest.importorskip("gradio_client")
from demo_client import demo_client  # noqa: E402
from gradio_client import handle_file  # noqa: E402
from gradio_client.exceptions import ValidationError  # noqa: E402

from sorakit import demo  # noqa: E402
from sorakit.media import read_metadata, read_video  # noqa: E402

FAST = dict(steps=2, guidance=4.0, frames=4)  # tiny jobs: the tests check plumbing, not quality


def _clip(path):
    return read_video(path, size=(32, 32))


def test_server_is_private_by_default(served):
    app, client = served
    assert app.local_url.startswith("http://127.0.0.1:")
    assert app.share is False and app.share_url is None
    assert app.analytics_enabled is False
    assert app._queue.max_size == demo.app.QUEUE_SIZE
    api = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert sorted(api) == ["/attention", "/generate", "/probe", "/remix", "/storyboard"]
    for name in api:
        assert api[name]["parameters"][0]["parameter_name"] == "prompt"
    assert [r["label"] for r in api["/generate"]["returns"]] == ["Clip", "Seed"]


def test_generate_returns_an_h264_clip_and_the_seed(served):
    app, client = served
    path, seed = client.predict("a red ball bounces", seed=5, api_name="/generate", **FAST)
    assert seed == 5
    video = read_video(path)
    assert video.shape == (4, 256, 256, 3)  # 32x32 frames upscaled for viewing
    meta = read_metadata(path)
    assert meta["prompt"] == "a red ball bounces" and meta["seed"] == 5 and meta["steps"] == 2

    app.sorakit_handlers.cache.clear()  # sample again for real, not from the result cache
    again, _ = client.predict("a red ball bounces", seed=5, api_name="/generate", **FAST)
    other, _ = client.predict("a red ball bounces", seed=6, api_name="/generate", **FAST)
    assert np.array_equal(_clip(path), _clip(again))
    assert np.abs(_clip(path) - _clip(other)).mean() > 0.01


def test_randomized_seed_is_reported_and_reproduces_the_clip(served):
    app, client = served
    path, seed = client.predict("a blue ball rolls", seed=0, randomize_seed=True, api_name="/generate", **FAST)
    assert isinstance(seed, int) and 0 <= seed < 2**32 and seed != 0
    assert read_metadata(path)["seed"] == seed
    app.sorakit_handlers.cache.clear()
    replay, _ = client.predict("a blue ball rolls", seed=seed, api_name="/generate", **FAST)
    assert np.array_equal(_clip(path), _clip(replay))


def test_generated_clip_has_sound_as_long_as_its_frames(served):
    from sorakit.audio import read_audio

    _, client = served
    path, _ = client.predict("a red ball bounces", seed=3, api_name="/generate", **FAST)
    sound = read_audio(path, sample_rate=16_000)  # a ValueError if the mp4 had no audio stream
    assert sound.shape[1] == 2
    assert abs(len(sound) - 16_000 * FAST["frames"] / 8) <= 1024  # 4 frames at 8 fps: 0.5 s (one AAC frame)


def test_first_frame_image_starts_the_clip(served, tmp_path):
    _, client = served
    img = np.zeros((48, 48, 3), np.uint8)
    img[:24] = (230, 40, 40)
    img[24:] = (40, 40, 230)
    Image.fromarray(img).save(tmp_path / "first.png")
    path, _ = client.predict("a ball", image=handle_file(str(tmp_path / "first.png")), api_name="/generate", **FAST)
    first = _clip(path)[0]
    expected = np.asarray(Image.fromarray(img).resize((32, 32), Image.Resampling.BOX), np.float32) / 255
    assert np.abs(first - expected).mean() < 0.03  # given frame pasted back, only H.264 loss remains


def test_sampling_progress_reaches_the_client(served, tiny_pipe):
    """gr.Progress(track_tqdm=True) forwards the pipeline's own step bar."""
    import time

    _, client = served
    tiny_pipe.set_progress_bar_config(disable=False)  # the fixture silences it; the shipped model does not
    try:
        job = client.submit("a ball", seed=11, steps=25, frames=8, api_name="/generate")
        seen = set()
        while not job.done():
            status = job.status()
            seen |= {(p.length, p.unit) for p in status.progress_data or []}
            time.sleep(0.02)
        assert job.result()[1] == 11
    finally:
        tiny_pipe.set_progress_bar_config(disable=True)
    assert (25, "steps") in seen


@pytest.mark.parametrize("kwargs, message", [
    (dict(prompt="   "), "prompt: prompt is empty"),
    (dict(prompt="x" * 1001), "at most 1000"),
    (dict(prompt="a ball", steps=500), "steps: steps must be a whole number from 1 to 50; got 500"),
    (dict(prompt="a ball", guidance=-1), "guidance must be a number from 0 to 12"),
    (dict(prompt="a ball", frames=1), "frames must be a whole number from 2 to 32"),
    (dict(prompt="a ball", seed=-3), "seed must be a whole number"),
])
def test_bad_generate_input_gets_a_clear_message(served, kwargs, message):
    _, client = served
    with pytest.raises(ValidationError, match=message):
        client.predict(api_name="/generate", **kwargs)


@pytest.mark.parametrize("make, message", [
    (lambda p: Image.new("RGB", (120, 40)).save(p), "roughly square"),
    (lambda p: p.write_bytes(b"GIF89a but not really an image"), "not a readable image"),
])
def test_wrong_first_frame_is_refused(served, tmp_path, make, message):
    _, client = served
    path = tmp_path / "bad.png"
    make(path)
    with pytest.raises(ValidationError, match=message):
        client.predict("a ball", image=handle_file(str(path)), api_name="/generate", **FAST)


def test_a_server_path_sent_as_the_image_is_refused(served):
    """A raw request naming a server file (not an upload) never reaches the handler."""
    import httpx

    app, _ = served
    deps = httpx.get(app.local_url + "config").json()["dependencies"]
    fn_index = next(d["id"] for d in deps if d.get("api_name") == "generate")
    crafted = {"path": "/etc/hostname", "meta": {"_type": "gradio.FileData"}}
    body = {"data": ["a ball", "", 0, False, 2, 4.0, 4, crafted, None], "fn_index": fn_index,
            "session_hash": "crafted-path-test", "event_data": None, "trigger_id": None}
    r = httpx.post(app.local_url + "gradio_api/queue/join", json=body)
    assert r.status_code == 400 and "not uploaded by a user" in r.text


def test_attention_overlay_for_a_word(served):
    _, client = served
    path = client.predict("a red ball bounces", "red", seed=1, api_name="/attention", **FAST)
    assert read_video(path).shape == (4, 256, 256, 3)
    assert read_metadata(path)["attention_word"] == "red"
    plain, _ = client.predict("a red ball bounces", seed=1, api_name="/generate", **FAST)
    assert np.abs(_clip(path) - _clip(plain)).mean() > 0.02  # the heat colours the clip
    with pytest.raises(ValidationError, match="'cube' is not a word of the prompt; choose one of: a, red, ball"):
        client.predict("a red ball bounces", "cube", api_name="/attention", **FAST)


def test_probe_report(served):
    _, client = served
    table, plot, report = client.predict("a red ball bounces", seed=2, api_name="/probe", **FAST)
    assert "| probe | verdict | why |" in table
    assert Image.open(plot).size[0] > 100
    assert set(report) >= {"verdicts", "probes", "passed"}
    assert report["frames"] == 4 and report["prompt"] == "a red ball bounces"
    with pytest.raises(ValidationError, match="prompt is empty"):
        client.predict("", api_name="/probe")


def test_close_removes_the_output_folder(tiny_pipe):
    app = demo.launch(tiny_pipe, prevent_thread_lock=True, quiet=True)
    out = app.sorakit_handlers.outputs.path
    client = demo_client(app.local_url)
    client.predict("a ball", api_name="/generate", **FAST)
    assert any(out.glob("clip-*.mp4"))
    client.close()
    app.close()
    assert not out.exists()


def test_cli_demo_command_launches_with_its_options(monkeypatch, tiny_pipe):
    """`SORAKIT_DEMO_AUTH=u:p sorakit demo --port N` -> launch(host=loopback, port=N, share=False, auth=(u, p)),
    and launch() without a pipeline loads the shipped one."""
    import sorakit
    from sorakit import cli

    monkeypatch.setattr(sorakit, "load", lambda *a, **k: tiny_pipe)
    launched = []
    real_launch = demo.launch

    def launch(**kwargs):
        app = real_launch(**kwargs, prevent_thread_lock=True, quiet=True)
        launched.append((kwargs, app))
        return app

    monkeypatch.setattr(demo, "launch", launch)
    monkeypatch.setenv(cli.AUTH_ENV, "ann:pw")  # not on the command line, where `ps` shows it
    assert cli.main(["demo", "--port", "7911"]) == 0
    kwargs, app = launched[0]
    try:
        assert kwargs == {"host": "127.0.0.1", "port": 7911, "share": False, "auth": ("ann", "pw"), "moderation": True}
        assert app.sorakit_handlers.pipe is tiny_pipe and app.local_url == "http://127.0.0.1:7911/"
        with pytest.raises(Exception, match="401|[Ll]ogin|[Aa]uth"):
            demo_client(app.local_url)  # a login is required
        client = demo_client(app.local_url, auth=("ann", "pw"))
        assert client.predict("a ball", api_name="/generate", **FAST)[1] == 0
        client.close()
    finally:
        app.close()
