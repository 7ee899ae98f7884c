"""Command line of `sorakit train`."""
from __future__ import annotations

import argparse
import json
from dataclasses import fields

from ..loading import resolve_device
from .loop import TrainConfig, train

HELP = {"device": "where to train: auto (CUDA when torch sees a GPU, else CPU), cpu, cuda, cuda:N"}


def cli_main(argv=None) -> dict:
    parser = argparse.ArgumentParser(prog="sorakit train", description="Train the spacetime DiT on world clips.")
    for f in fields(TrainConfig):
        if f.name == "transformer":
            continue
        flag = f"--{f.name.replace('_', '-')}"
        if isinstance(f.default, bool):
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=f.default)
        else:
            parser.add_argument(flag, type=type(f.default), default=f.default, help=HELP.get(f.name))
    parser.add_argument("--layers", type=int, default=None, help="transformer depth (default: the shipped size)")
    parser.add_argument("--heads", type=int, default=None, help="attention heads of width 64")
    parser.add_argument("--no-resume", action="store_true", help="start over even if OUT has a checkpoint")
    args = vars(parser.parse_args(argv))
    cfg = TrainConfig(**{f.name: args[f.name] for f in fields(TrainConfig) if f.name in args})
    if args["layers"]:
        cfg.transformer["num_layers"] = args["layers"]
    if args["heads"]:
        cfg.transformer["num_attention_heads"] = args["heads"]
        cfg.transformer["ffn_dim"] = 4 * 64 * args["heads"]
    if cfg.steps < 1 or cfg.batch_size < 1:
        parser.error("--steps and --batch-size must be >= 1")
    try:
        resolve_device(cfg.device)
    except ValueError as exc:
        parser.error(str(exc))
    result = train(cfg, resume=not args["no_resume"])
    print(json.dumps({"step": result["step"]}))
    return result
