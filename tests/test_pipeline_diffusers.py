"""SpacetimePipeline behaves like diffusers' WanPipeline: precomputed embeddings, encode_prompt,
optional models, sampling-state properties, callbacks that replace tensors, and limits from one place."""
from __future__ import annotations

import dataclasses
import logging

import numpy as np
import pytest
import torch
from diffusers.callbacks import PipelineCallback

import sorakit.pipeline
from sorakit.limits import LIMITS
from sorakit.pipeline import SpacetimePipeline

SMALL = dict(num_frames=4, num_inference_steps=2)


def run(pipe, prompt="a red ball is dropped", seed=0, **kw):
    return pipe(prompt, generator=torch.Generator().manual_seed(seed), **{**SMALL, **kw}).frames


@pytest.fixture(scope="module")
def saved(tiny_pipe, tmp_path_factory):
    path = tmp_path_factory.mktemp("pipe") / "pipe"
    tiny_pipe.save_pretrained(path)
    return path


def transformer_batches(pipe):
    """Records the batch size of every transformer call; returns (list, hook handle)."""
    sizes = []
    handle = pipe.transformer.register_forward_pre_hook(lambda m, args: sizes.append(args[0].shape[0]))
    return sizes, handle


# --- embeddings -------------------------------------------------------------------------------------
def test_encode_prompt_returns_embeddings_per_video_like_wan(tiny_pipe):
    cond, uncond = tiny_pipe.encode_prompt(["a red ball", "a blue ball"], num_videos_per_prompt=2)
    width = tiny_pipe.transformer.config.text_dim
    assert cond.shape == uncond.shape == (4, tiny_pipe.config.max_text_tokens, width)
    text = tiny_pipe.encode_text(["a red ball", "a blue ball"])  # one tensor, one row per prompt
    assert torch.equal(cond, text.repeat_interleave(2, dim=0))
    assert torch.equal(uncond, tiny_pipe.encode_text([""] * 4))  # the negative prompt defaults to ""
    cond, uncond = tiny_pipe.encode_prompt("a red ball", do_classifier_free_guidance=False)
    assert cond.shape[0] == 1 and uncond is None
    _, uncond = tiny_pipe.encode_prompt("a red ball", negative_prompt="a green ball")
    assert torch.equal(uncond, tiny_pipe.encode_text(["a green ball"]))
    half, _ = tiny_pipe.encode_prompt("a red ball", dtype=torch.bfloat16, device="cpu")
    assert half.dtype == torch.bfloat16
    with pytest.raises(ValueError, match="negative_prompt must be a string or a list of 2 strings"):
        tiny_pipe.encode_prompt(["a red ball", "a blue ball"], negative_prompt=["x", "y", "z"])


def test_prompt_embeds_give_the_same_clip_as_the_prompt(tiny_pipe):
    cond, uncond = tiny_pipe.encode_prompt("a red ball is dropped", negative_prompt="a green ball")
    want = run(tiny_pipe, negative_prompt="a green ball")
    got = tiny_pipe(prompt_embeds=cond, negative_prompt_embeds=uncond, generator=torch.Generator().manual_seed(0),
                    **SMALL).frames
    assert np.array_equal(want, got)
    # Given embeddings hold one row per prompt and are repeated per video, like prompts are.
    many = tiny_pipe(prompt_embeds=cond, num_videos_per_prompt=2, generator=torch.Generator().manual_seed(0),
                     **SMALL).frames
    assert np.array_equal(many, run(tiny_pipe, num_videos_per_prompt=2))


@pytest.mark.parametrize("kwargs, message", [
    (dict(prompt="a red ball", prompt_embeds=torch.zeros(1, 32, 768)), "not both"),
    (dict(prompt=None), "either prompt"),
    (dict(prompt=None, prompt_embeds=torch.zeros(1, 32, 384)), "prompt_embeds must be a tensor of shape"),
    (dict(prompt=None, prompt_embeds=np.zeros((1, 32, 768))), "prompt_embeds must be a tensor"),
    (dict(negative_prompt="x", negative_prompt_embeds=torch.zeros(1, 32, 768)), "not both"),
    (dict(negative_prompt_embeds=torch.zeros(2, 32, 768)), r"negative_prompt_embeds must .* shape \(1, 32, 768\)"),
    (dict(negative_prompt=["a", 3]), "negative_prompt must be a string or a list of strings"),
])
def test_bad_embeddings_raise_clear_value_errors(tiny_pipe, kwargs, message):
    kwargs = {"prompt": "a red ball", "num_inference_steps": 1, **kwargs}
    with pytest.raises(ValueError, match=message):
        tiny_pipe(**kwargs)


