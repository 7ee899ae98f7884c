"""Command line of `sorakit train`."""
from __future__ import annotations

import argparse
import json
from dataclasses import fields
from pathlib import Path

from ..autoencoder import spatial_compression
from ..cli_args import OneLineParser
from ..limits import LIMITS
from ..loading import resolve_device
from ..model_config import TRANSFORMER_FIELDS
from .loop import TrainConfig, train

HELP = {"device": "where to train: auto (CUDA when torch sees a GPU, else CPU), cpu, cuda, cuda:N",
        "vae": "an autoencoder folder (from `sorakit train autoencoder --export`): train on its latents",
        "frame_noise": "share of clips with a noise level per frame (diffusion forcing)",
        "bf16": "bf16 autocast: auto (where the hardware runs it natively), on, off",
        "grad_accum": "micro-batches per step (the batch stays --batch-size; under accelerate launch, per process)",
        "workers": "DataLoader processes making the clips (and latents); a GPU needs several",
        "max_minutes": "stop with a checkpoint after this many minutes of training (0: no limit)"}


def add_config_args(parser: argparse.ArgumentParser, config_class, skip=("transformer", "autoencoder")) -> None:
    """One flag per dataclass field (--batch-size for batch_size); booleans get --x/--no-x."""
    for f in fields(config_class):
        if f.name in skip:
            continue
        flag = f"--{f.name.replace('_', '-')}"
        if isinstance(f.default, bool):
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=f.default)
        else:
            parser.add_argument(flag, type=type(f.default), default=f.default, help=HELP.get(f.name))


# Ranges of the options both trainers share, checked before anything is built (a 0 would divide by
# zero hours into a run, an fps of 1e-9 would never finish a clip).
RANGES = {"steps": (1, 10**9), "checkpoint_every": (1, 10**9), "sample_every": (1, 10**9), "warmup": (1, 10**9),
          "decay_steps": (0, 10**9), "threads": (1, 1024), "num_frames": LIMITS.frames, "height": LIMITS.side,
          "width": LIMITS.side, "fps": LIMITS.fps, "lr": (1e-12, 1.0), "ema_decay": (0.0, 1.0),
          "text_dropout": (0.0, 1.0), "prefix_prob": (0.0, 1.0), "frame_noise": (0.0, 1.0),
          "motion_weight": (0.0, 1000.0), "clips_per_step": (1, 4096), "batch_size": (1, 4096),
          "frames_per_clip": LIMITS.frames, "seed": (0, 2**31 - 1), "grad_accum": (1, 4096), "workers": (1, 64),
          "max_minutes": (0.0, 10**7)}


def check_config(parser: argparse.ArgumentParser, cfg) -> None:
    """Every numeric option of `cfg` within RANGES (finite), else one-line error and exit 2."""
    import math

    for name, (lo, hi) in RANGES.items():
        value = getattr(cfg, name, None)
        if value is None:
            continue
        if not math.isfinite(value) or not lo <= value <= hi:
            parser.error(f"--{name.replace('_', '-')} must be from {lo:g} to {hi:g}; got {value!r}")


def _check_patch(parser: argparse.ArgumentParser, cfg) -> None:
    """Tokens must tile every frame: the side the transformer sees (pixels, or latents through --vae's
    compression) must be a multiple of the patch."""
    patch = cfg.transformer.get("patch_size", [1, 1, 1])[-1]
    scale = 1
    if cfg.vae:
        config = Path(cfg.vae) / "config.json"
        if config.is_file():  # a missing folder is reported where the autoencoder loads
            settings = json.loads(config.read_text())
            scale = spatial_compression(settings) if "block_out_channels" in settings else 1
    if not 1 <= patch <= 16 or cfg.height % (patch * scale) or cfg.width % (patch * scale):
        unit = "latents" if cfg.vae else "pixels"
        parser.error(f"--patch must be from 1 to 16 and divide the frame's side in {unit} "
                     f"({cfg.height // scale}x{cfg.width // scale}); got {patch}")


def autoencoder_main(argv=None) -> dict:
    """`sorakit train autoencoder`: train the per-frame video autoencoder, then (with --export) write it
    with its latent statistics where `sorakit train --vae` and the pipeline read it."""
    from .autoencoder import AutoencoderConfig, export_autoencoder, train_autoencoder

    parser = OneLineParser(prog="sorakit train autoencoder",
                                     description="Train the per-frame video autoencoder on world frames.")
    add_config_args(parser, AutoencoderConfig)
    parser.add_argument("--export", default=None, help="after training, write the autoencoder to this folder")
    parser.add_argument("--no-resume", action="store_true", help="start over even if OUT has a checkpoint")
    args = vars(parser.parse_args(argv))
    cfg = AutoencoderConfig(**{f.name: args[f.name] for f in fields(AutoencoderConfig) if f.name in args})
    if cfg.steps < 1 or cfg.clips_per_step < 1:
        parser.error("--steps and --clips-per-step must be >= 1")
    check_config(parser, cfg)
    result = train_autoencoder(cfg, resume=not args["no_resume"])
    if args["export"]:
        export_autoencoder(cfg.out, args["export"])
    print(json.dumps(result))
    return result


def cli_main(argv=None) -> dict:
    argv = list(argv) if argv is not None else None
    if argv and argv[0] == "autoencoder":
        return autoencoder_main(argv[1:])
    parser = OneLineParser(prog="sorakit train", description="Train the spacetime DiT on world clips "
                                     "(`sorakit train autoencoder --help`: the video autoencoder).")
    add_config_args(parser, TrainConfig)
    parser.add_argument("--layers", type=int, default=None, help="transformer depth (default: the shipped size)")
    parser.add_argument("--heads", type=int, default=None, help="attention heads of width 64")
    parser.add_argument("--patch", type=int, default=None,
                        help="token side in pixels, or in latents with --vae (default: the model's: 4 / 2)")
    parser.add_argument("--no-resume", action="store_true", help="start over even if OUT has a checkpoint")
    args = vars(parser.parse_args(argv))
    cfg = TrainConfig(**{f.name: args[f.name] for f in fields(TrainConfig) if f.name in args})
    if args["layers"]:
        cfg.transformer["num_layers"] = args["layers"]
    if args["heads"]:
        cfg.transformer["num_attention_heads"] = args["heads"]
        cfg.transformer["ffn_dim"] = 4 * 64 * args["heads"]
    if args["patch"] is not None:
        cfg.transformer["patch_size"] = [1, args["patch"], args["patch"]]
    if cfg.steps < 1 or cfg.batch_size < 1:
        parser.error("--steps and --batch-size must be >= 1")
    check_config(parser, cfg)
    _check_patch(parser, cfg)
    for name in ("num_layers", "num_attention_heads"):
        lo, hi = TRANSFORMER_FIELDS[name]
        if not lo <= cfg.transformer[name] <= hi:
            parser.error(f"--{'layers' if name == 'num_layers' else 'heads'} must be from {lo} to {hi}")
    try:
        resolve_device(cfg.device)
    except ValueError as exc:
        parser.error(str(exc))
    result = train(cfg, resume=not args["no_resume"])
    print(json.dumps({"step": result["step"]}))
    return result
