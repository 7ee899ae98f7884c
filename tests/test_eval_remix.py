"""`sorakit eval remix`: path departure and new-colour adherence of remixes against strength.

The measurement is checked on world clips with known answers (the same throw in another colour; the
throw moved sideways), then run for real on the shipped model with 2 clips and strengths 0 and 1."""
from __future__ import annotations

import copy
import json
from dataclasses import replace

import numpy as np
import pytest

import sorakit
from sorakit import cli, world
from sorakit.eval import remix as remix_eval
from sorakit.eval.remix_cli import plot, table
from sorakit.loading import WEIGHTS_DIR
from sorakit.training.monitor import seen_colours
from sorakit.world.render import Camera

PX = Camera(32, 32).scale  # pixels per world unit at the model's 32x32


@pytest.fixture(scope="module")
def throw() -> world.Clip:
    return remix_eval.source_clip(0)  # scenario "throw"


def _recoloured_clip(clip: world.Clip, colour: str) -> world.Clip:
    """The same scene (same path) with its ball in another colour."""
    return world.clip_of(world.with_balls(clip.scene, [replace(clip.scene.balls[0], color=colour)]), audio=False)


def _ball(clip: world.Clip):
    return seen_colours(world.track(clip.video))[clip.states.color[0]]


def test_captions_are_recoloured_with_another_palette_colour(throw):
    old = throw.states.color[0]
    assert old in throw.caption.split()
    news = {remix_eval.new_colour(i, old) for i in range(len(world.COLORS) - 1)}
    assert news == set(world.COLORS) - {old}  # each other colour in turn, never the old one
    prompt = remix_eval.recoloured(throw.caption, old, "blue" if old != "blue" else "red")
    assert prompt.split()[0:1] == throw.caption.split()[0:1] and old not in prompt.split()
    assert len(prompt.split()) == len(throw.caption.split())
    with pytest.raises(ValueError, match="names the colour 'green' 0 times"):
        remix_eval.recoloured("a red ball rolls", "green", "blue")


def test_the_same_path_in_a_new_colour_scores_as_followed_and_kept(throw):
    old = throw.states.color[0]
    new = remix_eval.new_colour(0, old)
    score = remix_eval.score_remix(_recoloured_clip(throw, new).video, old, new, _ball(throw), PX)
    assert score["new_colour"] and not score["old_colour"]
    assert score["within_radius"] and score["missing_frames"] == 0
    assert score["max_px"] < 0.3 * score["radius_px"]  # the tracker finds the same centre in either colour
    # The source itself (strength 0): no departure at all, still the old colour.
    same = remix_eval.score_remix(throw.video, old, new, _ball(throw), PX)
    assert same["mean_px"] == same["max_px"] == 0 and same["old_colour"] and not same["new_colour"]


def test_a_path_moved_sideways_departs_by_the_shift(throw):
    old = throw.states.color[0]
    shift = 5  # pixels: more than any ball's radius at 32x32 (a large ball: 1.15 units * 3.2 px = 3.7 px)
    background = throw.video[:, :, :1]
    moved = np.concatenate([np.repeat(background, shift, axis=2), throw.video[:, :, :-shift]], axis=2)
    score = remix_eval.score_remix(moved, old, "blue", _ball(throw), PX)
    assert score["old_colour"] and not score["new_colour"]
    assert score["mean_px"] == pytest.approx(shift, abs=0.5) and score["radius_px"] < shift
    assert not score["within_radius"]


def test_a_remix_without_a_ball_is_not_within_radius(throw):
    empty = np.repeat(throw.video[:1, :1, :1], 32, axis=1).repeat(32, axis=2).repeat(len(throw.video), axis=0)
    score = remix_eval.score_remix(empty, throw.states.color[0], "blue", _ball(throw), PX)
    assert not score["within_radius"] and score["missing_frames"] == int(_ball(throw).present.sum())
    assert np.isnan(score["mean_px"]) and not score["new_colour"]


@pytest.mark.parametrize("n, steps, strengths, match", [
    (0, 10, [0.5], "n .source clips. must be a positive whole number"),
    (2, 0, [0.5], "steps must be a positive whole number"),
    (2, 10, [], "strengths must be a non-empty list of numbers from 0 to 1"),
    (2, 10, [0.5, 1.5], "strengths must be a non-empty list of numbers from 0 to 1"),
    (2, 10, "0.5", "strengths must be a non-empty list"),
])
def test_bad_arguments_say_what_is_allowed(n, steps, strengths, match):
    with pytest.raises(ValueError, match=match):
        remix_eval.check_arguments(n, steps, strengths)


