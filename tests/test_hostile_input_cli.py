"""Fuzzing `sorakit`'s command lines: each either reaches its work with valid settings or exits 2 in one line.

The work itself is replaced by a stub that records what it was given (no model loads, no clip is
sampled, no server starts), so every case is cheap; `probe` runs for real on a few small files.
"""
from __future__ import annotations

import io
import sys
import types
from contextlib import redirect_stderr, redirect_stdout

import numpy as np
import pytest
from hostile import fast, judge, report_outcomes, slow
from hypothesis import given
from hypothesis import strategies as st

from sorakit import cli
from sorakit.limits import LIMITS


class Reached(Exception):
    """The command got past its checks to the work itself."""


@pytest.fixture(scope="module", autouse=True)
def outcome_report():
    yield
    print("\nhostile-input outcomes:", report_outcomes())


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    from sorakit import export, world

    folder = tmp_path_factory.mktemp("cli-fuzz")
    (folder / "zero.mp4").write_bytes(b"")
    (folder / "text.mp4").write_text("not a video")
    export(world.sample(1, num_frames=4, height=16, width=16).video, folder / "clip.mp4", fps=8)
    (folder / "file.txt").write_text("a file")
    return folder


VALUES = ["0", "1", "2", "-1", "16", "64", "65", "70000", "1e-9", "1e3", "inf", "nan", "-inf", "1e400", "3.5",
          "0x10", " 5 ", "", "٣", "\udcff", "a", "--", "-5", "2147483648", "18446744073709551616", "8.0", "120"]
FLAGS = {
    "generate": ["--seed", "--steps", "--guidance", "--fps", "--out", "--model", "--bogus"],
    "probe": ["--prompt", "--json", "--fps"],
    "world": ["--preview", "--n", "--seed"],
    "demo": ["--host", "--port", "--share", "--auth"],
    "eval quality": ["--n", "--steps", "--guidance", "--model", "--json"],
    "eval autoencoder": ["--vae", "--n", "--height", "--width", "--frames"],
    "train": ["--steps", "--batch-size", "--checkpoint-every", "--warmup", "--lr", "--fps", "--num-frames",
              "--height", "--layers", "--heads", "--threads", "--ema-decay", "--device"],
    "train autoencoder": ["--steps", "--clips-per-step", "--checkpoint-every", "--height", "--fps"],
}
OUTS = ["{d}/out.mp4", "{d}/out.gif", "{d}/out.avi", "{d}/file.txt/out.mp4", "{d}", "{d}/new/dir/out.gif"]
CLIPS = ["{d}/zero.mp4", "{d}/text.mp4", "{d}/clip.mp4", "{d}/missing.mp4", "{d}"]


@st.composite
def command_lines(draw):
    command = draw(st.sampled_from([*FLAGS, "bogus"]))
    argv = command.split()
    if command == "generate":
        argv.append(draw(st.sampled_from(["a red ball", "", "\udcff", "x" * 1001, "--seed"])))
    if command == "probe":
        argv.append(draw(st.sampled_from(CLIPS)))
    if command == "world" and draw(st.booleans()):
        argv += ["--preview", draw(st.sampled_from(OUTS))]
    for flag in draw(st.lists(st.sampled_from(FLAGS.get(command, ["--x"])), max_size=3)):
        value = draw(st.sampled_from(OUTS if flag in ("--out", "--preview") else VALUES))
        argv += [flag] if flag in ("--json", "--share") else [flag, value]
    return argv


def _stubs(mp, seen):
    """Replace every command's work by a stub that records its settings and raises Reached."""
    import sorakit
    from sorakit import world
    from sorakit.training import cli as train_cli

    def reach(name):
        def stub(*args, **kwargs):
            seen.update(work=name, args=args, kwargs=kwargs)
            raise Reached(name)
        return stub

    mp.setitem(vars(sorakit), "load", reach("load"))
    mp.setattr(world, "preview", reach("preview"))
    mp.setattr(train_cli, "train", reach("train"))
    mp.setattr(cli, "_eval_pipe", reach("eval"))
    mp.setitem(sys.modules, "sorakit.demo", types.SimpleNamespace(launch=reach("demo")))
    mp.setattr("sorakit.training.autoencoder.train_autoencoder", reach("train autoencoder"))


def _work_got_valid_settings(seen):
    """What reached the work is within the limits the command promises."""
    kw = seen.get("kwargs", {})
    if seen.get("work") == "preview":
        assert LIMITS.preview_clips[0] <= kw["n"] <= LIMITS.preview_clips[1] and kw["seed"] >= 0
    if seen.get("work") == "demo":
        assert kw["port"] is None or 1 <= kw["port"] <= 65535
    if seen.get("work") == "train":
        cfg = seen["args"][0]
        assert cfg.steps >= 1 and cfg.checkpoint_every >= 1 and cfg.warmup >= 1 and np.isfinite(cfg.lr)
        assert LIMITS.fps[0] <= cfg.fps <= LIMITS.fps[1] and 1 <= cfg.transformer["num_layers"] <= 64


def _run(argv) -> tuple[object, str, dict]:
    seen: dict = {}
    err, out = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp, redirect_stderr(err), redirect_stdout(out):
        _stubs(mp, seen)
        try:
            code = cli.main(argv)
        except SystemExit as exc:  # argparse exits from inside
            code = exc.code
        except Reached:
            code = "reached"
    return code, err.getvalue(), seen


def _cli_case(files, argv):
    argv = [a.replace("{d}", str(files)) for a in argv]

    def call():
        code, err, seen = _run(argv)
        if code == 2:  # a refusal: one line, no traceback
            assert err.count("\n") == 1 and "error:" in err and "Traceback" not in err, err
            raise ValueError(err)
        return code, err, seen

    def check(result):
        code, err, seen = result
        assert code in (0, "reached"), (argv, code, err)
        _work_got_valid_settings(seen)

    judge("cli", call, check, seconds=120)


@fast
@given(command_lines())
def test_command_lines(files, argv):
    _cli_case(files, argv)


@pytest.mark.slow
@slow
@given(command_lines())
def test_command_lines_many(files, argv):
    _cli_case(files, argv)
