"""Storyboards in a real browser (headless Chromium): the demo's Storyboard tab makes a two-shot film
and shows where the second shot starts; in JupyterLab, the Studio's Storyboard tab gets a shot added,
generates the film and marks each shot on the player's timeline. Both use the tiny pipeline: the
tests check the pages, not quality. Screenshots go to artifacts/ (SORAKIT_ARTIFACTS)."""
from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from notebook_lab import notebook_page

from sorakit import demo

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # Chromium (and JupyterLab) start in ~10-20 s

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(os.environ.get("SORAKIT_ARTIFACTS", REPO / "artifacts"))
CANVAS = ".sorakit-studio .sorakit-player-canvas"
FILM_PLAYS = """() => {
    const v = document.querySelector('#film video');
    return v !== null && v.readyState >= 2 && v.duration > 0;
}"""


def test_demo_two_shot_storyboard_plays_with_its_boundaries(chromium, tiny_pipe):
    app = demo.launch(tiny_pipe, prevent_thread_lock=True, quiet=True)
    page = chromium.new_page(viewport={"width": 1280, "height": 1100})
    try:
        page.goto(app.local_url, wait_until="domcontentloaded")
        page.locator("#prompt textarea").wait_for(timeout=60_000)
        page.get_by_label("number input for Steps").fill("1")  # the shared sampling inputs on the left
        page.get_by_role("tab", name="Storyboard").click()
        page.locator("#shot-1 textarea").fill("a red ball is thrown to the right")
        page.locator("#shot-2 textarea").fill("a red ball bounces")
        page.locator("#transition-2").get_by_label("cut").check()
        page.get_by_label("number input for Frames per shot").fill("4")
        page.locator("#storyboard-run").click()
        page.wait_for_function(FILM_PLAYS, timeout=60_000)
        duration = page.evaluate("document.querySelector('#film video').duration")
        assert duration == pytest.approx(8 / 8, abs=0.2)  # 2 shots x 4 frames at 8 fps
        shots = page.locator("#timeline .sorakit-shot")
        shots.nth(1).wait_for(timeout=10_000)
        second = shots.nth(1).inner_text()
        assert shots.count() == 2 and "cut" in second and "(frame 5)" in second  # shot 2 starts at frame 5
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "demo_storyboard.png"), full_page=True)
    finally:
        page.close()
        app.close()


STUDIO_CELL = """import torch
from sorakit import ui
from sorakit.loading import assemble
from sorakit.model import build_transformer
torch.manual_seed(0)
pipe = assemble(build_transformer(num_layers=2).eval())  # tiny and untrained: the test checks the widgets
pipe.set_progress_bar_config(disable=True)
studio = ui.Studio(pipe, "a red ball is thrown to the right", steps=1, seeds=2, moderation=False)
studio.tabs.selected_index = ui.studio.TABS.index("Storyboard")
studio"""


@pytest.fixture
def lab(jupyter_lab):
    """JupyterLab serving a notebook that shows a Studio of the tiny pipeline on its Storyboard tab."""
    notebook = jupyter_lab.folder("storyboard_studio") / "storyboard_studio.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell(STUDIO_CELL))
    nbformat.write(nb, notebook)
    with jupyter_lab.open(notebook) as url:
        yield url


def test_studio_storyboard_add_shot_generate_and_timeline_marks(chromium, lab):
    with notebook_page(chromium, lab, ARTIFACTS / "lab_storyboard_failure.png", height=1100) as page:
        board = page.locator(".sorakit-storyboard")
        board.wait_for(timeout=300_000)  # kernel start, imports, the tiny pipeline
        assert board.locator(".sorakit-shot").count() == 1  # the Studio's prompt is shot 1
        board.get_by_placeholder("a new shot").fill("a red ball bounces")
        board.locator("select").last.select_option("cut")
        board.get_by_role("button", name="Add shot").click()
        page.wait_for_function("() => document.querySelectorAll('.sorakit-storyboard .sorakit-shot').length === 2")
        board.get_by_role("button", name="Generate all").click()
        canvas = page.locator(f"{CANVAS}[data-markers='2']")
        canvas.wait_for(timeout=120_000)
        marks = page.locator(".sorakit-studio .sorakit-marker")
        assert marks.count() == 2 and marks.nth(1).get_attribute("data-frame") == "16"  # shot 2 starts at 16
        assert "(cut)" in marks.nth(1).get_attribute("title")
        marks.nth(1).click()  # picks shot 2 for remix / extend, in the kernel
        page.wait_for_function("() => document.querySelector('.sorakit-remix').textContent.includes('shot 2')")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.locator(".sorakit-studio").screenshot(path=str(ARTIFACTS / "lab_studio_storyboard.png"))
