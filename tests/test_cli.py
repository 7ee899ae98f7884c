"""cli: help works, bad input errors with one clear line and exit code 2 (no traceback)."""

import subprocess
import sys

import pytest

from sorakit import cli


def test_help_lists_every_subcommand():
    proc = subprocess.run([sys.executable, "-m", "sorakit.cli", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    for command in ("generate", "probe", "train", "world", "eval", "demo"):
        assert command in proc.stdout


def test_bad_subcommand_exits_2_without_traceback():
    proc = subprocess.run([sys.executable, "-m", "sorakit.cli", "bogus"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "invalid choice" in proc.stderr and "Traceback" not in proc.stderr


def test_missing_clip_is_one_line_error(capsys, tmp_path):
    assert cli.main(["probe", str(tmp_path / "missing.mp4")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("sorakit: error:") and err.count("\n") == 1


def test_bad_auth_is_rejected_by_the_parser():
    with pytest.raises(SystemExit) as exc:
        cli.main(["demo", "--auth", "no-colon"])
    assert exc.value.code == 2


def test_generate_passes_recipe_to_pipeline_and_export(monkeypatch, tmp_path):
    """generate wires seed/steps/guidance into the pipeline and the recipe into the file."""
    import numpy as np

    import sorakit
    from sorakit import media

    calls = {}

    class FakePipe:
        model_hash = "fake0001"

        def __call__(self, prompt, generator, num_inference_steps, guidance_scale, output_type):
            calls.update(prompt=prompt, steps=num_inference_steps, guidance=guidance_scale, output_type=output_type)
            frames = np.zeros((1, 4, 16, 16, 3), np.float32)
            return type("Out", (), {"frames": frames})()

    # setitem, not setattr: reading the old value would import the real (heavy) pipeline.
    monkeypatch.setitem(vars(sorakit), "load", lambda *a: FakePipe())
    out = tmp_path / "clip.mp4"
    args = ["generate", "a red ball", "--seed", "3", "--steps", "5", "--guidance", "2.5", "--out", str(out)]
    assert cli.main(args) == 0
    assert calls == {"prompt": "a red ball", "steps": 5, "guidance": 2.5, "output_type": "np"}
    recipe = media.read_metadata(out)
    assert recipe.prompt == "a red ball" and recipe.seed == 3 and recipe.model_hash == "fake0001"
    assert (recipe.frames, recipe.height, recipe.width, recipe.fps) == (4, 16, 16, 8.0)


@pytest.mark.parametrize("argv, field", [(["--seed", "-1"], "seed"), (["--steps", "0"], "steps"),
                                         (["--fps", "1e-9"], "fps"), (["--guidance", "nan"], "guidance")])
def test_generate_refuses_out_of_range_settings_before_loading(monkeypatch, capsys, argv, field):
    import sorakit

    monkeypatch.setitem(vars(sorakit), "load", lambda *a: pytest.fail("the model was loaded"))
    assert cli.main(["generate", "a ball", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("sorakit: error:") and repr(field) in err
