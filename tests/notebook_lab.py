"""JupyterLab for the browser tests: one server per session on 127.0.0.1 with a random token (a start costs
10-20 s), each test's notebook in a folder of its own under the server's root (the browser autosaves
outputs, so the repo's notebooks are copied there), and "run all cells" once the kernel is up."""
from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

SETTINGS = {"apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
            "notebook-extension/tracker": {"autoStartDefaultKernel": True}}
KERNEL_READY = """() => {
    const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
    return !!k && k.connectionStatus === 'connected' && k.status === 'idle';
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    """A running JupyterLab server: `open(notebook)` gives the URL of one test's notebook and, when the test
    ends, shuts down the kernels it started, so the next test on the same server begins with none."""

    def __init__(self, base: str, token: str, root: Path, log: Path):
        self.base, self.token, self.root, self.log = base, token, root, log

    def folder(self, name: str) -> Path:
        """A fresh folder under the server's root for one test's notebook and files (the kernel's cwd)."""
        return Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self.root))

    def _api(self, method: str, path: str):
        request = urllib.request.Request(f"{self.base}/api/{path}?token={self.token}", method=method)
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None

    @contextmanager
    def open(self, notebook: Path):
        """Yields the URL that opens `notebook` (a file under the root) in a workspace of its own, so the
        layout another test left (its open notebook, whose kernel would start again) is not restored."""
        relative = notebook.relative_to(self.root).as_posix()
        workspace = secrets.token_hex(4)
        try:
            yield f"{self.base}/lab/workspaces/{workspace}/tree/{relative}?token={self.token}"
        finally:
            for kernel in self._api("GET", "kernels"):  # a closed page leaves its kernel running
                self._api("DELETE", f"kernels/{kernel['id']}")


@contextmanager
def lab_server(tmp_path: Path):
    """Yields a Lab serving tmp_path/notebooks, on 127.0.0.1 with a random token."""
    root = tmp_path / "notebooks"
    root.mkdir(exist_ok=True)
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, "SORAKIT_FAST": os.environ.get("SORAKIT_FAST", "1"),
           "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
           "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "ws"), "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings")}
    for plugin, values in SETTINGS.items():  # no news toast, no kernel-picker dialog
        path = tmp_path / "settings" / "@jupyterlab" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    log_path = tmp_path / "lab.log"
    log = open(log_path, "wb")
    server = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if server.poll() is not None:
                    break
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not start within 60 s")
        if server.poll() is not None:
            pytest.fail(f"JupyterLab exited: {log_path.read_text()[-2000:]}")
        yield Lab(base, token, root, log_path)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def run_all(page) -> None:
    """Run all cells once the kernel is connected; a run issued while the kernel connection is still
    settling can be dropped by JupyterLab, so check that the cells got queued and retry once."""
    for attempt in range(2):
        page.wait_for_function(KERNEL_READY, timeout=120_000)
        page.wait_for_timeout(2000)
        page.click(".jp-Notebook .jp-Cell .jp-InputArea-prompt >> nth=0")  # make the notebook current
        page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
        try:  # the last code cell is queued ([*]) or done ([n]) once Run All took
            page.wait_for_function("""() => {
                const p = Array.from(document.querySelectorAll('.jp-CodeCell .jp-InputPrompt'));
                return p.length > 0 && /\\[(\\*|\\d+)\\]/.test(p[p.length - 1].textContent);
            }""", timeout=20_000)
            return
        except Exception:
            if attempt:
                raise


@contextmanager
def notebook_page(chromium, url: str, failure_shot: Path, height: int):
    """A page with the notebook at `url` run from the top. If the test fails, the whole page is saved
    to `failure_shot` for the person reading the CI log; the page is always closed."""
    page = chromium.new_page(viewport={"width": 1400, "height": height})
    page.set_default_timeout(60_000)
    try:
        page.goto(url)
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
        run_all(page)
        yield page
    except Exception:
        failure_shot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(failure_shot), full_page=True)
        raise
    finally:
        page.close()
