"""The shared demo under hostile and careless clients, against a live server on loopback."""
from __future__ import annotations

import base64
import io
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from PIL import Image

pytest.importorskip("gradio_client")
import httpx  # noqa: E402

from sorakit import demo  # noqa: E402
from sorakit.demo.guard import Guard  # noqa: E402


@pytest.fixture(scope="module")
def served(tiny_pipe):
    app = demo.launch(tiny_pipe, prevent_thread_lock=True, quiet=True)
    deps = httpx.get(app.local_url + "config").json()["dependencies"]
    fn = next(d["id"] for d in deps if d.get("api_name") == "generate")
    yield app, fn
    app.close()


def _png(side: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (side, side), (20, 20, 24)).save(buf, "PNG")
    return buf.getvalue()


def _upload(url: str, data: bytes) -> str:
    r = httpx.post(url + "gradio_api/upload", files={"files": ("frame.png", data, "image/png")}, timeout=60)
    assert r.status_code == 200, r.text
    return r.json()[0]


def _join(url, fn, image, steps=2, session="hardening", prompt="a ball"):
    body = {"data": [prompt, "", 0, False, steps, 4.0, 4, image, None], "fn_index": fn, "session_hash": session,
            "event_data": None, "trigger_id": None}
    return httpx.post(url + "gradio_api/queue/join", json=body, timeout=120)


def _rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def test_thirty_bad_requests_with_a_4096px_image_cost_almost_no_memory(served):
    """Validators read only the image header, and not at all when another field is already wrong."""
    app, fn = served
    path = _upload(app.local_url, _png(4096))  # ~50 KB on disk, 48 MB decoded
    image = {"path": path, "meta": {"_type": "gradio.FileData"}}
    base, peak, done = _rss(), [0], threading.Event()

    def watch():
        while not done.is_set():
            peak[0] = max(peak[0], _rss())
            time.sleep(0.005)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with ThreadPoolExecutor(30) as pool:
            codes = list(pool.map(lambda i: _join(app.local_url, fn, image, steps=500, session=f"s{i}").status_code,
                                  range(30)))
    finally:
        done.set()
        watcher.join()
    assert codes == [422] * 30
    grown = peak[0] - base
    print(f"\nRSS before {base / 2**20:.0f} MiB, peak growth under 30 bad requests: {grown / 2**20:.1f} MiB")
    assert grown < 150 * 2**20  # decoding every image, as before, grew the server by ~3 GB


def test_an_image_refused_by_its_header_is_deleted_and_a_good_one_is_kept(served):
    app, fn = served
    tall = _upload(app.local_url, _image_bytes((64, 200)))
    r = _join(app.local_url, fn, {"path": tall, "meta": {"_type": "gradio.FileData"}})
    assert r.status_code == 422 and "roughly square" in r.text
    assert not Path(tall).exists()  # a refused upload is not kept for the cache's hour
    square = _upload(app.local_url, _image_bytes((64, 64)))
    r = _join(app.local_url, fn, {"path": square, "meta": {"_type": "gradio.FileData"}}, steps=500)
    assert r.status_code == 422 and Path(square).exists()  # only another field was wrong: keep it for a retry


def _image_bytes(size) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size).save(buf, "PNG")
    return buf.getvalue()


def test_a_data_url_first_frame_is_refused_without_decoding(served, tiny_pipe):
    from sorakit.demo.app import Image as DemoImage
    from sorakit.demo.endpoints import Endpoints

    app, fn = served
    huge = "data:image/png;base64," + base64.b64encode(_png(4096)).decode()
    start = time.perf_counter()
    r = _join(app.local_url, fn, {"path": "frame.png", "url": huge, "meta": {"_type": "gradio.FileData"}})
    assert r.status_code in (400, 413, 422) and time.perf_counter() - start < 5
    # The component itself refuses a data: URL unread, whatever reaches it.
    from gradio.data_classes import FileData

    refused = DemoImage(type="filepath").preprocess(FileData(path="frame.png", url=huge))
    errors = Endpoints(tiny_pipe).checks.recipe("a ball", "", 0, 2, 4.0, 4, refused)
    assert errors[-1] == "the first frame must be uploaded as a file, not sent as a data: URL"


