"""The Gradio demo (`sorakit demo`): generate clips, see a word's attention, run the physics probes.

    from sorakit import demo
    app = demo.launch(pipe)          # or demo.build_app(pipe) to launch it yourself

Files: app.py (the Blocks), handlers.py (what the buttons do), validation.py (what is accepted),
recipe.py (a clip's recipe + result cache), views.py (tables/images), files.py (temp outputs),
components.py (inputs that leave checks to the validator), launch.py.
"""
import os

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # before gradio is imported: no telemetry at all

from .app import build_app  # noqa: E402
from .launch import launch  # noqa: E402

__all__ = ["build_app", "launch"]
