"""One resumable checkpoint file in safetensors: weights, EMA weights, AdamW state, step, config.

safetensors, not pickle: a checkpoint from elsewhere can never run code on load.
"""
from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file


def save_checkpoint(path, model, ema, optimizer: torch.optim.Optimizer, step: int, config: dict) -> None:
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    tensors |= {f"ema.{k}": v for k, v in ema.state_dict().items()}
    opt = optimizer.state_dict()
    for idx, state in opt["state"].items():
        for key, value in state.items():
            tensors[f"opt.{idx}.{key}"] = torch.as_tensor(value)
    meta = {"step": str(step), "config": json.dumps(config), "param_groups": json.dumps(opt["param_groups"])}
    path = Path(path)
    remove_stale_temporaries(path)
    tmp = Path(str(path) + ".tmp")
    try:
        save_file({k: v.detach().contiguous().cpu() for k, v in tensors.items()}, tmp, metadata=meta)
        _fsync(tmp)  # the bytes reach the disk before the name points at them (a power cut keeps one whole file)
        tmp.replace(path)  # atomic: a crash mid-write never leaves a broken checkpoint
        _fsync(path.parent)
    finally:
        tmp.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    """Flush a file's (or a folder's entries') writes to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:  # some file systems cannot sync a folder: the rename is still atomic
        pass
    finally:
        os.close(fd)


def remove_stale_temporaries(path: Path) -> list[Path]:
    """Delete what an interrupted save or export beside `path` left (`<name>.tmp*`, `.<name>.tmp-*`).

    One run writes one folder, so a temporary found before a save is an orphan of a killed process.
    """
    path = Path(path)
    if not path.parent.is_dir():
        return []
    stale = [*path.parent.glob(path.name + ".tmp*"), *path.parent.glob(f".{path.name}.tmp-*"),
             *path.parent.glob(f".{path.name}.old-*")]
    for item in stale:
        shutil.rmtree(item, ignore_errors=True) if item.is_dir() else item.unlink(missing_ok=True)
    return stale


def trim_log(log: Path, step: int) -> int:
    """Drop the records of steps after `step` from a run's log.jsonl (written, then lost with a killed run):
    a resume from `step` logs them again. Returns how many were dropped."""
    log = Path(log)
    if not log.is_file():
        return 0
    kept, dropped = [], 0
    for line in log.read_text(encoding="utf-8").splitlines():
        try:
            later = json.loads(line).get("step", 0) > step
        except (json.JSONDecodeError, AttributeError, TypeError):
            later = True  # a half-written last line of a killed run
        dropped += later
        if not later:
            kept.append(line + "\n")
    if dropped:
        tmp = log.with_name(log.name + ".tmp")
        tmp.write_text("".join(kept), encoding="utf-8")
        tmp.replace(log)
    return dropped


def exported_step(folder: Path) -> int | None:
    """The training step whose weights `export_weights` last wrote to `folder` (None: none or unknown)."""
    try:
        return json.loads((Path(folder) / "sorakit.json").read_text())["training"]["step"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def export_weights(pipe, folder: Path, step: int | None = None) -> None:
    """The EMA transformer plus pipeline settings: what `sorakit.load(folder)` reads (no MiniLM copy).

    Written whole into a temporary folder, then swapped in, so `folder` always holds one step's weights
    and the matching sorakit.json, even when the run is killed mid-export.
    """
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(folder)
    tmp = folder.with_name(f".{folder.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        pipe.transformer.save_pretrained(tmp / "transformer", safe_serialization=True)
        if pipe.vae is not None:
            pipe.vae.save_pretrained(tmp / "vae", safe_serialization=True)
        keys = ("num_frames", "height", "width", "fps", "max_text_tokens", "text_layers")
        meta = {"pipeline": {k: pipe.config[k] for k in keys}, "training": {"step": step}}
        (tmp / "sorakit.json").write_text(json.dumps(meta, indent=1))
        for file in tmp.rglob("*"):
            if file.is_file():
                _fsync(file)
        old = folder.with_name(f".{folder.name}.old-{uuid.uuid4().hex[:8]}")
        if folder.exists():
            folder.rename(old)  # two renames: a kill between them leaves the new export whole in tmp
        tmp.rename(folder)
        _fsync(folder.parent)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# The layers that read the inputs: the video channels and the text states.
INPUT_LAYERS = ("patch_embedding.weight", "condition_embedder.text_embedder.linear_1.weight")


def _grow_inputs(tensors: dict, model) -> None:
    """Warm start after inputs were added (video channels, or text layers side by side): zero weights
    (and AdamW moments) for the new inputs.

    Each of INPUT_LAYERS is the only layer that sees its input, so a checkpoint with fewer inputs
    computes exactly the same function after padding, and training learns to use the new ones.
    """
    names = [n for n, _ in model.named_parameters()]  # AdamW state is keyed by parameter order
    params = dict(model.named_parameters())
    for name in INPUT_LAYERS:
        if name not in params:  # not a transformer (the autoencoder shares this checkpoint format)
            continue
        want = params[name].shape
        moments = (f"opt.{names.index(name)}.{m}" for m in ("exp_avg", "exp_avg_sq"))
        for key in (f"model.{name}", f"ema.{name}", *moments):
            old = tensors.get(key)
            if old is not None and old.shape != want and old.shape[0] == want[0] and old.shape[1] < want[1]:
                pad = torch.zeros(want[0], want[1] - old.shape[1], *want[2:], dtype=old.dtype)
                tensors[key] = torch.cat([old, pad], dim=1)


def load_checkpoint(path, model, ema, optimizer: torch.optim.Optimizer) -> tuple[int, dict]:
    from safetensors import safe_open

    with safe_open(path, "pt") as f:
        meta = f.metadata()
    tensors = load_file(path)
    _grow_inputs(tensors, model)
    config = json.loads(meta["config"])
    _check_shapes(tensors, model, path, config)
    model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    ema.load_state_dict({k[4:]: v for k, v in tensors.items() if k.startswith("ema.")})
    state: dict[int, dict] = {}
    for k, v in tensors.items():
        if k.startswith("opt."):
            _, idx, key = k.split(".", 2)
            state.setdefault(int(idx), {})[key] = v
    if state:  # a slim checkpoint has none: AdamW starts fresh (the learning rate re-warms on resume)
        optimizer.load_state_dict({"state": state, "param_groups": json.loads(meta["param_groups"])})
    return int(meta["step"]), config


ARCHITECTURE = ("patch_size", "num_layers", "num_attention_heads", "attention_head_dim", "ffn_dim")


def _check_shapes(tensors: dict, model, path, config: dict) -> None:
    """A checkpoint of another architecture (say, trained with another --patch) is refused by name
    before torch's size-mismatch error: the flags it was trained with are in its stored config."""
    want = {k: v.shape for k, v in model.state_dict().items()}
    have = {k[6:]: v.shape for k, v in tensors.items() if k.startswith("model.")}
    odd = sorted(set(want) ^ set(have)) or sorted(k for k in want if want[k] != have[k])
    if not odd:
        return
    trained = config.get("transformer", {}) if isinstance(config, dict) else {}
    settings = ", ".join(f"{k}={trained[k]}" for k in ARCHITECTURE if k in trained) or "not recorded"
    name = odd[0]
    shapes = f"{tuple(have[name])} in the checkpoint, {tuple(want[name])} here" if name in have and name in want \
        else "present in only one of them"
    raise ValueError(f"{path} holds a model of another architecture ({name}: {shapes}); it was trained with "
                     f"{settings}: resume with the same --patch, --heads and --layers, or start over with "
                     "--no-resume or another --out")


def write_slim(src, dst) -> dict:
    """A resume checkpoint small enough to commit: weights and EMA in bfloat16, no AdamW moments
    (a third of the size). Loading casts back to the model's dtype."""
    from safetensors import safe_open

    with safe_open(src, "pt") as f:
        meta = dict(f.metadata())
    tensors = {k: v.to(torch.bfloat16) if v.is_floating_point() else v
               for k, v in load_file(src).items() if not k.startswith("opt.")}
    save_file(tensors, dst, metadata={**meta, "slim": "1"})
    return {"tensors": len(tensors), "step": int(meta["step"])}
