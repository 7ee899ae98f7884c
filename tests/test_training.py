"""Smoke training: a few steps of the real loop on a tiny transformer; the loss must fall."""
from __future__ import annotations

import copy
import json
import random

import numpy as np
import pytest
import torch

from sorakit import world
from sorakit.flow import denoising_loss, motion_weight
from sorakit.model import TRANSFORMER_CONFIG, build_transformer, condition_input, position_channels
from sorakit.training import TrainConfig, train
from sorakit.training.checkpoint import load_checkpoint, save_checkpoint
from sorakit.training.loop import _known_prefix, _lr_at
from sorakit.training.monitor import direction_clips, direction_reliance

TINY = dict(num_layers=1, num_attention_heads=1, ffn_dim=128)


def tiny_config(out, steps):
    return TrainConfig(out=str(out), steps=steps, batch_size=4, num_frames=8, lr=2e-3, warmup=5,
                       sample_every=10_000, checkpoint_every=10, threads=1,
                       transformer={**TRANSFORMER_CONFIG, **TINY})


def process_state():
    return torch.get_num_threads(), torch.get_rng_state(), np.random.get_state()[1].copy(), random.getstate()


def assert_same_process_state(before, after):
    assert before[0] == after[0], "thread count changed"
    assert torch.equal(before[1], after[1]) and np.array_equal(before[2], after[2]) and before[3] == after[3]


@pytest.mark.slow
def test_loss_falls_and_run_resumes(tmp_path):
    threads = torch.get_num_threads()
    torch.set_num_threads(2)  # not the config's 1: training must give the kernel its threads back
    try:
        before = process_state()
        result = train(tiny_config(tmp_path, 40), resume=False)
        assert_same_process_state(before, process_state())
    finally:
        torch.set_num_threads(threads)
    first, last = np.mean(result["loss_first"][:5]), np.mean(result["loss_last"][-5:])
    assert last < 0.5 * first, (first, last)
    records = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == list(range(1, 41))
    assert "monitor" in records[-1] and set(records[-1]["monitor"]) >= {"colour", "count", "direction_reliance"}
    assert (tmp_path / "samples_000040.gif").exists()
    assert (tmp_path / "pipeline" / "transformer" / "diffusion_pytorch_model.safetensors").exists()

    resumed = train(tiny_config(tmp_path, 42), resume=True)  # picks up at step 40, not 0
    assert resumed["step"] == 42 and len(resumed["loss_last"]) == 2
    # AdamW's moments came back with the weights: the learning rate goes on at full rate, no re-warm-up
    records = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert records[-1]["step"] == 42 and records[-1]["lr"] == tiny_config(tmp_path, 42).lr


def test_a_failing_run_also_leaves_the_process_as_it_was(tmp_path):
    before = process_state()
    cfg = tiny_config(tmp_path, 1)
    cfg.transformer["not_a_transformer_option"] = 1
    with pytest.raises(TypeError):
        train(cfg, resume=False)
    assert_same_process_state(before, process_state())


@pytest.mark.parametrize("device, message", [("toaster", "device must be"), ("cuda:99", "GPU")])
def test_train_cli_refuses_a_device_torch_cannot_use(tmp_path, capsys, device, message):
    from sorakit.training import cli_main

    with pytest.raises(SystemExit):
        cli_main(["--out", str(tmp_path), "--steps", "1", "--device", device])
    assert message in capsys.readouterr().err
    assert not (tmp_path / "log.jsonl").exists()


def test_known_prefix_mask_is_a_leading_run():
    mask = _known_prefix(256, 16, 0.5, torch.Generator().manual_seed(0)).view(256, 16)
    lengths = mask.sum(1)
    assert 0.35 < (lengths > 0).float().mean() < 0.65  # about half the clips are conditioned
    assert lengths.max() <= 8
    for row, n in zip(mask, lengths.long()):
        assert row[:n].all() and not row[n:].any()


def test_learning_rate_warms_up_holds_and_cools_to_zero():
    cfg = TrainConfig(steps=1000, lr=1e-3, warmup=100, decay_steps=200)
    lrs = [_lr_at(s, cfg) for s in range(1000)]
    assert lrs[0] == 1e-3 / 100 and lrs[99] == 1e-3  # linear warmup
    assert lrs[100] == lrs[799] == 1e-3  # constant middle: a run can be extended by resuming
    assert lrs[900] == 1e-3 * 0.5 and 0 < lrs[999] <= 1e-3 / 200  # linear cool-down to 0 at cfg.steps
    assert _lr_at(500, TrainConfig(steps=1000, lr=1e-3, warmup=100)) == 1e-3  # decay_steps=0: no cool-down


