"""`sorakit eval sound`: the learned soundtrack's sync measure from the command line, on a few real clips."""
from __future__ import annotations

import json

import pytest

from sorakit import cli, world
from sorakit.eval.sound import EVAL_SEEDS
from sorakit.eval.sound_cli import table
from sorakit.sound import predict_impacts


@pytest.fixture(scope="module")
def measured():
    """Two unseen clips through the CLI as JSON (stdout captured by hand: capsys is function-scoped)."""
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli.main(["eval", "sound", "--n", "2", "--json"])
    return code, json.loads(out.getvalue())


def test_json_counts_the_clips_onsets(measured):
    code, r = measured
    assert code == 0
    assert (r["clips"], r["size"], r["fps"], r["frames"]) == (2, "32x32", 8.0, 16)
    assert r["seeds"] == [EVAL_SEEDS, EVAL_SEEDS + 1]
    clips = [world.sample(s, fps=8.0, num_frames=16) for s in range(EVAL_SEEDS, EVAL_SEEDS + 2)]
    # the reference is the simulator's heard onsets, the prediction ImpactNet's impacts, clip by clip
    assert r["onsets"]["reference"] == sum(len(c.onsets) for c in clips)
    assert r["onsets"]["predicted"] == sum(len(predict_impacts(c.video, 8.0)) for c in clips)
    tp, n_ref, n_est = r["onsets"]["matched"], r["onsets"]["reference"], r["onsets"]["predicted"]
    assert 0 <= tp <= min(n_ref, n_est)
    assert r["precision"] == pytest.approx(tp / max(n_est, 1), abs=1e-3)
    assert r["recall"] == pytest.approx(tp / max(n_ref, 1), abs=1e-3)
    assert 0.0 <= r["av_align_learned"] and 0.0 <= r["av_align_ground_truth"]
    m = r["material"]  # every matched impact is given a material and judged against its balls'
    assert m["impacts"] == tp and 0 <= m["dead_heard_dead"] <= m["dead"] <= tp
    assert 0.0 <= m["accuracy"] <= 1.0 and 0.0 <= m["restitution_mae"] < 1.0


def test_table_shows_the_same_numbers(measured):
    _, r = measured
    text = table(r)
    assert text.startswith("| measure | value |\n|---|---|\n")
    assert f"| precision / recall / onset F1 at 50 ms | {r['precision']:.3f} / {r['recall']:.3f} / " \
           f"{r['onset_f1']:.3f} |" in text
    assert f"{r['onsets']['reference']} / {r['onsets']['predicted']} / {r['onsets']['matched']}" in text
    m = r["material"]
    assert f"{m['accuracy']:.3f} ({m['accuracy_of_default']:.3f}) / {m['dead_heard_dead']} of {m['dead']} / " \
           f"{m['restitution_mae']:.3f} |" in text
    unheard = {"impacts": 0, "accuracy": None, "dead": 0, "dead_heard_dead": 0, "restitution_mae": None,
               "accuracy_of_default": None}
    empty = {**r, "median_offset_ms": None, "median_abs_offset_ms": None, "av_sync_mean_f1": None,
             "av_sync_median_offset_ms": None, "av_align_learned": None, "av_align_ground_truth": None,
             "material": unheard}
    assert table(empty).count("n/a") == 9  # nothing to average: said, not a crash


