"""Model folders are untrusted: their configs are checked against sane limits before anything is built.

A config.json that says 100,000 layers or 10^8 text tokens would otherwise make diffusers allocate
until the machine fails. Each field is checked (ValueError names the file, the field and what is
allowed), then the weights the transformer config describes are estimated and refused when they
would not fit in this machine's memory. The ranges leave room for real Wan 2.1 checkpoints (14B:
40 layers of width 5120).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .limits import LIMITS

MAX_CONFIG_BYTES = 1024 * 1024
TRANSFORMER_FIELDS = {
    "num_layers": (1, 64), "num_attention_heads": (1, 128), "attention_head_dim": (1, 512),
    "ffn_dim": (1, 65536), "text_dim": (1, 16384), "in_channels": (1, 1024), "out_channels": (1, 1024),
    "freq_dim": (1, 4096), "rope_max_seq_len": (1, 65536),
}
VAE_FIELDS = {"latent_channels": (1, 256), "layers_per_block": (1, 16), "in_channels": (1, 16),
              "out_channels": (1, 16)}
PIPELINE_FIELDS = {"num_frames": LIMITS.frames, "height": LIMITS.side, "width": LIMITS.side,
                   "max_text_tokens": (1, 512)}  # MiniLM has 512 positions
TEXT_LAYERS = (-13, 12)  # MiniLM's 13 hidden states (embeddings + 12 layers), counted from either end


def _read(path: Path) -> dict:
    if not path.is_file():
        return {}
    if path.stat().st_size > MAX_CONFIG_BYTES:
        raise ValueError(f"{path} is {path.stat().st_size} bytes; a config is at most {MAX_CONFIG_BYTES}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise ValueError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path} must hold a JSON object; got {type(data).__name__}")
    return data


def _whole(where: Path, name: str, value: Any, bounds: tuple[int, int]) -> int:
    lo, hi = bounds
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ValueError(f"{where}: {name} must be a whole number from {lo} to {hi}; got {value!r:.80}")
    return value


def _fields(where: Path, config: dict, fields: dict) -> None:
    for name, bounds in fields.items():
        if config.get(name) is not None:
            _whole(where, name, config[name], bounds)


def _list(where: Path, name: str, value: Any, length: tuple[int, int], bounds: tuple[int, int]) -> list[int]:
    if not isinstance(value, (list, tuple)) or not length[0] <= len(value) <= length[1]:
        raise ValueError(f"{where}: {name} must be a list of {length[0]} to {length[1]} whole numbers; "
                         f"got {value!r:.80}")
    return [_whole(where, f"{name}[{i}]", v, bounds) for i, v in enumerate(value)]


def transformer_parameters(config: dict) -> int:
    """About how many weights a WanTransformer3DModel config makes (attention, FFN, embeddings)."""
    width = config.get("num_attention_heads", 2) * config.get("attention_head_dim", 64)
    ffn, layers = config.get("ffn_dim", 512), config.get("num_layers", 1)
    patch = 1
    for p in config.get("patch_size", (1, 1, 1)):
        patch *= p
    per_block = 8 * width * width + 2 * width * ffn  # self- and cross-attention, feed-forward
    embeds = (config.get("text_dim", 0) + config.get("freq_dim", 0) + 8 * width) * width
    io = (config.get("in_channels", 0) + config.get("out_channels", 0)) * patch * width
    return layers * per_block + embeds + io


def _memory_bytes() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not a POSIX system: no check
        return None


def check_transformer_config(where: Path, config: dict, bytes_per_weight: int = 4) -> None:
    _fields(where, config, TRANSFORMER_FIELDS)
    if config.get("patch_size") is not None:
        _list(where, "patch_size", config["patch_size"], (3, 3), (1, 16))
    weights = transformer_parameters(config) * bytes_per_weight
    memory = _memory_bytes()
    if memory is not None and weights > memory:
        raise ValueError(f"{where} describes a transformer of about {weights / 2**30:.1f} GB of weights; this "
                         f"machine has {memory / 2**30:.1f} GB of memory")


def check_vae_config(where: Path, config: dict) -> None:
    _fields(where, config, VAE_FIELDS)
    if config.get("block_out_channels") is not None:
        _list(where, "block_out_channels", config["block_out_channels"], (1, 8), (1, 4096))


def check_pipeline_config(where: Path, config: dict) -> None:
    _fields(where, config, PIPELINE_FIELDS)
    fps = config.get("fps")
    lo, hi = LIMITS.fps
    if fps is not None and (isinstance(fps, bool) or not isinstance(fps, (int, float)) or not lo <= fps <= hi):
        raise ValueError(f"{where}: fps must be a number from {lo:g} to {hi:g}; got {fps!r:.80}")
    if config.get("text_layers") is not None:
        _list(where, "text_layers", config["text_layers"], (1, 13), TEXT_LAYERS)


def check_model_folder(root: Path, bytes_per_weight: int = 4) -> None:
    """Check every config a sorakit or diffusers model folder holds, before any model is built."""
    root = Path(root)
    transformer = root / "transformer" / "config.json"
    check_transformer_config(transformer, _read(transformer), bytes_per_weight)
    vae = root / "vae" / "config.json"
    check_vae_config(vae, _read(vae))
    meta = root / "sorakit.json"
    pipeline = _read(meta).get("pipeline", {})
    if not isinstance(pipeline, dict):
        raise ValueError(f"{meta}: 'pipeline' must be a JSON object")
    check_pipeline_config(meta, pipeline)
    index = root / "model_index.json"
    check_pipeline_config(index, _read(index))  # a saved pipeline keeps its settings beside its components