def test_learning_rate_warms_up_again_after_a_resume():
    cfg = TrainConfig(steps=1000, lr=1e-3, warmup=100, decay_steps=200)
    assert _lr_at(500, cfg, start=500) == 1e-3 / 100 and _lr_at(599, cfg, start=500) == 1e-3
    assert _lr_at(900, cfg, start=850) == 1e-3 * 0.5 * 51 / 100  # warmup and cool-down multiply


def test_mirror_pairs_need_an_even_batch(tmp_path):
    with pytest.raises(ValueError, match="even batch_size"):
        train(TrainConfig(out=str(tmp_path), steps=1, batch_size=3))


def test_direction_reliance_is_zero_for_a_text_blind_model_only(tiny_pipe):
    clips = direction_clips(4, num_frames=8)
    assert all(("left" in c.caption) != ("right" in c.caption) for c in clips)
    assert direction_reliance(tiny_pipe, clips) != 0  # random cross-attention reads the word
    blind = copy.deepcopy(tiny_pipe)
    for block in blind.transformer.blocks:  # cut the text path: cross-attention adds nothing
        torch.nn.init.zeros_(block.attn2.to_out[0].weight)
        torch.nn.init.zeros_(block.attn2.to_out[0].bias)
    assert direction_reliance(blind, clips) == 0


def test_motion_weight_marks_the_moving_ball_and_nothing_still():
    clip = world.sample(3, scenario="throw", num_frames=16)
    x0 = world.to_model_space(clip.video)[None]
    weight = motion_weight(x0, 4.0)
    assert weight.shape == (1, 1, 16, 32, 32) and set(weight.unique().tolist()) == {1.0, 5.0}
    ball = torch.from_numpy(clip.masks[:, 0])  # (F, H, W) where the ball is drawn
    moving = weight[0, 0] > 1
    assert moving[ball].float().mean() > 0.5  # most ball pixels count as moving ...
    assert (moving & ~ball).float().sum() < 2 * ball.float().sum()  # ... and little else does
    still = x0[:, :, :1].expand_as(x0)  # the first frame held: no motion, plain weights
    assert (motion_weight(still, 4.0) == 1).all()


def test_weighted_loss_with_unit_weights_is_the_plain_loss(tiny_pipe):
    gen = torch.Generator().manual_seed(0)
    x0 = torch.rand(2, 3, 8, 32, 32, generator=gen) * 2 - 1
    noise, t = torch.randn(x0.shape, generator=gen), torch.tensor([0.3, 0.9])
    context = tiny_pipe.encode_text(["a red ball", "a blue ball"])
    mask = torch.zeros(2, 1, 8, 1, 1)
    args = (tiny_pipe.transformer, x0, context, t, noise, mask)
    plain = denoising_loss(*args)
    assert torch.allclose(denoising_loss(*args, weight=torch.ones(2, 1, 8, 32, 32)), plain)
    assert not torch.allclose(denoising_loss(*args, weight=motion_weight(x0, 4.0)), plain)


def test_position_channels_are_ramps_along_their_axes():
    where = position_channels(2, 4, 3, 5)
    assert where.shape == (2, 3, 4, 3, 5)
    x, y, t = where[0]
    assert torch.equal(x[0, 0], torch.linspace(-1, 1, 5)) and (x == x[:1, :1]).all()
    assert torch.equal(y[0, :, 0], torch.linspace(-1, 1, 3)) and (y == y[:1, :, :1]).all()
    assert torch.equal(t[:, 0, 0], torch.linspace(-1, 1, 4)) and (t == t[:, :1, :1]).all()


