"""SweepExplorer on a real sweep of the tiny pipeline: run with progress, open a folder, sort, filter,
row -> clip, messages from the browser, and the static fallback."""
from __future__ import annotations

import base64

import numpy as np
import pandas as pd
import pytest

from sorakit import media, ui
from sorakit.sweep import read_table
from sorakit.ui.sweep_rows import cell_text, default_columns

RED, BLUE = "a red ball bounces twice", "a blue ball is thrown to the left"
# guidance varies between cells, so the explorer shows its column; steps and frames do not
CELLS = [{"prompt": RED, "seed": 3, "guidance": 1.0}, {"prompt": RED, "seed": 1, "guidance": 4.0},
         {"prompt": BLUE, "seed": 3, "guidance": 4.0}, {"prompt": BLUE, "seed": 1, "guidance": 1.0}]


@pytest.fixture(scope="module")
def ran(tiny_pipe, tmp_path_factory):
    folder = tmp_path_factory.mktemp("sweep")
    explorer = ui.SweepExplorer(folder, pipe=tiny_pipe)
    assert explorer.table is None and explorer.view.rows == []  # an empty folder: nothing to show yet
    progress = []
    explorer.progress.observe(lambda change: progress.append((change.new, explorer.progress.max)), "value")
    table = explorer.run(cells=CELLS, steps=1, frames=4, threads=1)
    return {"explorer": explorer, "table": table, "progress": progress, "folder": folder}


def _keys(explorer) -> list[str]:
    return [row["key"] for row in explorer.view.rows]


def test_run_counts_cells_then_shows_the_sweeps_table(ran):
    explorer, table = ran["explorer"], ran["table"]
    assert ran["progress"] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert explorer.progress.bar_style == "success" and "4 of 4 cells" in explorer.status.value, explorer.status.value
    assert table.equals(read_table(ran["folder"]))
    assert explorer.view.columns[:3] == ["prompt", "seed", "guidance"] and "steps" not in explorer.view.columns
    assert {"passed", "adherence_score", "velocity_error"} <= set(explorer.view.columns)
    assert _keys(explorer) == list(table["key"])  # the sweep's own order until a column is clicked
    first = explorer.view.rows[0]["cells"]
    assert first[:3] == [RED, "3", "1"]


def test_header_clicks_sort_by_any_column_and_turn_the_direction_round(ran):
    explorer = ui.SweepExplorer(ran["folder"])  # opened from the folder, no pipeline
    view = explorer.view
    view._handle_custom_msg({"event": "sort", "column": "seed"}, [])
    assert (view.sort_by, view.ascending) == ("seed", True)
    # stable: equal seeds keep the sweep's order (red before blue)
    assert [(r["cells"][0], r["cells"][1]) for r in view.rows] == [(RED, "1"), (BLUE, "1"), (RED, "3"), (BLUE, "3")]
    view._handle_custom_msg({"event": "sort", "column": "seed"}, [])
    assert view.ascending is False and [r["cells"][1] for r in view.rows] == ["3", "3", "1", "1"]
    explorer.sort("guidance", ascending=False)
    assert list(explorer.shown["guidance"]) == [4.0, 4.0, 1.0, 1.0] and _keys(explorer) == list(explorer.shown["key"])
    explorer.sort("velocity_error")  # a probe score: missing values (no ball followed) go last
    scores = explorer.shown["velocity_error"].to_numpy(float)
    found = scores[~np.isnan(scores)]
    assert (np.diff(found) >= 0).all() and np.isnan(scores[len(found):]).all()
    explorer.sort("id")  # any column of the table, shown or not
    assert list(explorer.shown["id"]) == sorted(ran["table"]["id"])
    view._handle_custom_msg({"event": "sort", "column": "cfg"}, [])
    assert "sorakit-error" in explorer.status.value and "cfg" in explorer.status.value and view.sort_by == "id"
    with pytest.raises(ValueError, match="columns must name columns of the sweep's table"):
        explorer.sort("cfg")


def test_the_prompt_filter_keeps_matching_rows_in_the_sort_order(ran):
    explorer = ui.SweepExplorer(ran["folder"])
    explorer.sort("seed")
    explorer.prompt_filter.value = "BLUE"  # any case
    assert [r["cells"][:2] for r in explorer.view.rows] == [[BLUE, "1"], [BLUE, "3"]]
    assert "2 of 4 cells" in explorer.status.value
    explorer.prompt_filter.value = "green"
    assert explorer.view.rows == [] and "0 of 4 cells" in explorer.status.value
    explorer.prompt_filter.value = ""
    assert len(explorer.view.rows) == 4


