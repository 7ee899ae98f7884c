"""remix (SDEdit through the pipeline's video-to-video path), extend, and their lineage in the recipe."""
from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
from diffusers.utils.torch_utils import randn_tensor

from sorakit.media import export, read_metadata
from sorakit.recipe import Recipe
from sorakit.remix import extend, remix

STEPS = 4
PROMPT = "a blue ball bounces"


@pytest.fixture(scope="module")
def source(tiny_pipe) -> np.ndarray:
    """A clip of the pipeline's size that the model did not make: smooth random colours."""
    c = tiny_pipe.config
    rng = np.random.default_rng(0)
    return rng.uniform(0, 1, (c.num_frames, c.height, c.width, 3)).astype(np.float32)


def _recording(monkeypatch, pipe, predict=None) -> list:
    """Replace pipe.predict_x0 (by `predict`, or the model itself) and record (latents, t) of each call."""
    calls, model = [], pipe.predict_x0

    def wrapper(latents, known, mask, t, *args, **kwargs):
        calls.append((latents.clone(), float(t)))
        return (predict or model)(latents, known, mask, t, *args, **kwargs)

    monkeypatch.setattr(pipe, "predict_x0", wrapper)
    return calls


def test_strength_zero_returns_the_input_exactly(tiny_pipe, source, monkeypatch):
    calls = _recording(monkeypatch, tiny_pipe)
    out = remix(tiny_pipe, source, PROMPT, strength=0, num_inference_steps=STEPS)
    assert np.array_equal(out.video, source) and out.video is not source
    # The pipeline's own path at strength 0 runs no step and gives the clip back (to float round-off).
    piped = tiny_pipe(PROMPT, video=source, strength=0, num_inference_steps=STEPS).frames[0]
    assert calls == [] and np.abs(piped - source).max() < 1e-5


def test_strength_one_equals_a_fresh_sample_from_the_same_seed(tiny_pipe, source):
    fresh = tiny_pipe(PROMPT, num_inference_steps=STEPS, generator=torch.Generator().manual_seed(5)).frames[0]
    out = remix(tiny_pipe, source, PROMPT, strength=1.0, seed=5, num_inference_steps=STEPS)
    assert np.array_equal(out.video, fresh)
    assert np.abs(out.video - source).mean() > 0.1  # and it is not the source


@pytest.mark.parametrize("strength", [0.25, 0.5, 0.75])
def test_the_source_is_noised_to_the_level_strength_sets(tiny_pipe, source, monkeypatch, strength):
    calls = _recording(monkeypatch, tiny_pipe)
    remix(tiny_pipe, source, PROMPT, strength=strength, seed=3, num_inference_steps=8)
    assert len(calls) == int(8 * strength)  # only the last `strength` fraction of the schedule runs
    begin = 8 - len(calls)
    sigma = float(tiny_pipe.scheduler.sigmas[begin])
    assert calls[0][1] == pytest.approx(sigma * 1000, rel=1e-5)
    x0 = torch.from_numpy(np.moveaxis(source, -1, 0))[None] * 2 - 1
    noise = randn_tensor(x0.shape, generator=torch.Generator().manual_seed(3), dtype=torch.float32)
    torch.testing.assert_close(calls[0][0], (1 - sigma) * x0 + sigma * noise, atol=1e-5, rtol=1e-5)


def test_the_output_departs_further_from_the_source_as_strength_rises(tiny_pipe, source, monkeypatch):
    """With a denoiser that knows its data (the exact posterior mean for clips ~ N(target, tau^2)), SDEdit keeps
    the source at low strength and reaches the target's distribution at 1; the untrained tiny model's x0 barely
    depends on its input, so the mechanism is measured with this one (the sampling loop is the pipeline's)."""
    target = torch.from_numpy(np.moveaxis(source[:, ::-1, ::-1].copy(), -1, 0))[None] * 2 - 1
    tau = 0.5

    def posterior_mean(latents, known, mask, t, *args, **kwargs):
        sigma = float(t) / 1000
        gain = (1 - sigma) * tau**2 / ((1 - sigma) ** 2 * tau**2 + sigma**2)
        return target + gain * (latents - (1 - sigma) * target)

    _recording(monkeypatch, tiny_pipe, posterior_mean)
    strengths = [0.0, 0.25, 0.5, 0.75, 1.0]
    departure = [np.mean([np.abs(remix(tiny_pipe, source, PROMPT, strength=s, seed=seed, num_inference_steps=8)
                                 .video - source).mean() for seed in range(3)]) for s in strengths]
    assert departure[0] == 0
    assert all(b > a for a, b in zip(departure, departure[1:])), departure
    assert departure[-1] > 1.5 * departure[1], departure  # (the shifted schedule noises a lot even at 0.25)