def test_checkpoint_with_fewer_inputs_warm_starts_the_same_function(tmp_path):
    """Adding inputs (the position ramps; a second MiniLM layer's text states) keeps the trained
    function: the new weights start at 0, whatever the new inputs hold."""
    width = TRANSFORMER_CONFIG["text_dim"]
    old_cfg = {**TRANSFORMER_CONFIG, **TINY, "in_channels": TRANSFORMER_CONFIG["in_channels"] - 3, "text_dim": 384}
    torch.manual_seed(0)
    old = build_transformer(**old_cfg)
    with torch.no_grad():
        for p in old.parameters():
            p.normal_(0, 0.05)
    opt = torch.optim.AdamW(old.parameters())
    x = torch.randn(1, old_cfg["in_channels"], 2, 8, 8)
    old(x, torch.tensor([500.0]), torch.randn(1, 4, 384)).sample.sum().backward()
    opt.step()  # the optimizer has moments to migrate
    save_checkpoint(tmp_path / "old.safetensors", old, copy.deepcopy(old), opt, 7, {})

    new = build_transformer(**{**TRANSFORMER_CONFIG, **TINY})
    new_ema = build_transformer(**{**TRANSFORMER_CONFIG, **TINY})
    new_opt = torch.optim.AdamW(new.parameters())
    step, _ = load_checkpoint(tmp_path / "old.safetensors", new, new_ema, new_opt)
    assert step == 7 and width > 384
    x, known, mask = torch.randn(1, 3, 2, 8, 8), torch.zeros(1, 3, 2, 8, 8), torch.zeros(1, 1, 2, 1, 1)
    full, ctx, ts = condition_input(x, known, mask), torch.randn(1, 4, width), torch.tensor([300.0])
    with torch.no_grad():
        want = old(full[:, : old_cfg["in_channels"]], ts, ctx[..., :384]).sample
        # Equal up to float summation order (a 768-wide matmul with zeros is blocked differently).
        torch.testing.assert_close(new(full, ts, ctx).sample, want, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(new_ema(full, ts, ctx).sample, want, rtol=1e-5, atol=1e-6)
    for param, new_inputs in ((new.patch_embedding.weight, slice(-3, None)),
                              (new.condition_embedder.text_embedder.linear_1.weight, slice(384, None))):
        moments = new_opt.state[param]["exp_avg"]
        assert moments.shape == param.shape and not moments[:, new_inputs].any()


def test_bf16_auto_follows_the_hardware():
    from sorakit.training.loop import use_bf16

    cpu = torch.device("cpu")
    assert use_bf16("on", cpu) and not use_bf16("off", cpu) and use_bf16(True, cpu)
    native = torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()
    assert use_bf16("auto", cpu) == native
    with pytest.raises(ValueError, match="bf16 must be"):
        use_bf16("fast", cpu)


def test_slim_checkpoint_resumes_with_fresh_optimizer(tmp_path):
    from sorakit.training.checkpoint import load_checkpoint, save_checkpoint, write_slim

    model = build_transformer(num_layers=1, num_attention_heads=1, ffn_dim=64)
    ema = copy.deepcopy(model)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model(torch.randn(1, 10, 2, 8, 8), torch.tensor([500.0]), torch.randn(1, 4, 768))[0].sum().backward()
    opt.step()
    save_checkpoint(tmp_path / "full.safetensors", model, ema, opt, 7, {"a": 1})
    assert write_slim(tmp_path / "full.safetensors", tmp_path / "slim.safetensors")["step"] == 7
    assert (tmp_path / "slim.safetensors").stat().st_size < (tmp_path / "full.safetensors").stat().st_size / 3
    fresh, fresh_ema = build_transformer(num_layers=1, num_attention_heads=1, ffn_dim=64), copy.deepcopy(model)
    fresh_opt = torch.optim.AdamW(fresh.parameters(), lr=1e-3)
    step, config = load_checkpoint(tmp_path / "slim.safetensors", fresh, fresh_ema, fresh_opt)
    assert step == 7 and config == {"a": 1} and not fresh_opt.state
    for a, b in zip(fresh.parameters(), model.parameters()):
        assert a.dtype == torch.float32 and torch.allclose(a, b, rtol=1e-2, atol=1e-3)


def test_a_time_limit_stops_the_run_with_a_checkpoint(tmp_path):
    from sorakit.training.checkpoint import load_checkpoint
    from sorakit.training.loop import _build

    cfg = tiny_config(tmp_path, 1000)
    cfg.max_minutes = 1e-9  # out after the first step
    cfg.sample_every = 10_000
    assert train(cfg, resume=False)["step"] == 1
    records = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [1] and "monitor" in records[0]  # the last step is looked at too
    model, ema, opt = _build(cfg, torch.device("cpu"))
    assert load_checkpoint(tmp_path / "checkpoint.safetensors", model, ema, opt)[0] == 1
