"""Smoke training: a few steps of the real loop on a tiny transformer; the loss must fall."""
from __future__ import annotations

import json

import numpy as np
import torch

from sorakit.training import TrainConfig, train
from sorakit.training.loop import _known_prefix

TINY = dict(num_layers=1, num_attention_heads=1, ffn_dim=128)


def tiny_config(out, steps):
    from sorakit.model import TRANSFORMER_CONFIG

    return TrainConfig(out=str(out), steps=steps, batch_size=4, num_frames=8, lr=2e-3, warmup=5,
                       sample_every=10_000, checkpoint_every=10, threads=1,
                       transformer={**TRANSFORMER_CONFIG, **TINY})


def test_loss_falls_and_run_resumes(tmp_path):
    result = train(tiny_config(tmp_path, 40), resume=False)
    first, last = np.mean(result["loss_first"][:5]), np.mean(result["loss_last"][-5:])
    assert last < 0.5 * first, (first, last)
    records = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == list(range(1, 41))
    assert "monitor" in records[-1] and set(records[-1]["monitor"]) >= {"colour", "count"}
    assert (tmp_path / "samples_000040.gif").exists()
    assert (tmp_path / "pipeline" / "transformer" / "diffusion_pytorch_model.safetensors").exists()

    resumed = train(tiny_config(tmp_path, 42), resume=True)  # picks up at step 40, not 0
    assert resumed["step"] == 42 and len(resumed["loss_last"]) == 2


def test_known_prefix_mask_is_a_leading_run():
    mask = _known_prefix(256, 16, 0.5, torch.Generator().manual_seed(0)).view(256, 16)
    lengths = mask.sum(1)
    assert 0.35 < (lengths > 0).float().mean() < 0.65  # about half the clips are conditioned
    assert lengths.max() <= 8
    for row, n in zip(mask, lengths.long()):
        assert row[:n].all() and not row[n:].any()
