"""Rectified flow bits shared by training and sampling: x_t = (1 - t) x0 + t * noise.

The network predicts x0 (robust for a tiny net with many values per token, JiT arXiv 2511.13720);
training and sampling both turn that into the velocity v = noise - x0 = (x_t - x0) / t.
"""
from __future__ import annotations

import torch

from .model import condition_input

MIN_T = 0.05  # velocity from x0 divides by t; clamp it as JiT does
TIME_SHIFT = 3.0  # SD3-style shift: more training and sampling time near pure noise
MOTION_THRESHOLD = 0.1  # a pixel "moves" if a channel changes by more than this ([-1, 1] scale) next to it


def shift_time(t: torch.Tensor, shift: float = TIME_SHIFT) -> torch.Tensor:
    return shift * t / (1 + (shift - 1) * t)


def sample_time(batch: int, generator: torch.Generator | None = None, shift: float = TIME_SHIFT) -> torch.Tensor:
    """Logit-normal(0, 1) times, shifted toward t = 1."""
    return shift_time(torch.sigmoid(torch.randn(batch, generator=generator)), shift)


def sample_frame_times(batch: int, frames: int, generator: torch.Generator | None = None,
                       per_frame: float = 0.0, shift: float = TIME_SHIFT) -> torch.Tensor:
    """(B, F) times: one shared time per clip, or for a share `per_frame` of the clips an independent
    time per frame (diffusion forcing, Chen et al. 2024): the model then learns to make a frame from
    cleaner neighbours, "given the past, what next?", which is where motion is decided."""
    shared = sample_time(batch, generator, shift)[:, None].expand(batch, frames)
    if per_frame <= 0:
        return shared.contiguous()
    independent = shift_time(torch.sigmoid(torch.randn(batch, frames, generator=generator)), shift)
    pick = torch.rand(batch, generator=generator) < per_frame
    return torch.where(pick[:, None], independent, shared)


def frame_view(t: torch.Tensor, ndim: int = 5) -> torch.Tensor:
    """Times (B,) or per frame (B, F) -> broadcastable over (B, C, F, H, W)."""
    return t.view(t.shape[0], 1, -1, *([1] * (ndim - 3))) if t.ndim == 2 else t.view(-1, *([1] * (ndim - 1)))


def transformer_timestep(t: torch.Tensor, tokens_per_frame: int) -> torch.Tensor:
    """Times in [0, 1] -> Wan's timestep on its 0-1000 scale: (B,), or (B, tokens) when t is per frame
    (Wan's transformer takes one timestep per token; temporal patch 1 makes tokens frame-major)."""
    t = t * 1000
    return t.repeat_interleave(tokens_per_frame, dim=1) if t.ndim == 2 else t


def velocity_from_x0(x_t: torch.Tensor, x0: torch.Tensor, t: torch.Tensor, min_t: float = MIN_T) -> torch.Tensor:
    """Training clamps t (the loss would explode at t -> 0); sampling passes a tiny min_t to stay exact.
    t: (B,) or per frame (B, F)."""
    return (x_t - x0) / frame_view(t.clamp_min(min_t), x_t.ndim)


def motion_weight(x0: torch.Tensor, strength: float, threshold: float = MOTION_THRESHOLD) -> torch.Tensor:
    """(B, 1, F, H, W) loss weights: 1, plus `strength` on pixels that change from or to a neighbouring frame.

    A moving ball covers ~6 % of a clip's pixels (its old and new places), so under a plain mean its
    motion is a small share of the loss next to the static background.
    """
    step = (x0[:, :, 1:] - x0[:, :, :-1]).abs().amax(1, keepdim=True) > threshold  # (B, 1, F-1, H, W)
    moving = torch.zeros_like(x0[:, :1], dtype=torch.bool)
    moving[:, :, 1:] |= step
    moving[:, :, :-1] |= step
    return 1 + strength * moving.float()


def denoising_loss(transformer, x0, context, t, noise, mask, bf16: bool = False,
                   weight: torch.Tensor | None = None) -> torch.Tensor:
    """v-loss of the x0-predicting transformer at times t, over the frames it has to make.

    x0, noise: (B, C, F, H, W); t: (B,) or per frame (B, F); mask: (B, 1, F, 1, 1), 1 where a frame is given (excluded);
    weight: optional (B, 1, F, H, W) per-pixel weights; the loss is the weighted mean.
    bf16: autocast matmuls to bfloat16 on the transformer's device (the weights stay float32).
    """
    # Noise and times may come from CPU generators; the loss runs where the weights are.
    device = next(transformer.parameters()).device
    x0, context, t, noise, mask = (v.to(device) for v in (x0, context, t, noise, mask))
    weight = weight.to(device) if weight is not None else None
    tf = frame_view(t)
    x_t = (1 - tf) * x0 + tf * noise
    _, ph, pw = getattr(transformer, "module", transformer).config.patch_size  # DDP wraps the model as .module
    timestep = transformer_timestep(t, (x0.shape[-2] // ph) * (x0.shape[-1] // pw))
    with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=bf16):
        x0_hat = transformer(condition_input(x_t, x0, mask), timestep, context, return_dict=False)[0]
    err = (velocity_from_x0(x_t, x0_hat.float(), t) - (noise - x0)) ** 2
    todo = (1 - mask) if weight is None else (1 - mask) * weight
    todo = todo.expand_as(err)
    return (err * todo).sum() / todo.sum().clamp_min(1)
