"""The Gradio demo (`sorakit demo`): generate clips, see a word's attention, run the physics probes.

    from sorakit import demo
    app = demo.launch(pipe)          # or demo.build_app(pipe) to launch it yourself

Files: app.py (the page, and launching it), endpoints.py (what /generate, /attention and /probe do,
the cache of recent clips, the output folder), validation.py (what is accepted, and the Recipe it
becomes), queue_guard.py (keeps Gradio's queue bounded under bursts), loadtest.py (concurrent
clients for the load test and benchmark).
"""
import os

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # before gradio is imported: no telemetry at all

from .app import build_app, launch  # noqa: E402

__all__ = ["build_app", "launch"]
