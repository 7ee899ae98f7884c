"""probes.continuity on rendered world clips: a true continuation passes; a jump, a resized ball or a
lost ball at a boundary fails; the table and the ProbeReport carry it."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from sorakit import probes, world
from sorakit.probes.continuity import continuity, table


def _clip(seed, frames=32, **constraints) -> np.ndarray:
    return world.sample(seed, num_frames=frames, audio=False, **constraints).video


@pytest.fixture(scope="module")
def throw():
    return _clip(5, scenario="throw", color="red", size="medium", direction="right")


def test_one_continuous_take_split_in_two_passes(throw):
    result = continuity(throw, [16], ["a red ball is thrown to the right", "a red ball bounces"], ["continue"])
    row = result.metrics["boundaries"][0]
    assert row["persist"] is True and row["jump"] is True and row["objects"] == ["red"]
    assert abs(row["kept"][0]["radius_change"]) < 0.05
    jump = row["jumps"][0]
    assert jump["step_across"] < 1.5 * max(jump["step_before"], jump["step_after"]) + 0.1


def test_a_jump_at_a_continue_boundary_fails_but_not_at_a_cut():
    drop = _clip(7, scenario="drop", color="blue", size="medium")
    shifted = np.concatenate([drop[:16], np.roll(drop[16:], 7, axis=2)])  # the ball moves 7 px sideways at once
    row = continuity(shifted, [16], transitions=["continue"]).metrics["boundaries"][0]
    assert row["jump"] is False and row["persist"] is True
    assert row["jumps"][0]["jump"] > row["jumps"][0]["allowed"]
    cut = continuity(shifted, [16], transitions=["cut"]).metrics["boundaries"][0]
    assert cut["jump"] is None and cut["persist"] is True  # a cut may reframe


def test_a_ball_that_changes_size_or_disappears_does_not_persist():
    small = _clip(8, frames=16, scenario="drop", color="green", size="small")
    big = _clip(9, frames=16, scenario="drop", color="green", size="large")
    result = continuity(np.concatenate([small, big]), [16], ["a green ball drops", "the green ball falls"], ["cut"])
    row = result.metrics["boundaries"][0]
    assert result.passed is False and row["persist"] is False and row["kept"][0]["radius_change"] > 0.2
    other = _clip(10, frames=16, scenario="drop", color="yellow")
    row = continuity(np.concatenate([small, other]), [16], ["a green ball", "a green ball"],
                     ["cut"]).metrics["boundaries"][0]
    assert row["persist"] is False and row["kept"][0]["seen"] == 0.0


def test_a_cut_keeps_only_the_objects_its_prompt_names(throw):
    blue = _clip(12, frames=16, scenario="roll", color="blue")
    video = np.concatenate([throw[:16], blue])
    row = continuity(video, [16], ["a red ball", "a blue ball rolls"], ["cut"]).metrics["boundaries"][0]
    assert row["objects"] == [] and row["persist"] is None  # nothing established is named: nothing to keep
    assert row["adherence"] is True  # the new shot follows its own prompt


def test_per_shot_adherence_uses_each_shot_s_own_prompt(throw):
    result = continuity(throw, [16], ["a red ball is thrown to the right", "a blue ball"], ["continue"])
    shots = result.metrics["shots"]
    assert shots[0]["adherence"] is True and shots[1]["adherence"] is False
    assert result.passed is False and "adherence" in result.reason


def test_the_table_has_one_row_per_boundary_and_the_report_includes_it(throw):
    layout = SimpleNamespace(boundaries=(10, 20), prompts=("a red ball",) * 3, transitions=("continue", "cut"))
    report = probes.run(throw, shots=layout)
    result = report["continuity"]
    frame = table(result)
    assert list(frame.index) == [1, 2] and list(frame["transition"]) == ["continue", "cut"]
    assert frame.loc[1, "persist"] and frame.loc[1, "jump"]
    assert report.to_dict()["probes"]["continuity"]["boundaries"][0]["frame"] == 10
    assert "continuity" not in probes.run(throw, probes=["tracking"]).results


@pytest.mark.parametrize("kwargs, message", [
    (dict(boundaries=None), "boundaries must be the first frame"),
    (dict(boundaries=[0]), "from 1 to the clip's 31"),
    (dict(boundaries=[20, 10]), "increasing"),
    (dict(boundaries=[16], prompts=["a"]), "one prompt .* per shot: 2 shots, got 1"),
    (dict(boundaries=[16], transitions=["wipe"]), "transitions must hold one of 'continue', 'cut'"),
])
def test_a_bad_layout_is_refused(throw, kwargs, message):
    with pytest.raises(ValueError, match=message):
        continuity(throw, **kwargs)
