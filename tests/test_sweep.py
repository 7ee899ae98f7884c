"""sorakit.sweep: a grid run once in this process (stopped part-way, then resumed) and once by
`accelerate launch` with 2 processes; both must make every cell exactly once and the same clips."""
from __future__ import annotations

import itertools
import json
import shutil

import pytest
from launching import launch

from sorakit.pipeline import SpacetimePipeline
from sorakit.sweep import read_table, store, sweep

PROMPTS = ["a red ball bounces twice", "a blue ball is thrown to the left"]
SEEDS = [0, 1, 2]
GUIDANCE = [1.0, 4.0]
TINY = {"steps": 2, "frames": 8}  # seconds per cell on a CPU, yet every probe has frames to look at
CELLS = len(PROMPTS) * len(SEEDS) * len(GUIDANCE)  # 12
STOP_AFTER = 5


class Calls:
    """Counts pipeline calls (prompt, seed, guidance); raises KeyboardInterrupt after `stop` of them."""

    def __init__(self):
        self.made, self.stop = [], None
        self.original = SpacetimePipeline.__call__

    def __call__(self, pipe, *args, **kwargs):
        if self.stop is not None and len(self.made) >= self.stop:
            raise KeyboardInterrupt  # as a kill would, between two cells
        generator = kwargs.get("generator")
        self.made.append((kwargs.get("prompt", args[0] if args else None), generator and generator.initial_seed(),
                          kwargs.get("guidance_scale")))
        return self.original(pipe, *args, **kwargs)


@pytest.fixture(scope="module")
def pipe():
    import sorakit

    return sorakit.load()


@pytest.fixture(scope="module")
def small_model(tmp_path_factory):
    """(folder, pipeline): the shipped weights set to make 8-frame 16x16 clips. Evaluations sample and score
    clips at the model's size, so the checks that a split evaluation matches one process (a wrong split
    shows on any model) cost about a fifth of what they do at 16 frames of 32x32."""
    import sorakit
    from sorakit.loading import WEIGHTS_DIR

    folder = tmp_path_factory.mktemp("small") / "model"
    shutil.copytree(WEIGHTS_DIR, folder)
    meta = json.loads((folder / "sorakit.json").read_text())
    meta["pipeline"].update(num_frames=8, height=16, width=16)
    (folder / "sorakit.json").write_text(json.dumps(meta))
    small = sorakit.load(folder)
    small.set_progress_bar_config(disable=True)
    return str(folder), small


@pytest.fixture(scope="module")
def calls():
    counter = Calls()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(SpacetimePipeline, "__call__", lambda self, *a, **k: counter(self, *a, **k))
        yield counter


def _grid(pipe, out, **extra):
    return sweep(pipe, PROMPTS, SEEDS, guidance=GUIDANCE, out=out, progress=False, threads=1, **TINY, **extra)


@pytest.fixture(scope="module")
def single(pipe, calls, tmp_path_factory):
    """One process: stopped after STOP_AFTER cells, left with a kill's debris, then run again."""
    out = tmp_path_factory.mktemp("single")
    calls.made.clear()
    calls.stop = STOP_AFTER
    with pytest.raises(KeyboardInterrupt):
        _grid(pipe, out)
    calls.stop = None
    first, finished = list(calls.made), store.finished(out)
    manifest = json.loads((out / store.MANIFEST).read_text())
    # What a kill mid-cell leaves: half a clip of an unfinished cell and a temporary row file.
    pending = sorted(set(manifest["keys"]) - finished)
    store.clip_path(out, pending[0]).write_bytes(b"\x00 half an mp4")
    (out / "rows" / f".{pending[0]}.p0.json.x.tmp").write_text("{")
    calls.made.clear()
    table = _grid(pipe, out)
    return {"out": out, "first": first, "finished": finished, "second": list(calls.made), "table": table}


@pytest.fixture(scope="module")
def launched(tmp_path_factory):
    """The same grid through the real CLI: `accelerate launch ... -m sorakit sweep`, 2 CPU processes."""
    out = tmp_path_factory.mktemp("launched")
    proc = launch("-m", "sorakit", "sweep", *PROMPTS, "--seeds", "0-2", "--guidance", *map(str, GUIDANCE),
                  "--steps", str(TINY["steps"]), "--frames", str(TINY["frames"]), "--out", str(out), "--quiet")
    return {"out": out, "stdout": proc.stdout}


