"""Nothing a demo wrote outlives it: clips, uploads and prompt-bearing recipes go with the process.

Each demo process keeps everything under one private folder (`sorakit-demo-<pid>-...` in the temp
dir, holding a `pid` file): its output folders and Gradio's cache and uploads (GRADIO_TEMP_DIR,
unless the user set one). It is removed when the process exits normally, on Ctrl-C and on SIGTERM
(turned into the same shutdown as Ctrl-C); what a SIGKILL or a crash left is swept by the next demo
that starts, once the process named in its `pid` file is gone.
"""
from __future__ import annotations

import atexit
import os
import shutil
import signal
import tempfile
import threading
from pathlib import Path

PREFIX = "sorakit-demo-"
PID_FILE = "pid"
_root: Path | None = None


def process_root() -> Path:
    """This process's private folder (made on first use, removed at exit)."""
    global _root
    if _root is None or not _root.is_dir():
        _root = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))
        (_root / PID_FILE).write_text(str(os.getpid()))
        atexit.register(shutil.rmtree, str(_root), ignore_errors=True)
    return _root


def private_gradio_cache() -> None:
    """Gradio's cache and uploads under this process's folder (a user's GRADIO_TEMP_DIR is kept)."""
    if not os.environ.get("GRADIO_TEMP_DIR"):
        folder = process_root() / "gradio"
        folder.mkdir(exist_ok=True)
        os.environ["GRADIO_TEMP_DIR"] = str(folder)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def sweep_stale(folder: str | os.PathLike | None = None) -> list[Path]:
    """Remove the folders of demo processes that no longer run; returns them."""
    removed = []
    for path in Path(folder or tempfile.gettempdir()).glob(f"{PREFIX}*"):
        try:
            pid = int((path / PID_FILE).read_text().strip())
        except (OSError, ValueError):
            continue  # not ours to judge (no pid file)
        if pid != os.getpid() and not _alive(pid):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def stop_on_sigterm() -> bool:
    """SIGTERM shuts the demo down like Ctrl-C (Gradio then closes the app and empties its cache).
    Only from the main thread of a process that blocks in `launch`; returns whether it was set."""
    if threading.current_thread() is not threading.main_thread():
        return False

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    return True
