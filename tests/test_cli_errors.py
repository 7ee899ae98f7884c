"""Every `sorakit` error is one line on stderr with exit status 2, found before any model loads."""
from __future__ import annotations

import subprocess
import sys

import pytest

from sorakit import cli


def _run(capsys, argv) -> tuple[int, str]:
    try:
        code = cli.main(argv)
    except SystemExit as exc:  # argparse's errors exit from inside
        code = exc.code
    return code, capsys.readouterr().err


def _one_line(err: str) -> bool:
    return err.count("\n") == 1 and "error:" in err and "Traceback" not in err


@pytest.fixture
def no_model(monkeypatch):
    import sorakit

    monkeypatch.setitem(vars(sorakit), "load", lambda *a, **k: pytest.fail("the model was loaded"))


def _ffmpeg(*args):
    import imageio_ffmpeg

    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", *map(str, args)], check=True)


@pytest.fixture(scope="module")
def bad_clips(tmp_path_factory):
    from PIL import Image

    tmp_path = tmp_path_factory.mktemp("bad-clips")
    (tmp_path / "zero.mp4").write_bytes(b"")
    (tmp_path / "text.mp4").write_text("not a video\n")
    _ffmpeg("-f", "lavfi", "-i", "sine=duration=0.2", "-c:a", "aac", tmp_path / "audio.mp4")
    Image.new("P", (9000, 9000)).save(tmp_path / "bomb.gif")
    return tmp_path


@pytest.mark.parametrize("name, message", [("zero.mp4", "empty"), ("text.mp4", "not a video"),
                                           ("audio.mp4", "no video stream"), ("bomb.gif", "px a side")])
def test_probe_of_a_file_that_is_not_a_clip_is_one_line(capsys, bad_clips, name, message):
    code, err = _run(capsys, ["probe", str(bad_clips / name)])
    assert code == 2 and _one_line(err) and message in err, err


@pytest.mark.slow
def test_a_real_process_prints_no_traceback(bad_clips):
    proc = subprocess.run([sys.executable, "-m", "sorakit.cli", "probe", str(bad_clips / "text.mp4")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and _one_line(proc.stderr), proc.stderr


@pytest.mark.parametrize("argv, message", [
    (["--out", "{tmp}/file.txt/clip.mp4"], "not a writable folder"),
    (["--out", "{tmp}/clip.avi"], "must end in .mp4 or .gif"),
    (["--out", "{tmp}/folder.mp4"], "is a folder"),
    (["--fps", "inf"], "'fps'"), (["--fps", "0"], "'fps'"), (["--steps", "1e3"], "invalid int"),
], ids=["unwritable", "suffix", "folder", "fps-inf", "fps-0", "steps-text"])
def test_generate_checks_its_output_and_settings_before_loading(capsys, tmp_path, no_model, argv, message):
    (tmp_path / "file.txt").write_text("a file, not a folder")
    (tmp_path / "folder.mp4").mkdir()
    argv = [a.format(tmp=tmp_path) for a in argv]
    code, err = _run(capsys, ["generate", "a red ball", *argv])
    assert code == 2 and _one_line(err) and message in err, err


@pytest.mark.parametrize("argv, message", [
    (["demo", "--port", "70000"], "--port: must be a whole number from 1 to 65535"),
    (["demo", "--port", "http"], "--port"),
    (["world", "--preview", "w.gif", "--n", "1000000"], "--n: must be a whole number from 1 to 64"),
    (["world", "--preview", "w.mp4"], "must end in .gif"),
    (["world", "--preview", "w.gif", "--seed", "-1"], "--seed"),
    (["eval", "quality", "--n", "0"], "--n"), (["eval", "quality", "--guidance", "inf"], "--guidance"),
    (["eval", "autoencoder", "--vae", "x", "--height", "30000"], "--height"),
    (["train", "--checkpoint-every", "0"], "--checkpoint-every must be from 1"),
    (["train", "--warmup", "0"], "--warmup"), (["train", "--fps", "1e-9"], "--fps"),
    (["train", "--lr", "nan"], "--lr"), (["train", "--layers", "100000"], "--layers"),
    (["train", "--height", "30000"], "--height"),
    (["train", "--patch", "3"], "--patch must be from 1 to 16 and divide the frame's side in pixels (32x32)"),
    (["train", "--patch", "0"], "--patch"),
    (["train", "autoencoder", "--checkpoint-every", "0"], "--checkpoint-every"),
    (["bogus"], "invalid choice"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_bad_arguments_fail_while_parsing_in_one_line(capsys, tmp_path, monkeypatch, no_model, argv, message):
    monkeypatch.chdir(tmp_path)
    code, err = _run(capsys, argv)
    assert code == 2 and _one_line(err) and message in err, err
    assert not any(tmp_path.iterdir())  # nothing was written, no run folder was made


@pytest.mark.parametrize("field, value", [
    ("fps", 1e-9), ("fps", 0), ("fps", "8"), ("height", 30000), ("width", 30000), ("height", 0), ("width", -32),
    ("height", "32"), ("frames", 10**9),
])
@pytest.mark.parametrize("where", ["sidecar", "comment"])
def test_probe_refuses_a_recipe_field_read_from_the_file(capsys, tmp_path, field, value, where):
    import json

    recipe = {"prompt": "a red ball", "frames": 4, "height": 32, "width": 32, "fps": 8.0, field: value}
    path = tmp_path / "clip.mp4"
    comment = ["-metadata", f"comment={json.dumps(recipe)}"] if where == "comment" else []
    _ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x64:rate=8", "-frames:v", 4, *comment, "-c:v", "libx264",
            "-pix_fmt", "yuv420p", path)
    if where == "sidecar":
        (tmp_path / "clip.mp4.json").write_text(json.dumps(recipe))
    code, err = _run(capsys, ["probe", str(path)])
    assert code == 2 and _one_line(err) and f"recipe field {field!r}" in err, err