@pytest.mark.parametrize("size, code", [(2 << 20, 413)])
def test_oversized_requests_are_refused_before_they_are_read(served, size, code):
    app, fn = served
    start = time.perf_counter()
    r = _join(app.local_url, fn, None, prompt="x" * size)
    assert r.status_code == code and time.perf_counter() - start < 5
    r = httpx.post(app.local_url + "gradio_api/upload",
                   files={"files": ("big.png", b"\0" * (demo.app.MAX_UPLOAD + 1), "image/png")})
    assert r.status_code == 413
    chunked = httpx.post(app.local_url + "gradio_api/queue/join", content=iter([b"{}"]))  # no Content-Length
    assert chunked.status_code == 411


def test_security_headers_and_the_host_check(served):
    app, _ = served
    page = httpx.get(app.local_url)
    assert page.status_code == 200
    assert page.headers["x-content-type-options"] == "nosniff" and page.headers["referrer-policy"] == "no-referrer"
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "object-src 'none'" in csp and "frame-ancestors 'self'" in csp
    port = app.local_url.rsplit(":", 1)[1].strip("/")
    assert httpx.get(app.local_url, headers={"Host": f"localhost:{port}"}).status_code == 200
    rebound = httpx.get(app.local_url + "config", headers={"Host": f"attacker.example:{port}"})
    assert rebound.status_code == 421  # DNS rebinding: a page on another name cannot read the demo


async def _call(guard, method="GET", path="/", headers=(), client="10.0.0.1"):
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "client": (client, 1),
             "headers": [(b"host", b"demo.example"), *headers]}
    await guard(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    return start["status"], dict(start["headers"])


def _run(coroutine):
    """asyncio.run on a thread of its own: an earlier test (a browser or server client) may leave an
    event loop running on the main thread, where asyncio.run refuses to start."""
    import asyncio

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def test_a_shared_page_may_not_be_framed_and_uploads_share_a_budget():
    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    guard = Guard(app, loopback_only=False, shared=True, max_upload=100, upload_budget=250)
    status, headers = _run(_call(guard))
    assert status == 200 and headers[b"x-frame-options"] == b"DENY"
    assert b"frame-ancestors 'none'" in headers[b"content-security-policy"]
    upload = [(b"content-length", b"100")]
    codes = [_run(_call(guard, "POST", "/gradio_api/upload", upload))[0] for _ in range(4)]
    assert codes == [200, 200, 503, 503]  # 250 bytes an hour: the third upload waits


def test_wrong_logins_are_rate_limited(tiny_pipe):
    app = demo.launch(tiny_pipe, auth=("ann", "right"), prevent_thread_lock=True, quiet=True)
    try:
        login = app.local_url + "login"
        wrong = [httpx.post(login, data={"username": "ann", "password": f"guess{i}"}).status_code for i in range(8)]
        assert wrong[:5] == [400] * 5 and set(wrong[5:]) == {429}
        assert httpx.post(login, data={"username": "ann", "password": "right"}).status_code == 429  # locked out
    finally:
        app.close()


def test_a_client_that_disconnects_stops_its_job(tiny_pipe):
    """The sampling loop asks between steps whether Gradio still has a client for the job."""
    from sorakit.demo.endpoints import ClientGone, Endpoints
    from sorakit.recipe import Recipe

    asked = []
    endpoints = Endpoints(tiny_pipe)
    endpoints.client_alive = lambda session: asked.append(session) or len(asked) < 3  # gone during step 2

    class Request:
        session_hash = "tab-1"

    recipe = Recipe.from_call(tiny_pipe, "a ball", steps=20, frames=4, seed=5)
    try:
        with pytest.raises(ClientGone):
            endpoints._sample(recipe, None, request=Request())
        assert asked == ["tab-1"] * 3  # 3 of 20 steps ran
        assert endpoints.cache.get(recipe.settings_id) == {}  # nothing half-made is kept
    finally:
        endpoints.outputs.cleanup()


def test_gradio_marks_a_disconnected_clients_job_dead():
    from types import SimpleNamespace

    from sorakit.demo.queue_guard import session_alive

    jobs = [SimpleNamespace(session_hash="a", alive=True), SimpleNamespace(session_hash="b", alive=False)]
    app = SimpleNamespace(_queue=SimpleNamespace(active_jobs=[None, jobs]))
    assert session_alive(app, "a") and not session_alive(app, "b") and session_alive(app, "unknown")


# --- shutdown and logins from the command line ------------------------------------------------------
def test_sweep_removes_only_folders_of_demos_that_no_longer_run(tmp_path):
    import os
    import subprocess

    from sorakit.demo.cleanup import PREFIX, sweep_stale

    gone = subprocess.Popen(["true"])
    gone.wait()
    for name, pid in (("dead", gone.pid), ("live", os.getpid())):
        folder = tmp_path / f"{PREFIX}{name}"
        (folder / "gradio").mkdir(parents=True)
        (folder / "pid").write_text(str(pid))
        (folder / "gradio" / "clip.mp4").write_bytes(b"a clip with its prompt")
    (tmp_path / f"{PREFIX}no-pid").mkdir()
    assert [p.name for p in sweep_stale(tmp_path)] == [f"{PREFIX}dead"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{PREFIX}live", f"{PREFIX}no-pid"]


_SERVE = """
import sys
from sorakit import demo
from sorakit.loading import assemble
from sorakit.model import build_transformer
pipe = assemble(build_transformer(num_layers=1).eval())
pipe.set_progress_bar_config(disable=True)
demo.launch(pipe, port=int(sys.argv[1]), quiet=True)  # blocks, as `sorakit demo` does
"""


def _serve(tmp_path):
    import os
    import socket
    import subprocess
    import sys

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "TMPDIR": str(tmp_path), "OMP_NUM_THREADS": "1"}
    env.pop("GRADIO_TEMP_DIR", None)
    proc = subprocess.Popen([sys.executable, "-c", _SERVE, str(port)], env=env)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 240
    while True:
        assert proc.poll() is None and time.monotonic() < deadline, "the demo did not start"
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.5)
    from demo_client import demo_client
    from gradio_client import handle_file

    frame = tmp_path / "frame.png"
    frame.write_bytes(_image_bytes((64, 64)))
    client = demo_client(url)
    client.predict("a red ball", image=handle_file(str(frame)), steps=2, frames=4, api_name="/generate")
    client.close()
    (root,) = tmp_path.glob(f"sorakit-demo-{proc.pid}-*")
    assert any(root.rglob("*.mp4")) and any(root.rglob("frame.png"))  # clips, recipes and the upload
    return proc, root


