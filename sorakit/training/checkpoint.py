"""One resumable checkpoint file in safetensors: weights, EMA weights, AdamW state, step, config.

safetensors, not pickle: a checkpoint from elsewhere can never run code on load.
"""
from __future__ import annotations

import json
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
    tmp = Path(str(path) + ".tmp")
    save_file({k: v.detach().contiguous().cpu() for k, v in tensors.items()}, tmp, metadata=meta)
    tmp.replace(path)  # atomic: a crash mid-write never leaves a broken checkpoint


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
    model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    ema.load_state_dict({k[4:]: v for k, v in tensors.items() if k.startswith("ema.")})
    state: dict[int, dict] = {}
    for k, v in tensors.items():
        if k.startswith("opt."):
            _, idx, key = k.split(".", 2)
            state.setdefault(int(idx), {})[key] = v
    if state:  # a slim checkpoint has none: AdamW starts fresh (the learning rate re-warms on resume)
        optimizer.load_state_dict({"state": state, "param_groups": json.loads(meta["param_groups"])})
    return int(meta["step"]), json.loads(meta["config"])


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
