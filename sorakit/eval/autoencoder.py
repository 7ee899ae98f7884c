"""`sorakit eval autoencoder`: does the video autoencoder keep the physics measurable?

The world's parse floor (`world.parse_floor`) is run twice on the same held-out clips: on the
rendered frames and on their reconstructions. The velocity error ratio between the two is the
cost of the autoencoder to every physics probe; "found" and "ghost" counts say whether each ball
survives with its own colour and nothing else appears. PSNR is reported over all pixels and over
ball pixels (the background is most of a frame and easy).
"""
from __future__ import annotations

import time

import numpy as np
import torch

from .. import world
from ..autoencoder import decode_latents, encode_video

HELD_OUT_SEED = 1_000_000  # training draws seeds far below this


def _to_model(video: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(video.transpose(3, 0, 1, 2)))[None] * 2 - 1


@torch.no_grad()
def reconstruct(vae, video: np.ndarray) -> np.ndarray:
    """(F, H, W, 3) in [0, 1] -> its reconstruction, same shape, clipped to [0, 1]."""
    out = decode_latents(vae, encode_video(vae, _to_model(video)))
    return ((out[0].float().permute(1, 2, 3, 0).numpy() + 1) / 2).clip(0, 1)


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(((a - b) ** 2).mean())
    return float(10 * np.log10(1.0 / max(mse, 1e-12)))


def evaluate_autoencoder(vae, n: int = 64, seed: int = HELD_OUT_SEED, height: int = 64, width: int = 64,
                         num_frames: int = 24, fps: float = 8.0, progress: bool = True) -> dict:
    """Reconstruction quality and physics cost on `n` held-out clips; a JSON-able dict."""
    vae = vae.eval()
    psnr, ball_psnr = [], []
    for k in range(min(n, 16)):
        clip = world.sample(seed + k, height=height, width=width, num_frames=num_frames, fps=fps)
        rec = reconstruct(vae, clip.video)
        psnr.append(_psnr(rec, clip.video))
        balls = clip.masks.any(1)
        ball_psnr.append(_psnr(rec[balls], clip.video[balls]))
    kwargs = dict(n=n, seed=seed, height=height, width=width, num_frames=num_frames, fps=fps, progress=progress)
    truth = world.parse_floor(**kwargs)
    through = world.parse_floor(through=lambda v: reconstruct(vae, v), **kwargs)
    timing = _timing(vae, height, width, num_frames)
    found = through["found"]
    return {
        "clips": n, "size": [num_frames, height, width],
        "psnr": float(np.mean(psnr)), "ball_psnr": float(np.mean(ball_psnr)),
        "velocity_error": {"rendered": truth["mean"], "reconstructed": through["mean"],
                           "ratio": through["mean"] / truth["mean"]},
        "position_px": {"rendered": truth["position_px"]["mean"], "reconstructed": through["position_px"]["mean"]},
        "balls_found": f"{found['found']}/{found['visible']}",
        "ghost_frames": f"{found['ghost_frames']}/{found['frames']}",
        **timing,
    }


@torch.no_grad()
def _timing(vae, height: int, width: int, num_frames: int, repeats: int = 3) -> dict:
    """Median seconds to encode and to decode one clip, at the current torch thread count."""
    video = torch.zeros(1, 3, num_frames, height, width)
    enc, dec = [], []
    for _ in range(repeats):
        t = time.perf_counter()
        latents = encode_video(vae, video)
        enc.append(time.perf_counter() - t)
        t = time.perf_counter()
        decode_latents(vae, latents)
        dec.append(time.perf_counter() - t)
    return {"encode_s": float(np.median(enc)), "decode_s": float(np.median(dec)),
            "latent_shape": list(latents.shape[1:]), "threads": torch.get_num_threads()}
