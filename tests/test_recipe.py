"""One Recipe for every clip: ids, the checks on what a file says, and one reading of a clip
whichever surface (CLI, Studio, demo) exported it."""
from __future__ import annotations

import dataclasses
import json
import math
import subprocess
from types import SimpleNamespace

import imageio_ffmpeg
import numpy as np
import pytest
import torch

from sorakit import cli, media, probes, world
from sorakit.recipe import Recipe, model_identity

PROMPT_SEED = 3


@pytest.fixture(scope="module")
def clip():
    return world.sample(seed=3, scenario="throw")  # 16 frames of 32x32 at 8 fps, like the model's


class ClipPipe:
    """Stands in for a pipeline that 'generates' one world clip, so every surface exports the same
    frames; config, tokenizer and weights are the tiny pipeline's."""

    def __init__(self, base, video):
        self.config, self.tokenizer, self.transformer = base.config, base.tokenizer, base.transformer
        self.video, self.calls, self._progress_bar_config = video, [], {}

    def set_progress_bar_config(self, **kwargs):
        self._progress_bar_config = kwargs

    def __call__(self, prompt, **kwargs):
        self.calls.append({"prompt": prompt, **kwargs})
        return SimpleNamespace(frames=self.video[None])


def _export_like_the_cli(pipe, prompt, tmp_path, monkeypatch):
    import sorakit

    monkeypatch.setitem(vars(sorakit), "load", lambda *a: pipe)
    out = tmp_path / "cli.mp4"
    assert cli.main(["generate", prompt, "--seed", str(PROMPT_SEED), "--out", str(out)]) == 0
    return out


def _export_like_the_studio(pipe, prompt, tmp_path):
    from sorakit import ui
    from sorakit.ui.recipe import run_recipe

    studio = ui.Studio(pipe, prompt, seed=PROMPT_SEED)
    studio.prompt_panel.runner = run_recipe  # no attention capture: the stand-in runs no transformer
    assert studio.generate() is not None, studio.prompt_panel.error
    return studio.export(tmp_path / "studio.mp4")


def _export_like_the_demo(pipe, prompt):
    from sorakit.demo.endpoints import Endpoints

    endpoints = Endpoints(pipe)
    path, seed, _ = endpoints.generate(prompt, seed=PROMPT_SEED, steps=20, guidance=4.0, frames=16,
                                       progress=lambda *a, **k: None)
    assert seed == PROMPT_SEED
    return path, endpoints.outputs


