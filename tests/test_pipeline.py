"""SpacetimePipeline behaviour on a tiny untrained model: API, determinism, conditioning, errors."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import sorakit
from sorakit.pipeline import SpacetimePipeline, SpacetimePipelineOutput
from sorakit.recipe import model_identity


def run(pipe, prompt="a red ball is dropped", seed=0, **kw):
    kw.setdefault("num_inference_steps", 3)
    return pipe(prompt, generator=torch.Generator().manual_seed(seed), **kw)


def test_output_shape_range_and_dataclass(tiny_pipe):
    out = run(tiny_pipe)
    assert isinstance(out, SpacetimePipelineOutput)
    video = out.frames[0]
    assert video.shape == (16, 32, 32, 3) and video.dtype == np.float32
    assert 0 <= video.min() and video.max() <= 1 and video.std() > 0.01


def test_same_seed_bit_identical_other_seed_differs(tiny_pipe):
    a, b, c = (run(tiny_pipe, seed=s).frames for s in (1, 1, 2))
    assert np.array_equal(a, b)
    assert not np.allclose(a, c)


def test_batched_prompts_and_videos_per_prompt(tiny_pipe):
    out = run(tiny_pipe, ["a red ball", "a blue ball rolls to the left"], num_videos_per_prompt=2)
    assert out.frames.shape == (4, 16, 32, 32, 3)
    assert not np.allclose(out.frames[0], out.frames[1])  # each video draws its own noise


def test_guidance_changes_output_and_negative_prompt_is_used(tiny_pipe):
    plain = run(tiny_pipe, guidance_scale=1.0).frames
    guided = run(tiny_pipe, guidance_scale=4.0).frames
    negative = run(tiny_pipe, guidance_scale=4.0, negative_prompt="a green ball").frames
    assert not np.allclose(plain, guided) and not np.allclose(guided, negative)


def test_leading_frames_are_kept_exactly(tiny_pipe):
    given = np.random.default_rng(0).random((3, 32, 32, 3), dtype=np.float32)
    video = run(tiny_pipe, frames=given).frames[0]
    np.testing.assert_allclose(video[:3], given, atol=1e-6)
    single = run(tiny_pipe, frames=given[0]).frames[0]  # one (H, W, 3) image is image-to-video
    np.testing.assert_allclose(single[0], given[0], atol=1e-6)


def test_other_sizes_and_output_types(tiny_pipe):
    out = run(tiny_pipe, num_frames=8, height=16, width=24, output_type="pt")
    assert tuple(out.frames.shape) == (1, 8, 3, 16, 24)
    pil = run(tiny_pipe, num_frames=4, output_type="pil").frames[0]
    assert len(pil) == 4 and pil[0].size == (32, 32)
    latent = run(tiny_pipe, num_frames=4, output_type="latent").frames
    assert tuple(latent.shape) == (1, 3, 4, 32, 32)


def test_callback_on_step_end_sees_every_step_and_can_edit_latents(tiny_pipe):
    seen = []

    def callback(pipe, i, t, kwargs):
        seen.append((i, float(t)))
        return {"latents": torch.zeros_like(kwargs["latents"])} if i == 2 else kwargs

    video = run(tiny_pipe, num_inference_steps=3, callback_on_step_end=callback).frames[0]
    assert [i for i, _ in seen] == [0, 1, 2]
    assert seen[0][1] > seen[-1][1]  # timesteps go from noise to data
    np.testing.assert_allclose(video, 0.5, atol=1e-6)  # zero latents in [-1, 1] are mid-grey


def test_progress_bar_counts_steps(tiny_pipe, capsys):
    tiny_pipe.set_progress_bar_config(disable=False)
    try:
        run(tiny_pipe, num_inference_steps=3)
    finally:
        tiny_pipe.set_progress_bar_config(disable=True)
    assert "3/3" in capsys.readouterr().err


@pytest.mark.parametrize("kwargs, message", [
    (dict(prompt=""), "must not be empty"),
    (dict(prompt="   "), "must not be empty"),
    (dict(prompt=["ok", 3]), "list of strings"),
    (dict(height=30), "multiple of 4"),
    (dict(width=2), "multiple of 4"),
    (dict(num_frames=0), "num_frames"),
    (dict(num_frames=128, height=512, width=512), "video tokens"),
    (dict(num_inference_steps=0), "num_inference_steps"),
    (dict(guidance_scale=float("nan")), "guidance_scale"),
    (dict(num_videos_per_prompt=0), "num_videos_per_prompt"),
    (dict(output_type="gif"), "output_type"),
    (dict(frames=np.zeros((2, 16, 16, 3))), "frames must have shape"),
    (dict(frames=np.full((2, 32, 32, 3), 2.0)), "in \\[0, 1\\]"),
    (dict(frames=np.zeros((16, 32, 32, 3))), "between 1 and 15"),
    (dict(negative_prompt=["a", "b", "c"]), "negative_prompt"),
])
def test_bad_inputs_raise_clear_value_errors(tiny_pipe, kwargs, message):
    kwargs = {"prompt": "a red ball", "num_inference_steps": 1, **kwargs}
    with pytest.raises(ValueError, match=message):
        tiny_pipe(**kwargs)


def test_save_pretrained_round_trip(tiny_pipe, tmp_path):
    tiny_pipe.save_pretrained(tmp_path / "pipe")
    loaded = SpacetimePipeline.from_pretrained(tmp_path / "pipe")
    loaded.set_progress_bar_config(disable=True)
    assert np.array_equal(run(tiny_pipe).frames, run(loaded).frames)
    again = sorakit.load(tmp_path / "pipe")  # sorakit.load(path) takes any saved pipeline
    again.set_progress_bar_config(disable=True)
    assert np.array_equal(run(tiny_pipe).frames, run(again).frames)


def test_training_export_folder_loads(tiny_pipe, tmp_path):
    from sorakit.training.loop import export_weights

    export_weights(tiny_pipe, tmp_path / "export")
    assert json.loads((tmp_path / "export" / "sorakit.json").read_text())["pipeline"]["fps"] == 8.0
    loaded = sorakit.load(tmp_path / "export")
    loaded.set_progress_bar_config(disable=True)
    assert np.array_equal(run(tiny_pipe).frames, run(loaded).frames)
    # A clip made with it names that folder (as one from a save_pretrained folder does), not the shipped model.
    assert model_identity(loaded)[0] == str(tmp_path / "export")
    shared = sorakit.load(tmp_path / "export", transformer=loaded.transformer)
    assert model_identity(shared)[0] == str(tmp_path / "export")


def test_load_rejects_missing_or_foreign_folders(tmp_path):
    with pytest.raises(ValueError, match="no model directory"):
        sorakit.load(tmp_path / "nope")
    with pytest.raises(ValueError, match="neither model_index.json"):
        sorakit.load(tmp_path)


@pytest.mark.model
def test_shipped_model_loads_offline(monkeypatch):
    from sorakit.loading import WEIGHTS_DIR

    if not (WEIGHTS_DIR / "transformer" / "config.json").exists():
        pytest.fail("the shipped weights are missing from sorakit/weights/")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    pipe = sorakit.load()
    assert pipe.transformer.config.patch_size == [1, 4, 4] or tuple(pipe.transformer.config.patch_size) == (1, 4, 4)
    assert pipe.config.num_frames == 16 and pipe.config.fps == 8.0


def test_unipc_sampler_solves_the_same_flow(tiny_pipe):
    """UniPC on flow sigmas converges on the clip a fine Euler solve reaches from the same noise (a wrong
    sigma, sign or prediction convention would converge somewhere else, or not at all). 4 frames: the
    solvers see the same flow at a quarter of the cost (the errors measured 16 frames' to within 5 %)."""
    from sorakit.loading import make_scheduler

    saved = tiny_pipe.scheduler
    try:
        reference = run(tiny_pipe, num_inference_steps=96, num_frames=4).frames
        tiny_pipe.scheduler = make_scheduler("unipc")
        errors = [np.abs(run(tiny_pipe, num_inference_steps=n, num_frames=4).frames - reference).mean()
                  for n in (4, 16, 48)]
    finally:
        tiny_pipe.scheduler = saved
    assert errors[0] > 1.5 * errors[1] > 2.25 * errors[2] and errors[2] < 0.03, errors
    with pytest.raises(ValueError, match="sampler must be one of"):
        make_scheduler("ddim")
