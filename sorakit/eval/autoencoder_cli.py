"""`sorakit eval autoencoder`: its options and its command, beside the measure. The autoencoder is
measured on its own (no pipeline): the parse floor on its reconstructions. Imports stay light, so
the `sorakit` parser builds this sub-command without loading diffusers.

    sorakit eval autoencoder --vae checkpoints/autoencoder --n 64
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from .. import cli_args as types


def add_autoencoder_parser(ev_sub) -> None:
    """The measurement's options under `sorakit eval`."""
    vae = ev_sub.add_parser("autoencoder", help="does a video autoencoder keep the physics measurable")
    vae.add_argument("--vae", required=True, metavar="FOLDER",
                     help="an AutoencoderKL folder (from `sorakit train autoencoder --export`)")
    vae.add_argument("--n", type=types.count, default=64, help="held-out world clips")
    vae.add_argument("--height", type=types.side, default=64, help="clip height in pixels")
    vae.add_argument("--width", type=types.side, default=64, help="clip width in pixels")
    vae.add_argument("--frames", type=types.frames, default=24, help="frames per clip")
    vae.add_argument("--json", action="store_true", help="print every number as JSON instead of the table")


def cmd_autoencoder(args: argparse.Namespace) -> int:
    if not Path(args.vae).is_dir():
        raise FileNotFoundError(f"no autoencoder folder at {args.vae}")
    from diffusers import AutoencoderKL

    from sorakit.eval import autoencoder

    vae = AutoencoderKL.from_pretrained(args.vae, use_safetensors=True)
    result = autoencoder.evaluate_autoencoder(vae, n=args.n, height=args.height, width=args.width,
                                              num_frames=args.frames)
    print(json.dumps(result, indent=2, default=str) if args.json else table(result))
    return 0


def table(r: dict) -> str:
    """The result as the markdown table docs/model-v2.md shows."""
    v, p = r["velocity_error"], r["position_px"]
    frames, height, width = r["size"]
    rows = [("clips", f"{r['clips']} of {frames} frames at {height}x{width}"),
            ("PSNR, all pixels / ball pixels", f"{r['psnr']:.1f} / {r['ball_psnr']:.1f} dB"),
            ("velocity error, rendered / reconstructed",
             f"{v['rendered']:.3f} / {v['reconstructed']:.3f} units/s ({v['ratio']:.2f}x)"),
            ("position error, rendered / reconstructed", f"{p['rendered']:.2f} / {p['reconstructed']:.2f} px"),
            ("balls found", r["balls_found"]), ("ghost frames", r["ghost_frames"]),
            ("latent shape", " x ".join(map(str, r["latent_shape"]))),
            ("encode / decode one clip", f"{r['encode_s']:.3f} / {r['decode_s']:.3f} s ({r['threads']} threads)")]
    return "\n".join(["| measure | value |", "|---|---|", *(f"| {k} | {val} |" for k, val in rows)])