def test_a_long_prompt_is_truncated_with_a_warning_not_refused(tiny_pipe, caplog):
    prompt = "a red ball is thrown to the right and bounces twice " * 12  # ~600 characters
    with caplog.at_level(logging.WARNING, logger="sorakit.pipeline"):
        video = run(tiny_pipe, prompt)
    assert video.shape == (1, 4, 32, 32, 3)
    assert "truncated to 32 tokens" in caplog.text


# --- optional models ------------------------------------------------------------------------------
def test_without_text_encoder_prompt_embeds_work_and_prompts_say_why_not(tiny_pipe, saved):
    cond, uncond = tiny_pipe.encode_prompt("a red ball is dropped")
    pipe = SpacetimePipeline.from_pretrained(saved, text_encoder=None)  # encode, then free the encoder
    pipe.set_progress_bar_config(disable=True)
    assert pipe.text_encoder is None
    got = pipe(prompt_embeds=cond, negative_prompt_embeds=uncond, generator=torch.Generator().manual_seed(0),
               **SMALL).frames
    assert np.array_equal(got, run(tiny_pipe))
    with pytest.raises(ValueError, match="no text encoder.*pass prompt_embeds"):
        pipe("a red ball", **SMALL)
    with pytest.raises(ValueError, match="needs negative_prompt_embeds"):
        pipe(prompt_embeds=cond, **SMALL)
    unguided = pipe(prompt_embeds=cond, guidance_scale=1.0, generator=torch.Generator().manual_seed(0), **SMALL)
    # Compared with the same weights loaded from disk: CPU kernels may round a batch of one differently
    # for the file-backed (less aligned) tensors than for the in-memory ones.
    full = SpacetimePipeline.from_pretrained(saved)
    full.set_progress_bar_config(disable=True)
    assert np.array_equal(unguided.frames, run(full, guidance_scale=1.0))
    with pytest.raises(ValueError, match="no text encoder"):
        pipe.encode_text(["a red ball"])


def test_without_transformer_the_pipeline_encodes_but_refuses_to_sample(tiny_pipe, saved, tmp_path):
    pipe = SpacetimePipeline.from_pretrained(saved, transformer=None)
    cond, _ = pipe.encode_prompt("a red ball")
    assert torch.equal(cond, tiny_pipe.encode_text(["a red ball"]))
    with pytest.raises(ValueError, match="no transformer"):
        pipe("a red ball", **SMALL)
    pipe.save_pretrained(tmp_path / "encoder-only")  # and the encoder-only pipeline round-trips
    again = SpacetimePipeline.from_pretrained(tmp_path / "encoder-only")
    assert again.transformer is None and torch.equal(again.encode_prompt("a red ball")[0], cond)


# --- sampling state, callbacks, attention_kwargs ------------------------------------------------------
def test_properties_that_callbacks_read(tiny_pipe):
    seen = []

    def callback(pipe, i, t, kwargs):
        seen.append((pipe.guidance_scale, pipe.do_classifier_free_guidance, pipe.num_timesteps,
                     pipe.current_timestep, t, pipe.attention_kwargs, pipe.interrupt))
        return kwargs

    run(tiny_pipe, guidance_scale=3.0, num_inference_steps=3, attention_kwargs={"scale": 1.0},
        callback_on_step_end=callback)
    assert [s[:3] for s in seen] == [(3.0, True, 3)] * 3
    assert all(s[3] is s[4] for s in seen)  # current_timestep is the step's t
    assert all(s[5] == {"scale": 1.0} and s[6] is False for s in seen)
    assert tiny_pipe.current_timestep is None  # reset when sampling ends
    run(tiny_pipe, guidance_scale=1.0)
    assert tiny_pipe.do_classifier_free_guidance is False and tiny_pipe.attention_kwargs is None


def test_attention_kwargs_reach_the_transformer(tiny_pipe):
    given = []
    handle = tiny_pipe.transformer.register_forward_pre_hook(
        lambda m, args, kwargs: given.append(kwargs.get("attention_kwargs")), with_kwargs=True)
    try:
        out = run(tiny_pipe, attention_kwargs={"scale": 1.0})
    finally:
        handle.remove()
    assert given == [{"scale": 1.0}] * 2
    assert np.array_equal(out, run(tiny_pipe))  # a LoRA scale of 1 changes nothing


