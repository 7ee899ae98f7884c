"""Training checkpoints and exports survive kills: no orphans, one step's weights per export, one log line per step."""
from __future__ import annotations

import copy
import json

import pytest
import torch

from sorakit.training import checkpoint as ckpt_mod
from sorakit.training.checkpoint import (
    export_weights,
    exported_step,
    load_checkpoint,
    remove_stale_temporaries,
    save_checkpoint,
    trim_log,
)


def _model():
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 3)
    opt = torch.optim.AdamW(model.parameters())
    model(torch.ones(1, 4)).sum().backward()
    opt.step()
    return model, copy.deepcopy(model), opt


def test_a_save_removes_what_a_killed_save_left_and_leaves_nothing_itself(tmp_path):
    model, ema, opt = _model()
    path = tmp_path / "checkpoint.safetensors"
    orphans = [tmp_path / "checkpoint.safetensors.tmp", tmp_path / ".checkpoint.safetensors.tmp-1a2b"]
    for orphan in orphans:
        orphan.write_bytes(b"\0" * 1000)  # what kill -9 during an older save left
    save_checkpoint(path, model, ema, opt, 7, {"a": 1})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.safetensors"]
    assert load_checkpoint(path, model, ema, opt) == (7, {"a": 1})


def test_a_failed_save_keeps_the_previous_checkpoint_and_no_temporary(tmp_path, monkeypatch):
    model, ema, opt = _model()
    path = tmp_path / "checkpoint.safetensors"
    save_checkpoint(path, model, ema, opt, 5, {})
    before = path.read_bytes()

    def disk_full(tensors, filename, metadata=None):
        open(filename, "wb").write(b"half")
        raise OSError("No space left on device")

    monkeypatch.setattr(ckpt_mod, "save_file", disk_full)
    with pytest.raises(OSError, match="No space"):
        save_checkpoint(path, model, ema, opt, 6, {})
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["checkpoint.safetensors"]


def test_trim_log_keeps_each_step_once(tmp_path):
    log = tmp_path / "log.jsonl"
    lines = [json.dumps({"step": s, "loss": 1.0 / s}) for s in range(1, 74)]
    log.write_text("\n".join(lines) + '\n{"step": 74, "lo')  # killed mid-line at step 74
    assert trim_log(log, 50) == 24
    assert [json.loads(x)["step"] for x in log.read_text().splitlines()] == list(range(1, 51))
    assert trim_log(log, 50) == 0 and trim_log(tmp_path / "missing.jsonl", 3) == 0


def test_export_is_whole_or_not_at_all(tiny_pipe, tmp_path, monkeypatch):
    folder = tmp_path / "pipeline"
    export_weights(tiny_pipe, folder, 10)
    (folder / "vae").mkdir()  # e.g. left by an older latent run: not part of this model
    export_weights(tiny_pipe, folder, 20)
    assert exported_step(folder) == 20 and not (folder / "vae").exists()
    weights = (folder / "transformer" / "diffusion_pytorch_model.safetensors").read_bytes()

    save = type(tiny_pipe.transformer).save_pretrained

    def killed_midway(self, target, **kwargs):
        save(self, target, **kwargs)
        raise KeyboardInterrupt  # the weights are written, sorakit.json is not

    monkeypatch.setattr(type(tiny_pipe.transformer), "save_pretrained", killed_midway)
    with pytest.raises(KeyboardInterrupt):
        export_weights(tiny_pipe, folder, 30)
    assert exported_step(folder) == 20  # the folder still holds step 20, weights and settings together
    assert (folder / "transformer" / "diffusion_pytorch_model.safetensors").read_bytes() == weights
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipeline"]
    (tmp_path / ".pipeline.tmp-deadbeef").mkdir()  # a kill -9 leaves its temporary folder
    assert [p.name for p in remove_stale_temporaries(folder)] == [".pipeline.tmp-deadbeef"]


@pytest.fixture
def quick_training(monkeypatch):
    """train() without its monitor sampling (the slow part of a tiny run)."""
    from sorakit.training import loop

    monkeypatch.setattr(loop, "sample_and_score", lambda pipe, watch: ([], {}))
    monkeypatch.setattr(loop, "direction_reliance", lambda pipe, clips: 0.0)
    monkeypatch.setattr(loop, "write_grid_gif", lambda *a, **k: None)
    monkeypatch.setattr(loop, "monitor_clips", lambda *a, **k: [])
    monkeypatch.setattr(loop, "direction_clips", lambda *a, **k: [])
    return loop


def test_a_resume_after_a_kill_logs_each_step_once_and_exports_the_checkpoints_weights(tmp_path, quick_training):
    from sorakit.model import TRANSFORMER_CONFIG
    from sorakit.training.loop import TrainConfig, train

    def config(steps):
        return TrainConfig(out=str(tmp_path), steps=steps, batch_size=2, num_frames=4, height=16, width=16,
                           warmup=2, sample_every=10_000, checkpoint_every=3, threads=1,
                           transformer={**TRANSFORMER_CONFIG, "num_layers": 1, "num_attention_heads": 1,
                                        "ffn_dim": 64})

    train(config(3), resume=False)
    log = tmp_path / "log.jsonl"
    # What a run killed at step 5 leaves: steps 4-5 logged, the checkpoint and export still at step 3,
    # the export's settings file lost mid-way, and a temporary checkpoint.
    with open(log, "a") as f:
        f.write(json.dumps({"step": 4}) + "\n" + json.dumps({"step": 5}) + "\n")
    (tmp_path / "pipeline" / "sorakit.json").unlink()
    (tmp_path / "checkpoint.safetensors.tmp").write_bytes(b"\0" * 100)

    train(config(3), resume=True)  # nothing left to train: the resume alone repairs the folder
    assert exported_step(tmp_path / "pipeline") == 3
    assert [json.loads(x)["step"] for x in log.read_text().splitlines()] == [1, 2, 3]
    train(config(4), resume=True)
    assert [json.loads(x)["step"] for x in log.read_text().splitlines()] == [1, 2, 3, 4]
    assert exported_step(tmp_path / "pipeline") == 4
    assert not list(tmp_path.glob("*.tmp*")) and not list(tmp_path.glob(".*"))


def test_a_checkpoint_of_another_architecture_is_refused_by_name(tmp_path):
    """Resuming a --patch 2 run with --patch 4 (or other heads or layers) says which settings it was
    trained with, instead of torch's size-mismatch error."""
    from sorakit.model import build_transformer

    def parts(patch):
        torch.manual_seed(0)
        model = build_transformer(num_layers=1, num_attention_heads=1, ffn_dim=32, patch_size=(1, patch, patch))
        return model, copy.deepcopy(model), torch.optim.AdamW(model.parameters())

    path = tmp_path / "checkpoint.safetensors"
    save_checkpoint(path, *parts(2), 3, {"transformer": {"patch_size": [1, 2, 2], "num_layers": 1}})
    with pytest.raises(ValueError, match=r"patch_size=\[1, 2, 2\], num_layers=1: resume with the same --patch"):
        load_checkpoint(path, *parts(4))
    assert load_checkpoint(path, *parts(2))[0] == 3