def test_table_is_the_default_output(capsys):
    assert cli.main(["eval", "sound", "--n", "1", "--frames", "8"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("| measure | value |") and "1 (seeds 1000000-1000000), 32x32, 8 fps, 8 frames" in out


@pytest.mark.parametrize("argv, message", [
    (["--n", "0"], "--n"), (["--fps", "0"], "--fps"), (["--size", "100000"], "--size"),
    (["--frames", "1"], "--frames"), (["--fps", "120", "--frames", "3"], "at least 32 ms"),
])
def test_bad_input_is_one_line_and_exit_2(argv, message, capsys):
    try:
        code = cli.main(["eval", "sound", *argv])
    except SystemExit as exc:  # argparse's errors exit from inside
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.fixture(scope="module")
def generated(tiny_pipe, tmp_path_factory):
    """`--generated MODEL_PATH` on 2 clips of a tiny saved model at 2 steps, as JSON."""
    import contextlib
    import io

    folder = tmp_path_factory.mktemp("model")
    tiny_pipe.save_pretrained(folder)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli.main(["eval", "sound", "--generated", str(folder), "--n", "2", "--steps", "2", "--json"])
    return code, json.loads(out.getvalue()), folder


def test_generated_clips_are_scored_against_their_own_visible_contacts(generated, tiny_pipe):
    from sorakit import add_sound, probes
    from sorakit.eval.sound_generated import generate

    code, r, folder = generated
    assert code == 0 and (r["clips"], r["seeds"], r["steps"], r["model"]) == (2, [EVAL_SEEDS, EVAL_SEEDS + 1], 2,
                                                                            str(folder))
    clip = r["per_clip"][0]  # clip k: the caption of seed EVAL_SEEDS + k, generator seed k
    assert clip["caption"] == world.sample(EVAL_SEEDS, audio=False).caption
    video = generate(tiny_pipe, clip["caption"], 0, 2)
    assert clip["generated"]["contacts"] == pytest.approx(probes.visible_contacts(video, r["fps"]), abs=1e-3)
    audio, sr = add_sound(video, r["fps"])
    assert clip["generated"]["onsets"] == pytest.approx(probes.audio_onsets(audio, sr), abs=1e-3)
    truth = world.sample(EVAL_SEEDS, height=video.shape[1], width=video.shape[2], num_frames=len(video))
    assert clip["true_clip"]["contacts"] == pytest.approx(probes.visible_contacts(truth.video, truth.fps), abs=1e-3)
    assert clip["true_clip"]["simulator_onsets"] == pytest.approx(truth.onsets, abs=1e-3)
    for key, part in (("learned_vs_visible", "generated"), ("true_vs_visible", "true_clip")):
        m, rows = r[key], [c[part] for c in r["per_clip"]]
        assert m["contacts"] == sum(len(x["contacts"]) for x in rows)
        assert m["onsets"] == sum(len(x["onsets"]) for x in rows)
        assert m["matched"] == sum(x["matched"] for x in rows) <= min(m["contacts"], m["onsets"])
        if m["onsets"] and m["contacts"]:
            assert m["precision"] == pytest.approx(m["matched"] / m["onsets"], abs=1e-3)
            assert m["f1"] == pytest.approx(2 * m["matched"] / (m["contacts"] + m["onsets"]), abs=1e-3)
    # a true soundtrack is heard at the simulator's onsets: its own check of the measure
    assert r["true_vs_simulator"]["f1"] in (None, 1.0)


def test_generated_table_shows_the_same_numbers(generated):
    from sorakit.eval.sound_cli import table_generated

    _, r, _ = generated
    text = table_generated(r)
    m = r["learned_vs_visible"]
    assert "| add_sound on the generated clip vs its visible contacts | " \
           f"{m['contacts']} | {m['onsets']} | {m['matched']} |" in text
    assert "(ceiling)" in text and "2 steps" in text and "half a frame is 62.5 ms" in text


@pytest.mark.parametrize("argv, message", [
    (["--generated", "--size", "64"], "cannot go with --generated"),
    (["--generated", "--frames", "24"], "cannot go with --generated"),
    (["--steps", "2"], "needs --generated"),
    (["--generated", "no/such/model"], "must be a model folder"),
    (["--generated", "--steps", "0"], "--steps"),
])
def test_generated_options_are_checked_before_a_model_loads(argv, message, capsys):
    try:
        code = cli.main(["eval", "sound", *argv])
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
