"""The device story on a CUDA GPU: loading there, generators, bf16, model CPU offload and training.
Skipped where torch sees no GPU; `pytest -m gpu` selects them."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import sorakit
from sorakit.model import TRANSFORMER_CONFIG
from sorakit.training import TrainConfig, train
from sorakit.training.loop import export_weights

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]

SMALL = dict(num_frames=4, num_inference_steps=2)


def run(pipe, generator=None, **kw):
    generator = generator if generator is not None else torch.Generator().manual_seed(0)
    return pipe("a red ball is dropped", generator=generator, **{**SMALL, **kw}).frames


@pytest.fixture(scope="module")
def exported(tiny_pipe, tmp_path_factory):
    path = tmp_path_factory.mktemp("export")
    export_weights(tiny_pipe, path)
    return path


@pytest.fixture(scope="module")
def gpu_pipe(exported):
    pipe = sorakit.load(exported)  # the default device: the GPU
    pipe.set_progress_bar_config(disable=True)
    return pipe


def test_load_puts_every_model_on_the_gpu_by_default(gpu_pipe):
    assert gpu_pipe.transformer.device.type == gpu_pipe.text_encoder.device.type == "cuda"
    assert gpu_pipe._execution_device.type == "cuda"


def test_a_cpu_generator_gives_the_cpu_noise_and_nearly_the_cpu_clip(gpu_pipe, tiny_pipe):
    on_gpu, on_cpu = run(gpu_pipe), run(tiny_pipe)
    assert np.array_equal(on_gpu, run(gpu_pipe))  # same seed, same machine: bit-identical
    assert np.abs(on_gpu - on_cpu).max() < 0.05  # same noise; kernels differ only in rounding


def test_a_cuda_generator_works_on_the_gpu(gpu_pipe):
    a = run(gpu_pipe, torch.Generator("cuda").manual_seed(0))
    b = run(gpu_pipe, torch.Generator("cuda").manual_seed(0))
    assert np.array_equal(a, b) and np.isfinite(a).all()


def test_bfloat16_on_the_gpu(exported):
    pipe = sorakit.load(exported, device="cuda", torch_dtype=torch.bfloat16)
    pipe.set_progress_bar_config(disable=True)
    video = run(pipe)
    assert pipe.transformer.dtype == torch.bfloat16
    assert video.shape == (1, 4, 32, 32, 3) and np.isfinite(video).all()


def test_model_cpu_offload_matches_the_resident_pipeline(exported, gpu_pipe):
    pipe = sorakit.load(exported, device="cpu")
    pipe.set_progress_bar_config(disable=True)
    pipe.enable_model_cpu_offload()
    assert pipe._execution_device.type == "cuda"
    assert np.array_equal(run(pipe), run(gpu_pipe))
    assert pipe.transformer.device.type == "cpu"  # handed back after the call


def test_training_on_the_gpu_leaves_the_process_as_it_was(tmp_path):
    cfg = TrainConfig(out=str(tmp_path), steps=3, batch_size=4, num_frames=8, warmup=1, sample_every=10_000,
                      checkpoint_every=10, threads=1, device="cuda",
                      transformer={**TRANSFORMER_CONFIG, "num_layers": 1, "num_attention_heads": 1, "ffn_dim": 128})
    threads, cpu_rng, gpu_rng = torch.get_num_threads(), torch.get_rng_state(), torch.cuda.get_rng_state()
    result = train(cfg, resume=False)
    assert result["step"] == 3 and np.isfinite(result["loss_last"]).all()
    assert torch.get_num_threads() == threads
    assert torch.equal(torch.get_rng_state(), cpu_rng) and torch.equal(torch.cuda.get_rng_state(), gpu_rng)
    assert sorakit.load(tmp_path / "pipeline").transformer.device.type == "cuda"
