"""`sorakit eval events`: the event measures score the true clips in full, fail broken clips on the
measures they break, refuse bad arguments before any work, and are wired into the CLI."""
from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from launching import launch
from scipy import ndimage

from sorakit import cli, world
from sorakit.eval import events
from sorakit.eval.events_scoring import BY_SET, MAX_DRIFT, score, summarize

PER_SET = 4  # drop: 2 dead + 2 bouncy; hoop: 2 in + 2 misses off the rim


@pytest.fixture(scope="module")
def clips():
    return {e: events.event_clips(e, PER_SET) for e in events.SETS}


def _passed(rows, measure):
    return [bool(r[measure]) for r in rows if measure in r]


def test_true_clips_pass_every_measure(clips):
    rows = [dict(score(c.video, c, e), set=e) for e, cs in clips.items() for c in cs]
    for measures in BY_SET.values():
        for m in measures:
            if m != "restitution":
                assert _passed(rows, m) and all(_passed(rows, m)), m
    assert len(_passed(rows, "rim_rebound")) == PER_SET // 2
    rest = summarize(rows)["restitution"]
    assert rest["dead_n"] == rest["bouncy_n"] == PER_SET // 2
    assert rest["dead"] < 0.35 and rest["bouncy"] > 0.7 and rest["passed"]


def test_the_dead_ball_is_prompted_not_to_bounce(clips):
    dead = [c for c in clips["drop"] if c.scene.bounciness == "dead"]
    assert all(any(p in c.caption for p in events.NO_BOUNCE_PHRASES) for c in dead)
    assert all("bounc" not in c.caption.replace("without bouncing", "") for c in dead)


def test_three_bounces_at_64_pixels_and_24_frames():
    clips = events.event_clips("bounces", 3, height=64, width=64, num_frames=24)
    assert [r["bounces_named"] for r in (score(c.video, c, "bounces") for c in clips)] == [1, 2, 3]
    assert all(score(c.video, c, "bounces")["bounce_count"] for c in clips)


def test_a_frozen_ball_fails_every_event_but_a_prompted_miss(clips):
    for event, cs in clips.items():
        rows = [score(np.repeat(c.video[:1], len(c.video), 0), c, event) for c in cs]
        for m in BY_SET[event]:
            if m == "restitution":
                assert not summarize(rows)["restitution"]["passed"]
            elif m == "hoop_outcome":  # a ball that never moves does miss
                assert [r[m] for r in rows] == [r["outcome_named"] == "miss" for r in rows]
            else:
                assert not any(_passed(rows, m)), (event, m)


def test_a_clip_played_backwards_fails_drop_restitution_and_a_shot_that_goes_in(clips):
    backwards = {e: [score(c.video[::-1].copy(), c, e) for c in cs] for e, cs in clips.items()}
    assert not any(_passed(backwards["drop"], "drop"))  # it rises above where it is first seen
    assert not summarize(backwards["drop"])["restitution"]["passed"]
    hoop = backwards["hoop"]
    assert not any(r["hoop_outcome"] for r in hoop if r["outcome_named"] == "in")
    # Free flight and momentum are the same either way in time: those measures cannot tell.
    assert all(_passed(backwards["throw"], "throw_g25")) and all(_passed(backwards["collision"], "collision"))


def test_a_drifting_drop_fails_on_drift_alone(clips):
    clip = clips["drop"][1]
    px_per_frame = 0.3  # 0.094 units per frame: 1.4 units over the clip at constant velocity
    drifted = np.stack([ndimage.shift(f, (0, px_per_frame * k, 0), order=1, mode="nearest")
                        for k, f in enumerate(clip.video)])
    row = score(np.clip(drifted, 0, 1), clip, "drop")
    assert not row["drop"] and row["drift"] > MAX_DRIFT
    assert abs(row["g_error"]) < 0.1 and row["fall"] > 1 and row["above_floor"] <= 0 and row["rise"] < 0.1


def test_a_ball_that_turns_back_in_mid_air_is_no_drop(clips):
    clip = clips["drop"][1]  # bouncy: its rebound is in the clip
    landing = next(e.frame for e in clip.events if e.kind == "floor_bounce")
    lift = np.zeros(len(clip.video))
    lift[landing - 1:landing + 2] = [0.5, 1.0, 0.5]  # pixels: the ball turns 0.3 units above the floor
    lifted = np.stack([ndimage.shift(f, (-dy, 0, 0), order=1, mode="nearest") for f, dy in zip(clip.video, lift)])
    row = score(np.clip(lifted, 0, 1), clip, "drop")
    assert row["above_floor"] > 0 and not row["drop"]


