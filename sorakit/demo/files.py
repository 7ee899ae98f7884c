"""The demo's own output folder: a private temp dir, server-chosen file names, cleaned up.

Gradio copies every returned file into its cache (which `Blocks(delete_cache=...)` ages out and
empties on shutdown); the originals written here are pruned by age on every write and the whole
folder is removed when the app closes or the process exits. No name is ever built from user text.
"""
from __future__ import annotations

import shutil
import tempfile
import time
import uuid
import weakref
from pathlib import Path


class OutputDir:
    def __init__(self, max_age: float = 3600.0, prefix: str = "sorakit-demo-"):
        self.max_age, self.prefix = max_age, prefix
        self._open()

    def _open(self) -> None:
        self.path = Path(tempfile.mkdtemp(prefix=self.prefix))
        self._finalizer = weakref.finalize(self, shutil.rmtree, str(self.path), ignore_errors=True)

    def new(self, kind: str, suffix: str) -> Path:
        """A fresh path like `<dir>/clip-<uuid>.mp4` (`kind` and `suffix` come from the code, not users)."""
        if self.closed:  # the app was closed and launched again
            self._open()
        self.prune()
        return self.path / f"{kind}-{uuid.uuid4().hex}{suffix}"

    def prune(self) -> int:
        """Delete files older than `max_age` seconds; return how many went."""
        cutoff, removed = time.time() - self.max_age, 0
        for f in self.path.glob("*"):
            try:
                if f.stat().st_mtime < cutoff:
                    f.unlink()
                    removed += 1
            except FileNotFoundError:
                pass
        return removed

    def cleanup(self) -> None:
        self._finalizer()

    @property
    def closed(self) -> bool:
        return not self._finalizer.alive
