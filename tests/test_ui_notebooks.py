"""The notebooks are stored clean (no outputs) and follow the CI conventions nbmake relies on."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
EXPECTED = ["01_quickstart", "02_prompt_and_seed_exploration", "03_attention_maps", "04_physics_probes",
            "05_inside_the_dit", "06_train_your_own", "07_share_a_demo", "08_bring_your_own_model",
            "09_storyboards_and_remix", "10_sweeps", "11_sound"]


def _load(name: str) -> dict:
    return json.loads((NOTEBOOKS / f"{name}.ipynb").read_text(encoding="utf-8"))


def test_all_notebooks_exist():
    assert sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb")) == EXPECTED


@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_is_stored_without_outputs(name):
    nb = _load(name)
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code, "a notebook without code"
    dirty = [i for i, c in enumerate(code) if c.get("outputs") or c.get("execution_count") is not None]
    assert not dirty, (f"code cells {dirty} hold outputs or execution counts: "
                       f"strip them (nbstripout or Clear All Outputs)")
    assert "widgets" not in nb.get("metadata", {}), "saved widget state: strip it"


@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_conventions(name):
    nb = _load(name)
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    first = "".join(nb["cells"][0]["source"])
    assert nb["cells"][0]["cell_type"] == "markdown" and first.startswith(f"# {name[:2]}"), \
        "start with a titled narrative"
    source = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    assert 'os.environ.get("SORAKIT_FAST")' in source, "read SORAKIT_FAST so CI can run a smaller, same-path version"
    if name == "08_bring_your_own_model":  # sets the shipped model beside other families
        assert "sorakit.load()" in source, "use the shipped model"
    elif name != "06_train_your_own":  # that one loads the model it trains
        assert 'MODEL = os.environ.get("SORAKIT_MODEL")' in source and "sorakit.load(MODEL)" in source, \
            "load MODEL, read from SORAKIT_MODEL (unset: the shipped model), so one variable picks the model"
