"""The browser side of the widgets: ES modules and CSS shipped in `sorakit/ui/static/`.

They live inside the package (package data) so both `pip install -e .` and a normal install find
them; nothing is fetched from a CDN. A widget's module is its own file with the shared helpers in
`common.js` put in front (anywidget loads one module per widget, so there are no relative imports).
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

STATIC = Path(__file__).parent / "static"


@lru_cache(maxsize=None)
def _read(name: str) -> str:
    path = STATIC / name
    if not path.is_file():
        raise FileNotFoundError(f"widget asset {name} missing from {STATIC}; reinstall sorakit")
    return path.read_text(encoding="utf-8")


def esm(name: str) -> str:
    """ES module text for one widget: common helpers + `name`."""
    return _read("common.js") + "\n" + _read(name)


def css() -> str:
    return _read("sorakit.css")