def test_stopped_sweep_resumes_with_only_the_missing_cells(single):
    assert len(single["first"]) == STOP_AFTER and len(single["finished"]) == STOP_AFTER
    # The rerun sampled each unfinished cell once (the half-written clip's cell included), nothing else.
    assert len(single["second"]) == CELLS - STOP_AFTER
    assert not set(single["first"]) & set(single["second"])
    expected = {(p, s, g) for p in PROMPTS for s in SEEDS for g in GUIDANCE}
    assert set(single["first"]) | set(single["second"]) == expected
    table = single["table"]
    assert len(table) == CELLS and table["key"].is_unique
    assert list(table["guidance"][:2]) == GUIDANCE and list(table["seed"][:4]) == [0, 0, 1, 1]  # grid order
    assert (table["steps"] == TINY["steps"]).all() and (table["frames"] == TINY["frames"]).all()


def test_table_rows_clips_and_recipes_agree(single):
    from sorakit.media import read_metadata

    out, table = single["out"], single["table"]
    assert len(store.row_files(out)) == CELLS  # the temporary row file was not taken for a row
    for row in table.itertuples():
        recipe = read_metadata(out / row.clip)
        assert recipe.id == row.id and recipe.settings_id == row.key and recipe.seed == row.seed
    assert table["probes_ran"].min() >= 1 and table["adherence_score"].between(0, 1).all()
    assert (table["sample_s"] > 0).all() and (table["cell_s"] > table["sample_s"]).all()
    assert read_table(out).equals(table)