def _probe_like_the_cli(path, capsys) -> dict:
    capsys.readouterr()
    assert cli.main(["probe", str(path), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _assert_close(got, want, where="report"):
    """Same structure and verdicts; numbers within H.264's loss (the texts quote numbers, so they may differ)."""
    if isinstance(want, dict):
        assert isinstance(got, dict) and set(got) == set(want), where
        for key in want:
            _assert_close(got[key], want[key], f"{where}.{key}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), where
        for i, (g, w) in enumerate(zip(got, want)):
            _assert_close(g, w, f"{where}[{i}]")
    elif isinstance(want, bool) or want is None:
        assert got == want, where
    elif isinstance(want, (int, float)):
        # A ratio to the parse floor magnifies H.264's loss 40x (0.7 vs 0.65 is 0.0016 units/s): allow
        # a tenth of the floor there.
        abs_tol = 0.1 if where.endswith("floor_ratio") else 0.01
        assert math.isclose(got, want, rel_tol=0.05, abs_tol=abs_tol), f"{where}: {got} vs {want}"


def test_one_clip_reads_back_the_same_from_every_surface(tiny_pipe, clip, tmp_path, monkeypatch, capsys):
    # The marks change the file's pixels by design (the visible one moves, so optical flow sees it; the
    # invisible one shifts chroma by a few levels): test_provenance.py checks them. Here every surface
    # exports without them, so the numbers compare the clips themselves, within H.264's loss.
    monkeypatch.setattr("sorakit.provenance.visible.draw_visible_mark", lambda frames: frames)
    monkeypatch.setattr("sorakit.provenance.invisible.available", lambda: False)
    pipe = ClipPipe(tiny_pipe, clip.video)
    cli_path = _export_like_the_cli(pipe, clip.caption, tmp_path, monkeypatch)
    studio_path = _export_like_the_studio(pipe, clip.caption, tmp_path)
    demo_path, demo_outputs = _export_like_the_demo(pipe, clip.caption)
    try:
        recipes = [media.read_metadata(p) for p in (cli_path, studio_path, demo_path)]
        assert len({r.id for r in recipes}) == 1  # same settings, model and frames: one clip
        assert (recipes[0].height, recipes[0].width, recipes[0].fps, recipes[0].seed) == (32, 32, 8.0, PROMPT_SEED)
        reports = [_probe_like_the_cli(p, capsys) for p in (cli_path, studio_path, demo_path)]
    finally:
        demo_outputs.cleanup()
    assert reports[0] == reports[1] == reports[2]
    direct = json.loads(json.dumps(probes.run(clip.video, prompt=clip.caption, fps=8).to_dict(), default=str))
    assert reports[0]["frames"] == 16 and reports[0]["verdicts"] == direct["verdicts"]
    _assert_close(reports[0], direct)


def test_id_ignores_creation_time_and_follows_every_video_byte(clip):
    made = Recipe("a ball", seed=1, fps=8, created="2020-01-01T00:00:00+00:00").with_video(clip.video)
    later = dataclasses.replace(made, created="2030-06-01T12:00:00+00:00")
    assert later.id == made.id and later == made
    frames = media.to_uint8(clip.video).copy()
    frames[7, 20, 11, 2] ^= 1
    assert made.with_video(frames).id != made.id
    assert dataclasses.replace(made, seed=2).id != made.id
    assert Recipe.from_dict(json.loads(json.dumps(made.to_dict()))).id == made.id


def test_from_call_takes_the_model_and_sizes_from_the_pipeline(tiny_pipe):
    from sorakit.loading import model_hash

    recipe = Recipe.from_call(tiny_pipe, "a red ball", seed=4, steps=2)
    assert (recipe.model, recipe.model_hash) == ("sorakit-shipped", model_hash(tiny_pipe))
    assert (recipe.frames, recipe.height, recipe.width, recipe.fps) == (16, 32, 32, 8.0)
    kwargs = recipe.pipeline_kwargs()
    assert kwargs["num_inference_steps"] == 2 and kwargs["generator"].initial_seed() == 4
    assert "negative_prompt" not in kwargs  # unset settings leave the pipeline's defaults


def test_model_hash_follows_weights_changed_in_place(tiny_pipe):
    before = model_identity(tiny_pipe)[1]
    weight = next(tiny_pipe.transformer.parameters())
    with torch.no_grad():
        weight.mul_(-1)  # what an optimizer step does: an in-place write
        try:
            assert model_identity(tiny_pipe)[1] != before
        finally:
            weight.mul_(-1)  # exactly undone
    assert model_identity(tiny_pipe)[1] == before


@pytest.fixture(scope="module")
def plain_mp4(clip, tmp_path_factory):
    """A clip whose only recipe is the one each test embeds in its comment tag."""
    path = tmp_path_factory.mktemp("plain") / "clip.mp4"
    media.export(clip.video, path, recipe=Recipe(clip.caption, seed=0))
    path.with_name("clip.mp4.json").unlink()
    return path


def _with_comment(source, target, data) -> str:
    """Copy `source` with `data` as its comment tag, as anyone can write it into a file."""
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(source), "-c", "copy",
                    "-metadata", f"comment={json.dumps(data)}", "-y", str(target)], check=True)
    return target


@pytest.mark.parametrize("field, value", [
    ("height", 30000), ("height", 0), ("height", -32), ("height", "32"), ("width", 32.5), ("width", True),
    ("fps", 1e-9), ("fps", "8"), ("fps", float("nan")), ("frames", 10**9), ("seed", -1), ("seed", 2**40),
    ("prompt", "x" * 5000), ("prompt", 123), ("parents", "abc"), ("parents", [1]), ("created", "yesterday"),
    ("model_hash", "../../etc"), ("note", {"nested": 1}), ("id", "0000000000000000"),
])
def test_bad_recipe_fields_in_a_file_are_named(plain_mp4, tmp_path, capsys, field, value):
    data = {**media.read_metadata(plain_mp4).to_dict(), field: value}
    bad = _with_comment(plain_mp4, tmp_path / "bad.mp4", data)
    with pytest.raises(ValueError, match=f"field '{field}'"):
        media.read_metadata(bad)
    assert cli.main(["probe", str(bad)]) == 2  # one line naming the field, no traceback
    assert f"field '{field}'" in capsys.readouterr().err


def test_a_recipe_must_be_an_object_and_its_sidecar_is_checked_too(plain_mp4, tmp_path):
    with pytest.raises(ValueError, match="JSON object"):
        media.read_metadata(_with_comment(plain_mp4, tmp_path / "list.mp4", [1, 2]))
    stripped = tmp_path / "stripped.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(plain_mp4), "-c", "copy",
                    "-map_metadata", "-1", "-y", str(stripped)], check=True)
    stripped.with_name("stripped.mp4.json").write_text(json.dumps({"height": 30000}))
    with pytest.raises(ValueError, match="sidecar.*field 'height'"):
        media.read_metadata(stripped)


def test_settings_outside_the_limits_are_refused_when_made():
    with pytest.raises(ValueError, match="field 'seed'.*0 to 4294967295"):
        Recipe("a ball", seed=2**63)
    with pytest.raises(ValueError, match="field 'prompt'.*1000"):
        Recipe("x" * 1001)
    with pytest.raises(ValueError, match="field 'height' is 32 but the video has 16"):
        Recipe("a ball", height=32).with_video(np.zeros((4, 16, 16, 3), np.uint8))