def test_a_shot_that_jumps_between_positions_is_no_rebound(clips):
    miss = next(c for c in clips["hoop"] if c.trajectory.outcome == "miss")
    assert score(miss.video, miss, "hoop")["rim_rebound"]
    rim = next(e.frame for e in miss.events if e.kind == "rim_hit")
    pos = miss.trajectory.pos.copy()
    pos[rim + 2:, 0, 0] += np.where(pos[rim + 2:, 0, 0] < 5, 3.0, -3.0)  # 3 units sideways after the rim
    jumpy, _ = world.render(miss.scene, replace(miss.trajectory, pos=pos), 32, 32)
    row = score(jumpy, miss, "hoop")
    assert row["rim_frames"] and row["max_step"] > 2.0 and not row["rim_rebound"]


def test_generated_rows_come_from_the_pipeline(tiny_pipe):
    result = events.evaluate_events(n=2, pipe=tiny_pipe, steps=1, sets=("hoop",), progress=False, keep_videos=True)
    assert set(result.summary) == {"truth", "generated"}
    assert result.summary["truth"]["hoop_outcome"] == {"share": 1.0, "passed": 2, "n": 2}
    assert result.summary["generated"]["hoop_outcome"]["n"] == 2
    assert result.videos["hoop"][0].shape == (16, 32, 32, 3)
    assert "| hoop_outcome | 100% (2/2) |" in result.table()


@pytest.mark.slow
def test_eval_events_with_two_processes_matches_one():
    """`accelerate launch` shares the batches (each seeded by its index) and one report comes back."""
    import sorakit

    proc = launch("-m", "sorakit", "eval", "events", "--n", "2", "--sets", "drop", "hoop", "--steps", "1", "--json")
    assert "events eval (process 1/2)" in proc.stderr
    two = json.loads(proc.stdout)
    pipe = sorakit.load()
    one = events.evaluate_events(n=2, pipe=pipe, steps=1, sets=("drop", "hoop"), progress=False).to_dict()
    assert two["summary"] == json.loads(json.dumps(one["summary"], default=str))
    assert [r["seed"] for r in two["clips"]] == [r["seed"] for r in one["clips"]]


@pytest.mark.parametrize("kwargs, message", [
    (dict(n=0), "n must be an integer"),
    (dict(n=2.5), "n must be an integer"),
    (dict(steps=0), "steps must be an integer"),
    (dict(guidance=-1.0), "guidance must be a number"),
    (dict(sets=("drop", "fly")), "sets must be a non-empty list drawn from drop"),
    (dict(sets="drop"), "sets must be a non-empty list"),
    (dict(size=(32, 32, 4, 8.0)), "num_frames must be an integer in [12"),
    (dict(size=(32, 32, 16)), "size must be (height, width, num_frames, fps)"),
])
def test_bad_arguments_raise_before_any_work(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        events.evaluate_events(**{"truth_only": True, **kwargs})


def test_bad_event_names_and_sizes_raise(clips):
    with pytest.raises(ValueError, match="unknown event set 'fly'; allowed: drop, throw"):
        events.event_clips("fly", 2)
    with pytest.raises(ValueError, match="unknown event set"):
        score(clips["drop"][0].video, clips["drop"][0], "fly")
    with pytest.raises(ValueError, match="size is only for truth_only"):
        events.evaluate_events(n=1, pipe=object(), size=(32, 32, 16, 8.0))


def test_cli_scores_the_true_clips(capsys):
    assert cli.main(["eval", "events", "--truth", "--n", "2", "--sets", "hoop", "collision"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("| measure | truth |")
    assert "| hoop_outcome | 100% (2/2) |" in out and "| collision | 100% (2/2) |" in out
    assert cli.main(["eval", "events", "--truth", "--n", "1", "--sets", "throw", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["config"]["size"] == [32, 32, 16, 8.0] and data["summary"]["truth"]["throw_g15"]["n"] == 1


def test_cli_passes_the_model_and_options(monkeypatch, capsys):
    import sorakit

    seen = {}
    monkeypatch.setitem(vars(sorakit), "load", lambda path, device=None: seen.setdefault("model", path))

    def fake(**kwargs):
        seen.update(kwargs)
        return events.EventsEval({"truth": summarize([])})

    monkeypatch.setattr(events, "evaluate_events", fake)
    assert cli.main(["eval", "events", "--model", "runs/x", "--n", "3", "--steps", "5", "--sets", "drop"]) == 0
    assert seen["model"] == "runs/x" and seen["pipe"] == "runs/x"
    assert (seen["n"], seen["steps"], seen["sets"], seen["truth_only"]) == (3, 5, ("drop",), False)
    assert capsys.readouterr().out.startswith("| measure | truth |")


@pytest.mark.parametrize("argv, message", [
    (["--n", "0"], "n must be an integer"),
    (["--sets", "fly"], "sets must be a non-empty list"),
    (["--height", "64"], "need --truth"),
])
def test_cli_bad_input_is_one_line_and_exit_2(argv, message, capsys, monkeypatch):
    import sorakit

    monkeypatch.setitem(vars(sorakit), "load", lambda *a: pytest.fail("the model must not load"))
    assert cli.main(["eval", "events", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("sorakit: error:") and message in err and len(err.strip().splitlines()) == 1
