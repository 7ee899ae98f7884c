"""attention.capture on a real diffusers WanPipeline (tiny, built offline from configs)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from sorakit import attention

RUN = dict(num_frames=9, height=32, width=32, num_inference_steps=2, max_sequence_length=16, output_type="np")


@pytest.fixture(scope="module")
def wan_pipe():
    from diffusers import AutoencoderKLWan, FlowMatchEulerDiscreteScheduler, WanPipeline, WanTransformer3DModel
    from transformers import AutoTokenizer, UMT5Config, UMT5EncoderModel

    from sorakit.model import text_encoder_path

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(text_encoder_path())  # MiniLM's WordPiece vocab, local
    text_encoder = UMT5EncoderModel(UMT5Config(vocab_size=tokenizer.vocab_size, d_model=32, d_kv=8, d_ff=64,
                                               num_layers=1, num_heads=4)).eval()
    vae = AutoencoderKLWan(base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                           temperal_downsample=[False, True, True])
    transformer = WanTransformer3DModel(patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12,
                                        in_channels=16, out_channels=16, text_dim=32, freq_dim=256, ffn_dim=32,
                                        num_layers=2, rope_max_seq_len=32)
    pipe = WanPipeline(tokenizer=tokenizer, text_encoder=text_encoder, vae=vae, transformer=transformer.eval(),
                       scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0))
    pipe.set_progress_bar_config(disable=True)
    return pipe


def sample(pipe, guidance_scale=5.0, **kw):
    return pipe("a red ball bounces", generator=torch.Generator().manual_seed(0), guidance_scale=guidance_scale,
                **{**RUN, **kw}).frames


def test_wan_pipeline_capture(wan_pipe):
    plain = sample(wan_pipe)
    before = dict(wan_pipe.transformer.attn_processors)
    calls = []
    handle = wan_pipe.transformer.register_forward_hook(lambda *a: calls.append(1))
    with attention.capture(wan_pipe, query=(4, 10, 10), temporal=True) as cap:
        captured = sample(wan_pipe)
    handle.remove()
    assert np.array_equal(plain, captured)
    assert all(wan_pipe.transformer.attn_processors[k] is v for k, v in before.items())
    # CFG: two transformer calls per step (cond, then uncond); only the conditional one is a recorded step
    assert len(calls) == 4 and cap.num_steps == 2 and sorted(cap.records) == [0, 1]
    assert cap.words == ["a", "red", "ball", "bounces"]
    assert cap.grid == (3, 2, 2) and cap.pixel_shape == (9, 32, 32)  # latents (3, 4, 4), patch (1, 2, 2)
    red = cap.word_map("red")
    assert red.shape == (9, 32, 32) and red.min() == 0 and red.max() == 1
    assert cap.query_map(4, 11, 11).shape == (9, 32, 32)
    np.testing.assert_allclose(cap.temporal_matrix().sum(1), 1, atol=1e-5)


def test_wan_records_the_conditional_call(wan_pipe):
    """Step 0 has the same latents with and without guidance: the recorded call is the conditional one."""
    with attention.capture(wan_pipe, steps=[0]) as guided:
        sample(wan_pipe)
    with attention.capture(wan_pipe, steps=[0]) as single:
        sample(wan_pipe, guidance_scale=1.0)
    for layer in (0, 1):
        torch.testing.assert_close(guided.records[0][("cross", layer)], single.records[0][("cross", layer)])
