"""The notebook experience in a real browser: JupyterLab (headless, loopback, token) + Chromium.

Opens notebooks/01_quickstart.ipynb with only the cells the Studio needs (the setup, the prompt's cell and
the Studio's; nbmake runs the whole notebook), runs all cells (SORAKIT_FAST=1: few sampling steps), then in
the Studio: type a new prompt, randomize the seed, click Generate -> a new clip is drawn on the canvas;
click a word chip -> a heat overlay is drawn. Screenshots go to artifacts/ (SORAKIT_ARTIFACTS).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from notebook_lab import notebook_page

pytestmark = [pytest.mark.browser, pytest.mark.model, pytest.mark.slow]  # the notebook loads the shipped model

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "notebooks" / "01_quickstart.ipynb"
ARTIFACTS = Path(os.environ.get("SORAKIT_ARTIFACTS", REPO / "artifacts"))
RUN_TIMEOUT_MS = 600_000  # notebook run in the browser (model load + a few 4-step clips)
CANVAS = ".sorakit-studio .sorakit-player-canvas"


def _studio_cells(notebook: dict) -> dict:
    """The notebook without the code cells between the prompt's and the Studio's (export, seeds, guidance):
    they draw nothing this test looks at, and the notebook run by nbmake checks them."""
    code = [i for i, c in enumerate(notebook["cells"]) if c["cell_type"] == "code"]
    prompt = next(i for i in code if "".join(notebook["cells"][i]["source"]).startswith("prompt = "))
    keep = {code[0], prompt, code[-1]}
    cells = [c for i, c in enumerate(notebook["cells"]) if c["cell_type"] != "code" or i in keep]
    return {**notebook, "cells": cells}


@pytest.fixture
def lab(jupyter_lab):
    """The quickstart notebook's Studio cells, copied into a folder of the session's JupyterLab (the browser
    autosaves it)."""
    notebook = jupyter_lab.folder("quickstart") / NOTEBOOK.name
    notebook.write_text(json.dumps(_studio_cells(json.loads(NOTEBOOK.read_text(encoding="utf-8")))), encoding="utf-8")
    with jupyter_lab.open(notebook) as url:
        yield url


def _pixels(page) -> np.ndarray:
    """The player's canvas as an (H, W, 4) uint8 array."""
    data = page.eval_on_selector(CANVAS, """c => {
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height);
        return {w: d.width, h: d.height, px: Array.from(d.data)};
    }""")
    return np.array(data["px"], np.uint8).reshape(data["h"], data["w"], 4)


def _changed(before: np.ndarray, after: np.ndarray, by: int) -> float:
    """Share of pixels whose colour changed by more than `by` levels in some channel."""
    return float((np.abs(after[..., :3].astype(int) - before[..., :3]).max(-1) > by).mean())


def _not_placeholder(pixels: np.ndarray) -> float:
    """Share of canvas pixels that differ from the empty player's #222 fill."""
    return float((np.abs(pixels[..., :3].astype(int) - 0x22).max(-1) > 2).mean())


def _shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page.locator(".sorakit-studio").screenshot(path=str(path))
    return path


def test_studio_generate_and_word_heat(chromium, lab):
    with notebook_page(chromium, lab, ARTIFACTS / "lab_failure.png", height=1000) as page:

        # The last cell shows the Studio with a first clip (clip 1), drawn on the canvas.
        page.wait_for_selector(f"{CANVAS}[data-clip-id='1']", timeout=RUN_TIMEOUT_MS)
        page.locator(CANVAS).scroll_into_view_if_needed()
        page.click(".sorakit-studio .sorakit-play")  # pause on frame 0, so pixels change only when the clip does
        page.wait_for_selector(".sorakit-studio .sorakit-play:text-is('▶')")
        page.locator(".sorakit-studio .sorakit-scrub").evaluate(
            "el => { el.value = '0'; el.dispatchEvent(new Event('input')); }")
        page.wait_for_selector(f"{CANVAS}[data-frame='0']")
        first = _pixels(page)
        assert _not_placeholder(first) > 0.5, "the first clip is not drawn (the canvas shows the empty placeholder)"
        _shot(page, "lab_studio_first_clip.png")

        page.fill(".sorakit-studio textarea", "a blue ball rolls to the left")
        page.click(".sorakit-studio button[title='random seed']")
        page.click(".sorakit-studio button:has-text('Generate')")
        page.wait_for_selector(f"{CANVAS}[data-clip-id='2'][data-frame='0']", timeout=120_000)
        page.wait_for_timeout(300)
        second = _pixels(page)
        # Frame 0 of both clips, drawn exactly (no compression, no smoothing): any change is the new clip.
        changed = _changed(first, second, by=0)
        assert changed > 0.005, f"Generate drew no new clip: {changed:.2%} of pixels changed"
        assert page.inner_text(".sorakit-studio .sorakit-caption") == "a blue ball rolls to the left"
        assert _not_placeholder(second) > 0.5, "the new clip is not drawn (the canvas shows the empty placeholder)"
        _shot(page, "lab_studio_new_clip.png")

        page.click(".sorakit-studio .sorakit-chip[data-word='blue']")
        page.wait_for_selector(f"{CANVAS}:not([data-heat-id=''])", timeout=120_000)
        page.wait_for_timeout(300)
        heat = _pixels(page)
        changed = _changed(second, heat, by=8)
        # The seed is random, so how much of the canvas the heat covers varies (22–40 % seen); without heat it is 0.
        assert changed > 0.15, f"the word chip drew no heat overlay: {changed:.1%} of pixels changed"
        assert "blue" in page.inner_text(".sorakit-studio .sorakit-heat-label")
        _shot(page, "lab_studio_word_heat.png")

        # Probes tab: run the probes -> a verdict table and the report plot.
        page.click(".sorakit-studio .lm-TabBar-tab:has-text('Probes')")
        page.click(".sorakit-studio button:has-text('Run probes')")
        page.wait_for_selector(".sorakit-studio .sorakit-report", timeout=120_000)
        assert "persistence" in page.inner_text(".sorakit-studio .sorakit-report")

        # Seeds tab: a 1 x 2 grid of looping clips; clicking one picks it into the player.
        page.click(".sorakit-studio .lm-TabBar-tab:has-text('Seeds')")
        page.fill(".sorakit-studio .sorakit-seeds input", "5, 6")
        page.click(".sorakit-studio button:has-text('Run grid')")
        page.wait_for_selector(".sorakit-studio .sorakit-cell[data-index='1'] canvas", timeout=120_000)
        page.wait_for_timeout(500)
        cell = page.locator(".sorakit-studio .sorakit-cell[data-index='1'] canvas")
        grid_px = np.array(cell.evaluate(
            "c => Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)"))
        assert _not_placeholder(grid_px.reshape(-1, 4)) > 0.5 and grid_px.reshape(-1, 4)[:, 3].min() == 255, \
            "the grid clip is not drawn"
        _shot(page, "lab_studio_seed_grid.png")
        cell.click()
        page.wait_for_selector(f"{CANVAS}[data-clip-id='3']", timeout=60_000)
        assert page.locator(".sorakit-studio .sorakit-cell.picked").get_attribute("data-index") == "1"
        assert page.input_value(".sorakit-studio .sorakit-seed input") == "6"