@pytest.mark.slow
def test_sigterm_removes_every_clip_upload_and_recipe(tmp_path):
    import signal

    proc, root = _serve(tmp_path)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0
    assert not root.exists()


@pytest.mark.slow
def test_what_a_sigkill_left_is_swept_by_the_next_demo(tmp_path):
    import signal

    from sorakit.demo.cleanup import sweep_stale

    proc, root = _serve(tmp_path)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert root.exists()
    assert sweep_stale(tmp_path) == [root] and not root.exists()


def test_the_demo_login_comes_from_a_file_or_the_environment_never_the_command_line(tmp_path, monkeypatch, capsys):
    from sorakit import cli

    with pytest.raises(SystemExit) as exit_:
        cli.main(["demo", "--auth", "ann:s3cret"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and err.count("\n") == 1 and "SORAKIT_DEMO_AUTH" in err and "--auth-file" in err
    secret = tmp_path / "login"
    secret.write_text("ann:s3cret\n")
    assert cli.demo_auth(str(secret)) == ("ann", "s3cret")
    monkeypatch.setenv(cli.AUTH_ENV, "bob:pw:with:colons")
    assert cli.demo_auth(None) == ("bob", "pw:with:colons")
    monkeypatch.delenv(cli.AUTH_ENV)
    assert cli.demo_auth(None) is None
    secret.write_text("no colon")
    assert cli.main(["demo", "--auth-file", str(secret)]) == 2
    assert "USER:PASSWORD" in capsys.readouterr().err