def test_extend_returns_the_length_asked_for_and_keeps_the_clip(tiny_pipe, source, monkeypatch):
    calls = _recording(monkeypatch, tiny_pipe)
    out = extend(tiny_pipe, source, PROMPT, frames=30, context=4, seed=1, num_inference_steps=2)
    assert out.video.shape == (30, *source.shape[1:])
    assert np.array_equal(out.video[:16], source)
    assert len(calls) == 2 * 2  # two windows of 12 new frames each cover 14 frames
    again = extend(tiny_pipe, source, PROMPT, frames=30, context=4, seed=1, num_inference_steps=2)
    assert np.array_equal(again.video, out.video)
    assert out.recipe.frames == 30 and out.recipe.derivation == "extension"


def test_lineage_survives_export_and_reading_back(tiny_pipe, source, tmp_path):
    parent = Recipe.from_call(tiny_pipe, "a red ball bounces", video=source)
    out = remix(tiny_pipe, source, PROMPT, strength=0.5, parent=parent, num_inference_steps=STEPS)
    assert out.recipe.parents == (parent.id,)
    assert out.recipe.lineage == f"remix of {parent.id} at strength 0.5"
    read = read_metadata(export(out.video, tmp_path / "remix.mp4", recipe=out.recipe))
    assert read.id == out.recipe.id and read.lineage == out.recipe.lineage and read.strength == 0.5
    # A remix of the exported file names that file's recipe as its parent.
    again = remix(tiny_pipe, tmp_path / "remix.mp4", PROMPT, strength=0.0)
    assert again.recipe.lineage == f"remix of {read.id} at strength 0"
    longer = extend(tiny_pipe, source, PROMPT, frames=20, num_inference_steps=1)
    read = read_metadata(export(longer.video, tmp_path / "longer.gif", recipe=longer.recipe))
    assert read.id == longer.recipe.id and read.lineage.startswith("extension of ")


def test_a_clip_without_a_recipe_is_named_by_the_id_export_gives_it(tiny_pipe, source, tmp_path):
    bare = read_metadata(export(source, tmp_path / "bare.mp4"))
    assert remix(tiny_pipe, source, PROMPT, strength=0).recipe.parents == (bare.id,)


def test_recipes_without_parents_keep_their_ids():
    # Computed by the recipe code before `derivation` and `strength` existed.
    assert Recipe("a red ball bounces", seed=3, frames=16, height=32, width=32, fps=8.0,
                  model_hash="abc").id == "0f9d2980dc1188fe"


@pytest.mark.parametrize("fields, match", [
    (dict(derivation="copy", parents=["abc"]), "'remix', 'extension'"),
    (dict(derivation="remix", parents=["abc"]), "strength"),
    (dict(derivation="remix", parents=["abc"], strength=1.5), "from 0 to 1"),
    (dict(derivation="extension", parents=[]), "exactly one clip id"),
    (dict(strength=0.5), "unset otherwise"),
])
def test_lineage_fields_are_checked_when_read(fields, match):
    with pytest.raises(ValueError, match=match):
        Recipe.from_dict({"prompt": "a ball", **fields})