def test_interrupt_skips_the_remaining_steps(tiny_pipe):
    sizes, handle = transformer_batches(tiny_pipe)

    def stop(pipe, i, t, kwargs):
        pipe._interrupt = True
        return kwargs

    try:
        run(tiny_pipe, num_inference_steps=4, callback_on_step_end=stop)
    finally:
        handle.remove()
    assert len(sizes) == 1
    assert tiny_pipe.interrupt is True
    run(tiny_pipe)  # the next call starts uninterrupted
    assert tiny_pipe.interrupt is False


def test_callback_can_replace_prompt_embeds_and_negative_prompt_embeds(tiny_pipe):
    other, blank = tiny_pipe.encode_prompt("a blue ball rolls to the left", negative_prompt="a green ball")
    seen = []

    def swap(pipe, i, t, kwargs):
        seen.append((kwargs["prompt_embeds"].clone(), kwargs["negative_prompt_embeds"].clone()))
        return {"prompt_embeds": other, "negative_prompt_embeds": blank} if i == 0 else kwargs

    inputs = ["latents", "prompt_embeds", "negative_prompt_embeds"]
    swapped = run(tiny_pipe, num_inference_steps=3, callback_on_step_end=swap,
                  callback_on_step_end_tensor_inputs=inputs)
    assert torch.equal(seen[1][0], other) and torch.equal(seen[1][1], blank)  # read back after step 0
    assert not np.array_equal(swapped, run(tiny_pipe, num_inference_steps=3))


def test_a_guidance_cutoff_callback_turns_cfg_off_midway(tiny_pipe):
    """A diffusers PipelineCallback: its tensor_inputs are used, and guidance read per step."""

    class CutoffAfterFirstStep(PipelineCallback):
        tensor_inputs = ["prompt_embeds"]

        def callback_fn(self, pipeline, step_index, timestep, callback_kwargs):
            if step_index == self.config.cutoff_step_index:
                pipeline._guidance_scale = 1.0
            return callback_kwargs

    sizes, handle = transformer_batches(tiny_pipe)
    try:
        cutoff = CutoffAfterFirstStep(cutoff_step_ratio=None, cutoff_step_index=0)
        run(tiny_pipe, num_inference_steps=3, callback_on_step_end=cutoff)
    finally:
        handle.remove()
    assert sizes == [2, 1, 1]  # [unconditional, conditional] batched, then conditional only


# --- limits ---------------------------------------------------------------------------------------
def test_limits_come_from_sorakit_limits(tiny_pipe, monkeypatch):
    assert sorakit.pipeline.MAX_TOKENS == LIMITS.video_tokens  # old names stay importable
    assert sorakit.pipeline.MAX_PROMPT_CHARS == LIMITS.prompt_chars
    tight = dataclasses.replace(LIMITS, steps=(1, 2), guidance=(0.0, 2.0), side=(16, 64), frames=(2, 8),
                                videos_per_prompt=(1, 2), video_tokens=300)
    monkeypatch.setattr(sorakit.pipeline_checks, "LIMITS", tight)
    for kwargs, message in ((dict(num_inference_steps=3), r"num_inference_steps must be an integer in \[1, 2\]"),
                            (dict(guidance_scale=3.0), r"guidance_scale must be in \[0, 2\]"),
                            (dict(height=12), "height must be a multiple of 4 between 16 and 64"),
                            (dict(num_frames=9), "num_frames must be an integer between 2 and 8"),
                            (dict(num_videos_per_prompt=3), r"num_videos_per_prompt must be an integer in \[1, 2\]"),
                            (dict(num_frames=8), "at most 300 are allowed")):
        with pytest.raises(ValueError, match=message):
            tiny_pipe("a red ball", **{"num_inference_steps": 1, "num_frames": 4, **kwargs})


def test_settings_after_the_negative_prompt_are_taken_by_name_only(tiny_pipe):
    # WanPipeline takes (prompt, negative_prompt, height, width, num_frames, ...) positionally; here a third
    # positional value would be read as `frames`, so it is refused instead of silently misread.
    with pytest.raises(TypeError, match="positional"):
        tiny_pipe("a red ball", "", 32, 32, 4)