@pytest.mark.slow
def test_two_processes_make_each_cell_once_and_the_same_clips(launched, single):
    out = launched["out"]
    rows = store.row_files(out)
    keys = [p.name.split(".")[0] for p in rows]
    assert len(rows) == CELLS and len(set(keys)) == CELLS  # each cell written by exactly one process
    table = read_table(out)
    assert table["process"].value_counts().to_dict() == {0: CELLS // 2, 1: CELLS // 2}
    ref = single["table"].set_index("key")
    got = table.set_index("key")
    assert sorted(got.index) == sorted(ref.index)
    # Bit-identical: the hash of the pipeline's float output, and the recipe id (settings + uint8 frames).
    assert (got["output_sha256"] == ref.loc[got.index, "output_sha256"]).all()
    assert (got["id"] == ref.loc[got.index, "id"]).all()
    assert f"{CELLS} cells" in launched["stdout"]


@pytest.mark.slow
def test_rerun_in_one_process_of_a_two_process_sweep_samples_nothing(launched, pipe, calls, monkeypatch, capsys):
    import sorakit
    from sorakit.cli import main

    monkeypatch.setattr(sorakit, "load", lambda *a, **k: pipe)
    calls.made.clear()
    argv = ["sweep", *PROMPTS, "--seeds", "0", "1-2", "--guidance", "1", "4", "--steps", "2", "--frames", "8",
            "--out", str(launched["out"]), "--quiet"]
    assert main(argv) == 0
    assert calls.made == [] and f"{CELLS} cells" in capsys.readouterr().out


# --- the engine under evaluation: sorakit.distributed.map_shared ------------------------------------
MAP_SCRIPT = """
import json, os, sys
from sorakit.distributed import map_shared, process_state
state = process_state()
done = map_shared(lambda x: {"x": x, "square": x * x, "process": state.process_index}, range(11))
if state.is_main_process:
    print(json.dumps({"processes": state.num_processes, "done": done}))
"""


def test_map_shared_splits_items_between_processes_and_gathers_them_in_order(tmp_path):
    script = tmp_path / "map.py"
    script.write_text(MAP_SCRIPT)
    result = json.loads(launch(str(script)).stdout.strip().splitlines()[-1])
    assert result["processes"] == 2
    done = result["done"]
    assert [d["x"] for d in done] == list(range(11)) and all(d["square"] == d["x"] ** 2 for d in done)
    assert [d["process"] for d in done] == [0] * 6 + [1] * 5  # contiguous shares, each item once


@pytest.mark.slow
def test_eval_quality_with_two_processes_matches_one(small_model):
    from sorakit.eval.quality import evaluate_quality

    folder, pipe = small_model
    proc = launch("-m", "sorakit", "eval", "quality", "--n", "4", "--batch-size", "2", "--steps", "1",
                  "--model", folder)
    assert "quality (process 1/2)" in proc.stderr  # two processes ran (the split itself: the test above)
    one = json.loads(json.dumps(evaluate_quality(pipe, n=4, batch_size=2, steps=1, progress=False), default=str))
    two = json.loads(proc.stdout)
    # The shares come from the same clips and must match exactly; the direction reliance is a loss ratio
    # whose float sums follow each process's thread count, so it matches to float32 precision: a relative
    # 1e-6 on each loss, which is 1e-6 absolute on their ratio (this small model's reliance is ~0.003).
    assert two.pop("direction_reliance") == pytest.approx(one.pop("direction_reliance"), rel=1e-5, abs=1e-6)
    assert two == one


def _one_thread(call):
    """`call()` with one torch thread, as each launched process has (float sums follow the thread count)."""
    from sorakit.training.process_state import restored_process_state

    with restored_process_state(1, seed=None):
        return json.loads(json.dumps(call(), default=str))


@pytest.mark.slow
def test_eval_attention_with_two_processes_matches_one(pipe):
    from sorakit.eval.attention import localization

    # 3 clips, the sampled one between the teacher-forced: process 0 scores teacher-forced 0 and the sampled
    # clip, process 1 teacher-forced 1; the means over their maps must be one process's to the last digit
    proc = launch("-m", "sorakit", "eval", "attention", "--n", "2", "--generated", "1", "--steps", "2", "--json")
    assert "attention eval (process 1/2)" in proc.stderr
    one = _one_thread(lambda: localization(pipe, n=2, n_generated=1, num_inference_steps=2, progress=False))
    two = json.loads(proc.stdout)
    assert two["teacher_forced"]["t=0.5"]["all layers"]["maps"] == 2 and two["generated"]
    assert two == one


@pytest.mark.slow
def test_eval_hidden_with_two_processes_matches_one(small_model):
    from sorakit.eval.hidden import run

    folder, pipe = small_model
    # 5 noise levels x 1 batch of 8 clips: process 0 records 3 levels, process 1 two; both fit every probe
    proc = launch("-m", "sorakit", "eval", "hidden", "--n", "8", "--json", "--model", folder)
    assert "hidden probes (process 1/2)" in proc.stderr
    one = _one_thread(lambda: run(pipe, n_clips=8, progress=False).to_dict())
    two = json.loads(proc.stdout)
    assert len(two["r2"]) == 7 and two["n_test_clips"] == 2
    # The features match exactly; the ridge fits' float sums follow the BLAS thread count (the launched
    # processes run one thread, this one may not), so their R² match to float precision.
    assert _same_to_float_precision(two, one)


def _same_to_float_precision(a, b) -> bool:
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same_to_float_precision(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(_same_to_float_precision, a, b))
    if isinstance(a, float):
        return b == pytest.approx(a, rel=1e-6, abs=1e-9, nan_ok=True)
    return a == b


# --- bad input: a clear error before anything runs ---------------------------------------------------
@pytest.mark.parametrize("call, message", [
    (lambda p, o: sweep(p, [], out=o), "prompts is empty"),
    (lambda p, o: sweep(p, PROMPTS, seeds=[], out=o), "seeds is empty"),
    (lambda p, o: sweep(p, cells=[], out=o), "no cells"),
    (lambda p, o: sweep(p, out=o), "no cells"),
    (lambda p, o: sweep(p, PROMPTS, out=o, cfg_scale=3), "unknown sweep setting(s) ['cfg_scale']; allowed: guidance"),
    (lambda p, o: sweep(p, cells=[{"prompt": "a ball", "sampler": "x"}], out=o), "unknown cell setting"),
    (lambda p, o: sweep(p, PROMPTS, steps=[2, 0], out=o), "'steps' must be a whole number from 1 to 1000"),
    (lambda p, o: sweep(p, PROMPTS, guidance=99, out=o), "'guidance' must be a number from 0 to 50"),
    (lambda p, o: sweep(p, PROMPTS, seeds=[1, 1], out=o), "are the same cell"),
    (lambda p, o: sweep(p, PROMPTS, seeds=range(2**32), out=o), "at most 1000000 cells"),
    (lambda p, o: sweep(p, PROMPTS, seeds=itertools.count(), out=o), "at most 1000000 cells"),
    (lambda p, o: sweep(p, PROMPTS, height=30, out=o), "height must be a multiple of 4"),
    (lambda p, o: sweep(p, PROMPTS, out=o, table="results.xlsx"), "table must be a file name ending in .csv"),
    (lambda p, o: sweep(p, PROMPTS, out=o, threads=0), "threads must be a positive whole number"),
])
def test_bad_input_is_refused_before_any_cell_runs(pipe, calls, tmp_path, call, message):
    calls.made.clear()
    out = tmp_path / "sweep"
    with pytest.raises(ValueError) as err:
        call(pipe, out)
    assert message in str(err.value)
    assert calls.made == [] and not out.exists()


def test_a_folder_holding_another_sweep_is_refused(pipe, calls, tmp_path):
    out = tmp_path / "sweep"
    _one = dict(seeds=[5], out=out, progress=False, steps=1, frames=4)
    sweep(pipe, PROMPTS[:1], **_one)
    calls.made.clear()
    with pytest.raises(ValueError, match="holds another sweep .* 1 shared with this one, 1 new, 0 missing"):
        sweep(pipe, PROMPTS, **_one)
    with pytest.raises(ValueError, match="holds another sweep"):
        sweep(pipe, PROMPTS[:1], **{**_one, "guidance": 2.0})
    other = tmp_path / "notes"
    other.mkdir()
    (other / "todo.txt").write_text("mine")
    with pytest.raises(ValueError, match="not empty and holds no sweep"):
        sweep(pipe, PROMPTS[:1], **{**_one, "out": other})
    assert calls.made == []
    assert len(sweep(pipe, PROMPTS[:1], **_one)) == 1 and calls.made == []  # the same grid resumes: nothing to do
    # A finished cell whose clip was deleted runs again; its old row (here from another process) goes.
    (row,) = store.row_files(out)
    row.rename(row.with_name(row.name.replace(".p0.", ".p1.")))
    next((out / "clips").glob("*.mp4")).unlink()
    table = sweep(pipe, PROMPTS[:1], **_one)
    assert len(calls.made) == 1 and [p.name.split(".")[1] for p in store.row_files(out)] == ["p0"]
    assert table["process"].tolist() == [0]


def _exit_status(argv) -> int:
    from sorakit.cli import main

    try:
        return main(argv)
    except SystemExit as exit_:  # argparse's own checks exit while parsing
        return exit_.code


@pytest.mark.parametrize("argv, message", [
    (["a ball", "--steps", "0"], "must be a whole number from 1 to 1000"),
    (["a ball", "--seeds", "9-3"], "empty seed range"),
    (["a ball", "--seeds", "0-4294967296"], "at most 1000000 cells"),
    (["a ball", "--seeds", "1", "1"], "are the same cell"),
    ([], "no cells"),
    (["a ball", "--prompts", "missing.txt"], "no prompt file"),
])
def test_cli_bad_input_is_one_line_and_exit_2_before_the_model_loads(monkeypatch, capsys, tmp_path, argv, message):
    import sorakit

    def no_model(*args, **kwargs):
        raise AssertionError("the model was loaded for bad input")

    monkeypatch.setattr(sorakit, "load", no_model)
    assert _exit_status(["sweep", *argv, "--out", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and message in err
    assert not (tmp_path / "s").exists()


def test_eval_suites_that_do_not_split_refuse_several_processes(monkeypatch, capsys):
    import types

    import sorakit
    from sorakit import distributed

    monkeypatch.setattr(distributed, "process_state", lambda: types.SimpleNamespace(num_processes=2))
    monkeypatch.setattr(sorakit, "load", lambda *a, **k: pytest.fail("the model was loaded"))
    assert _exit_status(["eval", "autoencoder", "--vae", "runs/vae", "--n", "4"]) == 2
    assert ("eval autoencoder runs in one process (2 were launched); accelerate launch splits only: "
            "quality, physics, events, attention, hidden") in capsys.readouterr().err
