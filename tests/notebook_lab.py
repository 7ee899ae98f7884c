"""JupyterLab for the browser tests: a server on 127.0.0.1 with a random token serving one notebook
(from a copy of its folder, since the browser autosaves outputs), and "run all cells" once the kernel is up."""
from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
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


@contextmanager
def lab_server(tmp_path: Path, notebook: Path):
    """Yields the URL that opens `notebook` (copied into tmp_path/notebooks unless it is already there)."""
    root = tmp_path / "notebooks"
    root.mkdir(exist_ok=True)
    if notebook.parent != root:
        shutil.copy(notebook, root)  # the browser autosaves outputs: keep the repo's notebook clean
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
    log = open(tmp_path / "lab.log", "wb")
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
            pytest.fail(f"JupyterLab exited: {(tmp_path / 'lab.log').read_text()[-2000:]}")
        yield f"{base}/lab/tree/{notebook.name}?token={token}"
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
