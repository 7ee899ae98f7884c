"""`sorakit eval SUITE`: each suite calls its sorakit.eval module on the chosen model and prints its
tables (or JSON). The pipeline measurements are faked here; tests/test_probes_model.py,
test_attention_evaluate.py and test_shipped_quality.py run them for real on the tiny pipeline. The
autoencoder suite runs for real on a tiny untrained autoencoder saved to disk."""
from __future__ import annotations

import json

import numpy as np
import pytest

import sorakit
from sorakit import cli
from sorakit.eval import attention, hidden, quality


@pytest.fixture
def loaded(monkeypatch):
    """Replaces sorakit.load; records which model each suite asked for."""
    calls = []

    class FakePipe:
        def set_progress_bar_config(self, **kwargs):
            pass

    def load(model=None, device=None):  # device: each accelerate process's own (the CPU here)
        calls.append(model)
        return FakePipe()

    monkeypatch.setitem(vars(sorakit), "load", load)
    return calls


def _localization(pipe, n, n_generated, num_inference_steps):
    row = {"miou@0.4": 0.5, "miou_best": 0.6, "best_threshold": 0.3, "pointing": 0.75, "maps": n}
    return {"teacher_forced": {"t=0.5": {"layer 0": row}}, "generated": {}, "skipped_generated": 0,
            "chance": {"pointing": 0.03, "iou_all_ones": 0.03}}


def test_eval_attention_prints_a_table_per_metric(monkeypatch, capsys, loaded):
    monkeypatch.setattr(attention, "localization", _localization)
    assert cli.main(["eval", "attention", "--n", "2", "--model", "runs/x"]) == 0
    out = capsys.readouterr().out
    assert loaded == ["runs/x"]
    assert [line for line in out.splitlines() if line in attention.METRICS] == list(attention.METRICS)
    assert "| layer 0 | 0.75 |" in out
    assert cli.main(["eval", "attention", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["teacher_forced"]["t=0.5"]["layer 0"]["maps"] == 32  # the default n


def test_eval_hidden_prints_r2_by_layer_and_noise_level(monkeypatch, capsys, loaded):
    r2 = np.array([[[0.1, 0.0]], [[0.6, 0.3]]])  # (layers, noise levels, targets)
    monkeypatch.setattr(hidden, "run", lambda pipe, n_clips: hidden.HiddenProbeResult(r2, ["embed", "block 0"], (0.5,)))
    assert cli.main(["eval", "hidden", "--n", "8"]) == 0
    out = capsys.readouterr().out
    assert "| block 0 | 0.60 |" in out and "| block 0 | 0.30 |" in out and loaded == [None]
    assert cli.main(["eval", "hidden", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["best"][0] == {"target": "position", "layer": "block 0",
                                                             "noise_level": 0.5, "r2": 0.6}


def test_eval_quality_prints_json(monkeypatch, capsys, loaded):
    seen = {}

    def fake(pipe, n, steps, guidance, batch_size):
        seen.update(n=n, steps=steps, guidance=guidance, batch_size=batch_size)
        return {"generated": {"colour": {"mean": 1.0, "n": n}}}

    monkeypatch.setattr(quality, "evaluate_quality", fake)
    assert cli.main(["eval", "quality", "--n", "4", "--steps", "2", "--guidance", "3", "--batch-size", "2"]) == 0
    assert json.loads(capsys.readouterr().out)["generated"]["colour"] == {"mean": 1.0, "n": 4}
    assert seen == {"n": 4, "steps": 2, "guidance": 3.0, "batch_size": 2}


def test_eval_autoencoder_loads_a_folder_and_prints_a_table(tmp_path, capsys):
    import torch

    from sorakit.autoencoder import build_autoencoder

    torch.manual_seed(0)
    build_autoencoder(block_out_channels=(8, 8, 8), norm_num_groups=4).save_pretrained(tmp_path / "vae")
    args = ["eval", "autoencoder", "--vae", str(tmp_path / "vae"), "--n", "1",
            "--height", "32", "--width", "32", "--frames", "4"]
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert out.startswith("| measure | value |") and "| clips | 1 of 4 frames at 32x32 |" in out
    assert "| balls found |" in out and "| latent shape | 8 x 4 x 8 x 8 |" in out
    assert cli.main([*args, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["clips"] == 1 and data["size"] == [4, 32, 32] and data["latent_shape"] == [8, 4, 8, 8]
    assert set(data["velocity_error"]) == {"rendered", "reconstructed", "ratio"}


def test_eval_autoencoder_without_the_folder_is_one_line_error(tmp_path, capsys):
    assert cli.main(["eval", "autoencoder", "--vae", str(tmp_path / "missing")]) == 2
    assert capsys.readouterr().err.startswith("sorakit: error: no autoencoder folder")