def test_a_clicked_row_plays_its_own_clip(ran):
    explorer = ui.SweepExplorer(ran["folder"])
    picked = []
    explorer.on_pick(lambda row, video: picked.append((row["key"], video)))
    table = ran["table"]
    clips = {}
    for key, clip in zip(table["key"], table["clip"]):
        video, recipe = media.read_clip(ran["folder"] / clip)
        assert recipe.settings_id == key
        clips[key] = video
    for n, key in enumerate([table["key"][2], table["key"][0]], start=1):
        explorer.view._handle_custom_msg({"event": "pick", "key": key}, [])
        assert explorer.view.selected == key and explorer.player.clip_id == n
        assert explorer.player.is_showing(clips[key]) and picked[-1][0] == key
    assert not explorer.player.is_showing(clips[table["key"][2]])  # another cell, another clip
    row = table.iloc[0]
    assert explorer.player.label == f"{row.prompt} · seed {row.seed} · guidance {row.guidance}"
    assert explorer.player.num_frames == 4
    explorer.view._handle_custom_msg({"event": "pick", "key": "nope"}, [])
    assert "no cell with key" in explorer.status.value and "nope" in explorer.status.value
    assert explorer.player.clip_id == 2


def test_a_refused_cell_has_no_clip_to_play(ran):
    explorer = ui.SweepExplorer(ran["folder"])
    table = read_table(ran["folder"])
    table.loc[1, ["clip", "refused"]] = ["", "violence"]
    explorer.show_table(table)
    with pytest.raises(ValueError, match="has no clip: moderation refused it \\(violence\\)"):
        explorer.pick(table["key"][1])


def test_max_rows_limits_what_the_browser_gets_not_the_sort(ran):
    explorer = ui.SweepExplorer(ran["folder"], max_rows=2, columns=["seed", "adherence_score"])
    explorer.sort("seed", ascending=False)
    assert len(explorer.view.rows) == 2 and len(explorer.shown) == 4
    assert [r["cells"][0] for r in explorer.view.rows] == ["3", "3"] and len(explorer.view.rows[0]["cells"]) == 2
    assert "(the first 2 shown)" in explorer.status.value


def test_static_fallback_is_the_table_then_the_picked_clip(ran):
    explorer = ui.SweepExplorer(ran["folder"])
    explorer.sort("seed")
    data, _ = explorer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in data
    page = data["text/html"]
    assert page.count("<tr") == 5 and "a blue ball" in page and "<video" not in page and "image/png" not in data
    assert page.index("<td>1</td>") < page.index("<td>3</td>")  # in the explorer's order
    explorer.pick(explorer.shown["key"].iloc[0])
    data, _ = explorer._repr_mimebundle_()
    assert "<video" in data["text/html"] and base64.b64decode(data["image/png"])[:4] == b"\x89PNG"
    empty, _ = ui.SweepExplorer()._repr_mimebundle_()
    assert "text/html" not in empty


def test_bad_input_is_refused_with_what_is_allowed(ran, tmp_path):
    with pytest.raises(ValueError, match="max_rows must be a positive whole number"):
        ui.SweepExplorer(max_rows=0)
    with pytest.raises(ValueError, match="it has: key, id, prompt"):
        ui.SweepExplorer(ran["folder"], columns=["prompt", "score"])
    with pytest.raises(ValueError, match="holds no results.csv"):
        ui.SweepExplorer().open_sweep(tmp_path)
    explorer = ui.SweepExplorer(tmp_path / "new")
    assert explorer.run(["a ball"], seeds=[0]) is None
    assert "no pipeline" in explorer.status.value and explorer.progress.bar_style == "danger"


def test_cell_text_and_default_columns():
    assert [cell_text(v) for v in (None, np.nan, pd.NA, True, np.False_, 0.66666, 4.0, 7, "a <b>")] == \
        ["–", "–", "–", "✓", "✗", "0.667", "4", "7", "a <b>"]
    table = pd.DataFrame({"key": ["a", "b"], "prompt": ["x", "y"], "seed": [0, 0], "steps": [2, 4],
                          "guidance": [4.0, 4.0], "passed": [True, None], "adherence_score": [1.0, np.nan]})
    assert default_columns(table) == ["prompt", "seed", "steps", "passed", "adherence_score"]
