"""The video autoencoder: diffusers' AutoencoderKL with a small config, applied frame by frame.

Sora-class models denoise spacetime latents, not pixels. A per-frame autoencoder compresses space
only (4x each side), so every frame keeps its own latent frame: motion, the thing this project
measures, stays entirely with the DiT, and "condition on the first k frames" maps to the first k
latent frames. A causal 3D autoencoder (Wan's) also compresses time 4x, which at 8 fps blurs a
ball that moves several pixels per frame.

Latents are normalised per channel with the mean and std measured on world clips and stored in
the config (`latents_mean`, `latents_std`), as Wan's VAE stores them.
"""
from __future__ import annotations

import torch
from diffusers import AutoencoderKL

SPATIAL_COMPRESSION = 4
LATENT_CHANNELS = 8
AUTOENCODER_CONFIG = dict(
    in_channels=3,
    out_channels=3,
    down_block_types=("DownEncoderBlock2D",) * 3,  # two downsamplings: 4x per side
    up_block_types=("UpDecoderBlock2D",) * 3,
    block_out_channels=(16, 32, 64),  # 0.66 M params: a 24-frame clip decodes in ~0.3 s on one core
    layers_per_block=1,
    latent_channels=LATENT_CHANNELS,
    norm_num_groups=8,
    sample_size=64,
    mid_block_add_attention=False,  # flat discs on a flat background: convolutions see enough
    force_upcast=False,
)


def build_autoencoder(**overrides) -> AutoencoderKL:
    return AutoencoderKL(**{**AUTOENCODER_CONFIG, **overrides})


def spatial_compression(vae) -> int:
    """Pixels per latent along each side: one halving per down block but the last. Takes the
    autoencoder or its config (a mapping, as read from its config.json)."""
    config = getattr(vae, "config", vae)
    return 2 ** (len(config["block_out_channels"]) - 1)


def _frames(video: torch.Tensor) -> torch.Tensor:
    """(B, C, F, H, W) -> (B*F, C, H, W)."""
    b, c, f, h, w = video.shape
    return video.permute(0, 2, 1, 3, 4).reshape(b * f, c, h, w)


def _video(frames: torch.Tensor, batch: int) -> torch.Tensor:
    """(B*F, C, H, W) -> (B, C, F, H, W)."""
    n, c, h, w = frames.shape
    return frames.reshape(batch, n // batch, c, h, w).permute(0, 2, 1, 3, 4)


def _stats(vae: AutoencoderKL, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    cfg = vae.config
    if cfg.latents_mean is None or cfg.latents_std is None:
        return torch.zeros(1), torch.ones(1)
    shape = (1, len(cfg.latents_mean), 1, 1, 1)
    mean = torch.tensor(cfg.latents_mean, dtype=like.dtype, device=like.device).view(shape)
    std = torch.tensor(cfg.latents_std, dtype=like.dtype, device=like.device).view(shape)
    return mean, std


def encode_video(vae: AutoencoderKL, video: torch.Tensor, sample_posterior: bool = False,
                 generator: torch.Generator | None = None, chunk: int = 64) -> torch.Tensor:
    """(B, 3, F, H, W) in [-1, 1] -> normalised latents (B, C, F, H/4, W/4).

    The posterior's mode by default: the DiT learns a deterministic target for each clip."""
    frames = _frames(video.to(vae.dtype))
    parts = []
    for piece in frames.split(chunk):
        dist = vae.encode(piece).latent_dist
        parts.append(dist.sample(generator) if sample_posterior else dist.mode())
    latents = _video(torch.cat(parts), video.shape[0])
    mean, std = _stats(vae, latents)
    return (latents - mean.to(latents)) / std.to(latents)


def decode_latents(vae: AutoencoderKL, latents: torch.Tensor, chunk: int = 64) -> torch.Tensor:
    """Normalised latents (B, C, F, h, w) -> video (B, 3, F, 4h, 4w) in about [-1, 1]."""
    mean, std = _stats(vae, latents)
    frames = _frames((latents * std.to(latents) + mean.to(latents)).to(vae.dtype))
    out = torch.cat([vae.decode(piece).sample for piece in frames.split(chunk)])
    return _video(out, latents.shape[0])
