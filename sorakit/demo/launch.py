"""Start the demo: `sorakit demo [--host H] [--port N] [--share] [--auth USER:PASS]` or `launch(pipe)`."""
from __future__ import annotations

import warnings
from typing import Any

from .app import CSS, QUEUE_SIZE, build_app

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def launch(pipe=None, host: str = "127.0.0.1", port: int | None = None, share: bool = False,
           auth: tuple[str, str] | None = None, *, queue_size: int = QUEUE_SIZE, **launch_kwargs: Any):
    """Build and launch the app; return the running `gr.Blocks` (call `.close()` to stop it).

    pipe: a SpacetimePipeline (default: `sorakit.load()`, the shipped model). Loopback only, no share
    link, no analytics and no traffic-monitoring page unless asked; `auth=(user, password)` puts a
    login in front. Extra keyword arguments go to `gr.Blocks.launch` (e.g. `prevent_thread_lock=True`
    to return at once from a script or test; notebooks return at once anyway).
    """
    if pipe is None:
        import sorakit

        pipe = sorakit.load()
    if auth is not None and (len(auth) != 2 or not all(isinstance(a, str) and a for a in auth)):
        raise ValueError("auth must be a (user, password) pair of non-empty strings")
    if (share or host not in LOOPBACK) and auth is None:
        warnings.warn("the demo is reachable from other machines without a login; pass auth=(user, password)",
                      stacklevel=2)
    app = build_app(pipe, queue_size=queue_size)
    options = dict(server_name=host, server_port=port, share=share, auth=auth, enable_monitoring=False,
                   run_history=False, max_file_size="10mb", footer_links=["api"], css=CSS)
    app.launch(**{**options, **launch_kwargs})
    return app