def test_the_answer_is_the_smallest_strength_meeting_both_targets():
    def row(s, colour, path):
        return {"strength": s, "new_colour": colour, "within_radius": path}

    rows = [row(0, 0, 1), row(0.4, 0.8, 0.9), row(0.6, 0.95, 0.75), row(0.8, 1, 0.7), row(1, 1, 0.2)]
    assert remix_eval.answer(rows)["strength"] == 0.6
    none = remix_eval.answer([row(0, 0, 1), row(0.5, 0.5, 0.8), row(1, 1, 0.1)])
    assert none["strength"] is None and none["colour_follows_from"] == 1 and none["path_kept_up_to"] == 0.5


@pytest.fixture(scope="module")
def measured():
    """The real measurement: the shipped model, 2 held-out clips, strengths 0 and 1, 4 steps."""
    if not (WEIGHTS_DIR / "transformer" / "config.json").exists():
        pytest.fail("the shipped weights are missing from sorakit/weights/")
    pipe = sorakit.load()
    return remix_eval.evaluate_remix(pipe, n=2, strengths=[1.0, 0.0], steps=4, progress=False)


@pytest.mark.model
def test_strength_zero_keeps_path_and_colour_and_one_departs(measured):
    zero, one = measured["table"]  # sorted by strength
    assert [zero["strength"], one["strength"]] == [0.0, 1.0] and [zero["steps_run"], one["steps_run"]] == [0, 4]
    assert measured["config"]["sources_showing_colour"] == 2 and zero["paths"] == one["paths"] == 2
    assert zero["mean_px"] == zero["max_px"] == 0 and zero["within_radius"] == 1
    assert zero["new_colour"] == 0 and zero["old_colour"] == 1
    assert one["mean_px"] > 0 and one["max_px"] >= one["mean_px"]  # a fresh sample from other noise
    for row in measured["table"]:
        assert all(0 <= row[k] <= 1 for k in ("within_radius", "new_colour", "old_colour"))
        assert row["clips"] == 2
    assert [r["new"] != r["old"] and r["new"] in r["prompt"] for r in measured["rows"]] == [True, True]
    assert set(measured["answer"]) == {"strength", "colour_target", "path_target", "colour_follows_from",
                                       "path_kept_up_to"}


@pytest.mark.model
def test_the_cli_prints_the_table_and_saves_a_small_figure(measured, monkeypatch, tmp_path, capsys):
    asked = {}

    def evaluate(pipe, n, strengths, steps, guidance):
        asked.update(n=n, strengths=list(strengths), steps=steps)
        return copy.deepcopy(measured)

    monkeypatch.setitem(vars(sorakit), "load", lambda model=None, device=None: object())
    monkeypatch.setattr(remix_eval, "evaluate_remix", evaluate)
    out = tmp_path / "figs" / "remix.png"
    assert cli.main(["eval", "remix", "--n", "2", "--strengths", "0", "1", "--plot", str(out)]) == 0
    text = capsys.readouterr().out
    assert asked == {"n": 2, "strengths": [0.0, 1.0], "steps": remix_eval.STEPS}
    assert text.startswith("| strength | steps run |") and "| 0 | 0 | 0.00 | 0.00 | 100 % (2) | 0 % (2) |" in text
    assert text == table(measured) + "\n"
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size < 100_000
    assert cli.main(["eval", "remix", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"][0]["remixes"][1]["mean_px"] > 0
    assert plot(measured, tmp_path / "again.png").exists()


@pytest.mark.parametrize("argv, match", [
    (["--strengths", "0", "1.5"], "must be a number from 0 to 1; got '1.5'"),
    (["--strengths", "nan"], "must be a number from 0 to 1"),
    (["--n", "0"], "must be a whole number from 1 to"),
    (["--steps", "0"], "must be a whole number from 1 to"),
    (["--plot", "out.txt"], "must end in .png"),
])
def test_bad_cli_input_is_one_line_before_any_model_loads(monkeypatch, capsys, argv, match):
    def load(*args, **kwargs):
        raise AssertionError("the model was loaded before the arguments were checked")

    monkeypatch.setitem(vars(sorakit), "load", load)
    try:
        code = cli.main(["eval", "remix", *argv])
    except SystemExit as exit_:  # argparse's own errors
        code = exit_.code
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and match in err, err
