"""The browser side of the widgets: ES modules and CSS, one file each, in the repository's `widgets/`.

`widgets/` is the single source. A wheel carries it as `sorakit/_widgets/` (setup.py maps that
package onto the folder, pyproject.toml names its files as package data); a checkout or an editable
install (`make lab`) reads `widgets/` itself. Nothing is fetched from a CDN.

`esm()` and `css()` return a `pathlib.Path`, which anywidget reads, and, with `ANYWIDGET_HMR=1`
(and `watchfiles` installed), watches: saving a file in `widgets/` updates live widgets in a
running notebook. A module is one self-contained file because anywidget loads one file per widget.
"""
from __future__ import annotations

from importlib.resources import files
from pathlib import Path

# A wheel install: sorakit/_widgets/ next to sorakit/ui/.
PACKAGED = Path(str(files("sorakit"))) / "_widgets"
# A checkout or an editable install: <repository>/widgets/.
CHECKOUT = Path(__file__).resolve().parents[2] / "widgets"


def widgets_dir() -> Path:
    """The folder the widgets' ES modules and CSS are loaded from."""
    if PACKAGED.is_dir():
        return PACKAGED
    if (CHECKOUT / "sorakit.css").is_file() and (CHECKOUT.parent / "pyproject.toml").is_file():
        return CHECKOUT
    raise FileNotFoundError(f"the widgets' ES modules are missing: neither {PACKAGED} nor {CHECKOUT} "
                            "holds them; reinstall sorakit")


def _asset(name: str) -> Path:
    path = widgets_dir() / name
    if not path.is_file():
        raise FileNotFoundError(f"widget asset {name} missing from {path.parent}; reinstall sorakit")
    return path


def esm(name: str) -> Path:
    """The ES module of one widget (e.g. "player.js"), for anywidget's `_esm`."""
    return _asset(name)


def css() -> Path:
    """The stylesheet shared by every widget, for anywidget's `_css`."""
    return _asset("sorakit.css")
