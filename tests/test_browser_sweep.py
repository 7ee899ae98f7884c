"""The sweep explorer in a real browser: JupyterLab (headless, loopback, token) + Chromium.

A 4-cell sweep of the tiny pipeline is opened in a notebook; clicking the seed header sorts the rows
(twice: the other way round), and clicking a row draws that cell's clip in the player beside the table.
Screenshots go to artifacts/ (SORAKIT_ARTIFACTS).
"""
from __future__ import annotations

import os
from pathlib import Path

import nbformat
import numpy as np
import pytest
from notebook_lab import notebook_page

from sorakit.media import read_clip, to_uint8
from sorakit.sweep import sweep

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # JupyterLab and Chromium start in ~10-20 s

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(os.environ.get("SORAKIT_ARTIFACTS", REPO / "artifacts"))
TABLE = ".sorakit-sweep-table"
CANVAS = ".sorakit-sweep .sorakit-player-canvas"
CELL = """from sorakit import ui
explorer = ui.SweepExplorer("sweep")
explorer.player.playing = False  # frame 0 stays on the canvas
explorer"""


@pytest.fixture
def lab(jupyter_lab, tiny_pipe):
    """A 4-cell sweep (2 prompts x seeds 3, 1) and a notebook that opens it, served by JupyterLab."""
    root = jupyter_lab.folder("sweep_explorer")
    table = sweep(tiny_pipe, ["a red ball bounces twice", "a blue ball is thrown to the left"], seeds=[3, 1],
                  steps=1, frames=4, out=root / "sweep", progress=False, threads=1)
    notebook = root / "sweep_explorer.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell(CELL))
    nbformat.write(nb, notebook)
    with jupyter_lab.open(notebook) as url:
        yield url, table, root / "sweep"


def _column(page, index: int) -> list[str]:
    return page.eval_on_selector_all(f"{TABLE} tbody tr", f"rows => rows.map(r => r.cells[{index}].textContent)")


def _pixels(page) -> np.ndarray:
    """The player's canvas as an (H, W, 3) uint8 array."""
    data = page.eval_on_selector(CANVAS, """c => {
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height);
        return {w: d.width, h: d.height, px: Array.from(d.data)};
    }""")
    return np.array(data["px"], np.uint8).reshape(data["h"], data["w"], 4)[..., :3]


def test_header_click_sorts_and_row_click_plays_that_clip(chromium, lab):
    url, table, folder = lab
    with notebook_page(chromium, url, ARTIFACTS / "lab_sweep_failure.png", height=900) as page:
        page.wait_for_selector(f"{TABLE} tbody tr >> nth=3", timeout=120_000)
        assert _column(page, 1) == ["3", "1", "3", "1"]  # the sweep's order: prompt, then seed

        page.click(f"{TABLE} th[data-column='seed']")
        page.wait_for_selector(f"{TABLE} th[data-column='seed'][data-order='asc']")
        assert _column(page, 1) == ["1", "1", "3", "3"]
        page.click(f"{TABLE} th[data-column='seed']")
        page.wait_for_selector(f"{TABLE} th[data-column='seed'][data-order='desc']")
        assert _column(page, 1) == ["3", "3", "1", "1"]

        row = page.locator(f"{TABLE} tbody tr >> nth=2")
        key = row.get_attribute("data-key")
        row.click()
        page.wait_for_selector(f"{CANVAS}[data-clip-id='1'][data-frame='0']")
        page.wait_for_selector(f"{TABLE} tr.selected[data-key='{key}']")
        page.wait_for_timeout(300)
        drawn = _pixels(page).astype(int)
        # The canvas is frame 0 upscaled nearest-neighbour; it must be this cell's clip, not another's.
        errors = {}
        for cell_key, clip in zip(table["key"], table["clip"]):
            frame = to_uint8(read_clip(folder / clip)[0])[0]
            scale = drawn.shape[0] // frame.shape[0]
            errors[cell_key] = np.abs(frame.repeat(scale, 0).repeat(scale, 1).astype(int) - drawn).mean()
        assert errors[key] < 1.0 and min(e for k, e in errors.items() if k != key) > 5 * errors[key] + 1, errors
        seed = int(table.set_index("key").loc[key, "seed"])
        assert f"seed {seed}" in page.inner_text(".sorakit-sweep .sorakit-caption")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.locator(".sorakit-sweep").screenshot(path=str(ARTIFACTS / "lab_sweep_explorer.png"))
