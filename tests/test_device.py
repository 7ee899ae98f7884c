"""Device plumbing on the CPU: sorakit.load(device=, torch_dtype=), model CPU offload's hooks, and the
training loss on the transformer's device. GPU-only checks are in test_gpu.py."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import sorakit
from sorakit.flow import denoising_loss
from sorakit.loading import resolve_device
from sorakit.training.loop import export_weights

SMALL = dict(num_frames=4, num_inference_steps=2)


def run(pipe, seed=0, **kw):
    return pipe("a red ball is dropped", generator=torch.Generator().manual_seed(seed), **{**SMALL, **kw}).frames


@pytest.fixture(scope="module")
def exported(tiny_pipe, tmp_path_factory):
    """What training writes (transformer + sorakit.json), the same folder layout as the shipped model."""
    path = tmp_path_factory.mktemp("export")
    export_weights(tiny_pipe, path)
    return path


def test_default_device_is_cuda_when_torch_sees_a_gpu_else_cpu():
    want = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device(None).type == resolve_device("auto").type == want


def test_load_on_an_explicit_cpu_device(tiny_pipe, exported):
    pipe = sorakit.load(exported, device="cpu")
    pipe.set_progress_bar_config(disable=True)
    assert pipe.device.type == "cpu" and pipe._execution_device.type == "cpu"
    assert np.array_equal(run(pipe), run(tiny_pipe))


def test_bfloat16_on_cpu_gives_a_finite_clip_of_the_right_shape(exported):
    pipe = sorakit.load(exported, device="cpu", torch_dtype=torch.bfloat16)
    pipe.set_progress_bar_config(disable=True)
    assert pipe.transformer.dtype == torch.bfloat16 and pipe.text_encoder.dtype == torch.bfloat16
    video = run(pipe)
    assert video.shape == (1, 4, 32, 32, 3) and video.dtype == np.float32
    assert np.isfinite(video).all() and 0 <= video.min() and video.max() <= 1


def test_load_can_leave_the_text_encoder_out(tiny_pipe, exported):
    cond, uncond = tiny_pipe.encode_prompt("a red ball is dropped")
    pipe = sorakit.load(exported, device="cpu", text_encoder=None)
    pipe.set_progress_bar_config(disable=True)
    assert pipe.text_encoder is None
    frames = pipe(prompt_embeds=cond, negative_prompt_embeds=uncond, generator=torch.Generator().manual_seed(0),
                  **SMALL).frames
    assert np.array_equal(frames, run(tiny_pipe))


@pytest.mark.parametrize("kwargs, message", [
    (dict(device="toaster"), "device must be"),
    (dict(torch_dtype=torch.int8), "torch_dtype must be"),
    (dict(torch_dtype="bf16"), "torch_dtype must be"),
    (dict(unet=None), "load\\(\\) takes"),
])
def test_load_rejects_bad_devices_dtypes_and_components(exported, kwargs, message):
    with pytest.raises(ValueError, match=message):
        sorakit.load(exported, **kwargs)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message for a machine without CUDA")
def test_asking_for_cuda_without_a_gpu_says_so(exported):
    with pytest.raises(ValueError, match="torch sees no GPU"):
        sorakit.load(exported, device="cuda")


def test_model_cpu_offload_sequence_names_the_pipelines_models(tiny_pipe):
    names = tiny_pipe.model_cpu_offload_seq.split("->")
    assert names[:2] == ["text_encoder", "transformer"]
    assert set(names) <= set(tiny_pipe.components)  # "vae" too: an optional component, None for now


def test_model_cpu_offload_hooks_keep_the_clip(tiny_pipe, exported):
    """Without an accelerator diffusers refuses the default call; with device="cpu" accelerate's hooks
    are installed for real, so the hook path (execution device, hand-over between models) is exercised."""
    pipe = sorakit.load(exported, device="cpu")
    pipe.set_progress_bar_config(disable=True)
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="requires accelerator"):
            pipe.enable_model_cpu_offload()
    pipe.enable_model_cpu_offload(device="cpu")
    assert all(hasattr(m, "_hf_hook") for m in (pipe.text_encoder, pipe.transformer))
    assert np.array_equal(run(pipe), run(tiny_pipe))
    assert np.array_equal(run(pipe), run(tiny_pipe))  # hooks re-arm after maybe_free_model_hooks


def test_denoising_loss_runs_where_the_transformer_is_with_autocast_of_that_device(tiny_pipe):
    gen = torch.Generator().manual_seed(0)
    x0 = torch.rand(2, 3, 4, 32, 32, generator=gen) * 2 - 1
    noise, t, mask = torch.randn(x0.shape, generator=gen), torch.tensor([0.3, 0.9]), torch.zeros(2, 1, 4, 1, 1)
    context = tiny_pipe.encode_text(["a red ball", "a blue ball"])
    plain = denoising_loss(tiny_pipe.transformer, x0, context, t, noise, mask)
    mixed = denoising_loss(tiny_pipe.transformer, x0, context, t, noise, mask, bf16=True)
    assert torch.isfinite(mixed) and mixed.dtype == torch.float32
    assert torch.allclose(plain, mixed, rtol=0.05) and not torch.equal(plain, mixed)  # bf16 matmuls ran
