"""widgets/ is the one home of the widgets' ES modules and CSS: a checkout and an editable install
load them from there (as a Path, so anywidget can hot-reload them), and a wheel carries them."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
WIDGETS = REPO / "widgets"
ASSETS = sorted(p.name for p in WIDGETS.iterdir() if p.suffix in (".js", ".css"))
MODULES = [name for name in ASSETS if name.endswith(".js")]


def _offline_env() -> dict:
    return os.environ | {"PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


def test_widget_classes_load_their_modules_from_widgets_as_paths():
    import sorakit
    from sorakit.ui import Player, WordChips, assets
    from sorakit.ui.seed_grid import GridView
    from sorakit.ui.sweep_explorer import SweepTableView

    if Path(sorakit.__file__).resolve().parents[1] != REPO:
        pytest.skip(f"sorakit is imported from {sorakit.__file__}, not from this checkout")
    assert assets.widgets_dir() == WIDGETS
    assert isinstance(assets.esm("player.js"), Path) and isinstance(assets.css(), Path)
    for cls, module in ((Player, "player.js"), (WordChips, "chips.js"), (GridView, "seed_grid.js"),
                        (SweepTableView, "sweep_table.js")):
        # anywidget turns a Path into FileContents, which it watches when ANYWIDGET_HMR=1
        for attr, name in (("_esm", module), ("_css", "sorakit.css")):
            value = cls.__dict__[attr]
            assert Path(getattr(value, "_path", value)) == WIDGETS / name, (cls.__name__, attr, value)
        assert cls()._esm == (WIDGETS / module).read_text(encoding="utf-8")


def test_modules_are_self_contained_and_share_identical_helpers():
    """anywidget loads one file per widget: no imports (relative or CDN), and a helper copied into
    several modules must be the same text in each."""
    definitions: dict[str, dict[str, str]] = {}
    for name in MODULES:
        text = (WIDGETS / name).read_text(encoding="utf-8")
        assert "export default" in text, name
        assert not re.search(r"^\s*import\b|\bimport\s*\(", text, re.M), f"{name} imports another module"
        assert "http://" not in text and "https://" not in text, name
        for match in re.finditer(r"^(?:async )?function (\w+)\(.*?^}\n", text, re.M | re.S):  # top-level functions
            definitions.setdefault(match.group(1), {})[name] = match.group(0)
    shared = {fn: copies for fn, copies in definitions.items() if len(copies) > 1 and fn != "render"}
    assert "h" in shared and "decodePng" in shared  # the parser found the copies
    for fn, copies in shared.items():
        assert len(set(copies.values())) == 1, f"{fn} differs between {sorted(copies)}"


def test_no_copy_of_the_assets_inside_the_package_tree():
    stray = [p for p in (REPO / "sorakit").rglob("*") if p.suffix in (".js", ".css")]
    assert not stray, f"widget assets belong in widgets/, found {stray}"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Build the wheel offline from a copy of the sources (the build writes build/ and egg-info)."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy2(REPO / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyi")
    for name in ("sorakit", "widgets"):
        shutil.copytree(REPO / name, src / name, ignore=ignore)
    out = tmp / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation",
                    "--no-index", "-q", "-w", str(out)], check=True, env=_offline_env(), cwd=tmp, timeout=600)
    (whl,) = out.glob("sorakit-*.whl")
    return whl


@pytest.mark.slow  # builds or installs the package, imports sorakit in a subprocess
def test_wheel_carries_the_widget_modules(wheel):
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        for name in ASSETS:
            assert zf.read(f"sorakit/_widgets/{name}") == (WIDGETS / name).read_bytes(), name
    assert not any(n.startswith("sorakit/ui/static/") for n in names)
    # every package of the checkout made it in (package discovery lives in setup.py)
    for init in (REPO / "sorakit").rglob("__init__.py"):
        assert init.relative_to(REPO).as_posix() in names, init
    assert any(n.startswith("sorakit/weights/") and n.endswith(".safetensors") for n in names)


@pytest.mark.slow  # builds or installs the package, imports sorakit in a subprocess
def test_widgets_from_an_installed_wheel_resolve_offline(wheel, tmp_path):
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q", "--target",
                    str(site), str(wheel)], check=True, env=_offline_env(), timeout=300)
    probe = (
        "import json, sorakit\n"
        "from sorakit.ui import Player, WordChips\n"
        "from sorakit.ui.assets import widgets_dir\n"
        "p = Player()\n"
        "print(json.dumps({'sorakit': sorakit.__file__, 'dir': str(widgets_dir()),\n"
        "  'esm': str(Player._esm._path), 'css': str(WordChips._css._path),\n"
        "  'loaded': 'export default' in p._esm and '.sorakit-player' in p._css}))\n"
    )
    env = _offline_env() | {"PYTHONPATH": str(site)}
    # run outside the checkout so nothing resolves to it by accident
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, cwd=tmp_path,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    widgets = site / "sorakit" / "_widgets"
    assert Path(found["sorakit"]).parent == site / "sorakit"
    assert Path(found["dir"]) == widgets
    assert Path(found["esm"]) == widgets / "player.js" and Path(found["css"]) == widgets / "sorakit.css"
    assert found["loaded"]


@pytest.mark.slow  # builds or installs the package, imports sorakit in a subprocess
def test_editable_install_serves_widgets_from_the_checkout(tmp_path):
    """What `make lab` installs (`pip install -e .`): imported from anywhere, the modules come from widgets/."""
    # the installed dist-info (a checkout's sorakit.egg-info on sys.path has no direct_url.json)
    urls = [d.read_text("direct_url.json") for d in metadata.distributions(name="sorakit")]
    info = json.loads(next((u for u in urls if u), "{}"))
    if not info.get("dir_info", {}).get("editable") or Path(info["url"].removeprefix("file://")) != REPO:
        pytest.skip("sorakit is not installed editable from this checkout")
    probe = "from sorakit.ui.assets import widgets_dir; from sorakit.ui import Player; " \
            "print(widgets_dir()); print(Player._esm._path)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path,
                          env=_offline_env(), timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == [str(WIDGETS), str(WIDGETS / "player.js")]