def test_a_clip_of_another_size_is_resized_with_a_message(tiny_pipe, source, caplog):
    big = np.repeat(np.repeat(source, 2, axis=1), 2, axis=2)
    with caplog.at_level(logging.WARNING):
        out = remix(tiny_pipe, big, PROMPT, strength=0)
    assert out.video.shape == source.shape and "resizing it to the model's 32x32" in caplog.text
    assert np.abs(out.video - source).max() < 1e-5  # area-averaging 2x2 copies gives the pixel back


@pytest.mark.parametrize("call, match", [
    (lambda p, v: remix(p, v, PROMPT, strength=1.5), r"strength must be a number in \[0, 1\]"),
    (lambda p, v: remix(p, v, PROMPT, strength=-0.1), r"strength must be a number in \[0, 1\]"),
    (lambda p, v: remix(p, v, PROMPT, strength=float("nan")), r"strength must be a number in \[0, 1\]"),
    (lambda p, v: remix(p, v[..., 0], PROMPT), r"video must be a video: numpy \(F, H, W, 3\)"),
    (lambda p, v: remix(p, "not-a-video.txt", PROMPT), "not-a-video"),
    (lambda p, v: remix(p, v, ""), "prompt must not be empty"),
    (lambda p, v: p(PROMPT, video=v[:15]), r"video must have shape \(16, 32, 32, 3\)"),
    (lambda p, v: p(PROMPT, video=v * 2), r"video must be uint8 or finite floats in \[0, 1\]"),
    (lambda p, v: p(PROMPT, strength=0.5), "needs a source video"),
    (lambda p, v: extend(p, v, PROMPT, frames=16), "from 17 .* to 128"),
    (lambda p, v: extend(p, v, PROMPT, frames=500), "from 17 .* to 128"),
    (lambda p, v: extend(p, v, PROMPT, frames=20, context=16), "context must be a whole number of frames from 1 to 15"),
])
def test_bad_inputs_say_what_is_allowed(tiny_pipe, source, call, match):
    with pytest.raises(ValueError, match=match):
        call(tiny_pipe, source)


@pytest.fixture(scope="module")
def latent_pipe(tiny_pipe):
    """A tiny untrained latent pipeline: the same text encoder, a per-frame autoencoder, 4 frames."""
    from sorakit.autoencoder import build_autoencoder
    from sorakit.loading import make_scheduler
    from sorakit.model import LATENT_TRANSFORMER_CONFIG
    from sorakit.pipeline import SpacetimePipeline

    torch.manual_seed(0)
    vae = build_autoencoder(block_out_channels=(8, 8, 8), norm_num_groups=4).eval()
    config = {**LATENT_TRANSFORMER_CONFIG, "num_layers": 1, "num_attention_heads": 1, "ffn_dim": 64}
    transformer = type(tiny_pipe.transformer)(**config).eval()
    pipe = SpacetimePipeline(tiny_pipe.tokenizer, tiny_pipe.text_encoder, transformer, make_scheduler(), vae=vae,
                             num_frames=4)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def test_remix_through_an_autoencoder_noises_its_latents(latent_pipe, source, monkeypatch):
    clip = source[:4]
    assert np.array_equal(remix(latent_pipe, clip, PROMPT, strength=0).video, clip)
    fresh = latent_pipe(PROMPT, num_inference_steps=STEPS, generator=torch.Generator().manual_seed(2)).frames[0]
    assert np.array_equal(remix(latent_pipe, clip, PROMPT, strength=1, seed=2, num_inference_steps=STEPS).video, fresh)
    calls = _recording(monkeypatch, latent_pipe)
    remix(latent_pipe, clip, PROMPT, strength=0.5, seed=2, num_inference_steps=STEPS)
    sigma = float(latent_pipe.scheduler.sigmas[STEPS - len(calls)])
    x0 = latent_pipe.encode(torch.from_numpy(np.moveaxis(clip, -1, 0))[None] * 2 - 1)
    noise = randn_tensor(x0.shape, generator=torch.Generator().manual_seed(2), dtype=torch.float32)
    assert len(calls) == 2 and x0.shape[1] == 8  # latents, not pixels
    torch.testing.assert_close(calls[0][0], (1 - sigma) * x0 + sigma * noise, atol=1e-5, rtol=1e-5)
