"""Training of the per-frame video autoencoder on world frames generated on the fly.

The loss is a per-pixel MSE in which ball pixels weigh `ball_weight` times more: balls cover ~3 %
of a frame, and a reconstruction that blurs or shifts them keeps a good PSNR while breaking every
physics measurement. A tiny KL term keeps the latent space smooth for the DiT.
"""
from __future__ import annotations

import copy
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, IterableDataset, get_worker_info
from tqdm.auto import tqdm

from .. import world
from ..autoencoder import AUTOENCODER_CONFIG, build_autoencoder
from .checkpoint import load_checkpoint, save_checkpoint, trim_log
from .loop import _lr_at, _optimizer_step
from .process_state import restored_process_state


@dataclass
class AutoencoderConfig:
    out: str = "runs/autoencoder"
    steps: int = 2500
    clips_per_step: int = 8
    frames_per_clip: int = 4
    lr: float = 1e-3
    warmup: int = 100
    decay_steps: int = 500
    ema_decay: float = 0.995
    ball_weight: float = 20.0
    kl_weight: float = 1e-6
    height: int = 64
    width: int = 64
    num_frames: int = 24
    fps: float = 8.0
    seed: int = 0
    threads: int = 1
    checkpoint_every: int = 100
    autoencoder: dict = field(default_factory=lambda: dict(AUTOENCODER_CONFIG))


class WorldFrames(IterableDataset):
    """Yields {"frames": (k, 3, H, W) in [-1, 1], "balls": (k, 1, H, W) 0/1} from clips seed, seed+1, ..."""

    def __init__(self, start_seed: int, cfg: AutoencoderConfig):
        self.start_seed, self.cfg = start_seed, cfg

    def __iter__(self):
        info = get_worker_info()
        worker, workers = (info.id, info.num_workers) if info else (0, 1)
        cfg = self.cfg
        seed = self.start_seed + worker
        while True:
            clip = world.sample(seed, height=cfg.height, width=cfg.width, num_frames=cfg.num_frames, fps=cfg.fps)
            pick = np.random.default_rng(seed).choice(len(clip.video), cfg.frames_per_clip, replace=False)
            video = torch.from_numpy(clip.video[pick]).permute(0, 3, 1, 2) * 2 - 1
            balls = torch.from_numpy(clip.masks[pick].any(1)[:, None].astype(np.float32))
            yield {"frames": video, "balls": balls}
            seed += workers


def ball_weights(balls: torch.Tensor, weight: float) -> torch.Tensor:
    """1 on background, 1 + weight on ball pixels and a 1-pixel ring around them (the edges that
    carry the sub-pixel position)."""
    ring = F.max_pool2d(balls, 3, stride=1, padding=1)
    return 1 + weight * ring


def autoencoder_loss(vae, frames: torch.Tensor, balls: torch.Tensor, cfg: AutoencoderConfig,
                     gen: torch.Generator | None = None) -> tuple[torch.Tensor, dict]:
    dist = vae.encode(frames).latent_dist
    recon = vae.decode(dist.sample(gen)).sample
    w = ball_weights(balls, cfg.ball_weight)
    mse = ((recon - frames) ** 2 * w).sum() / (w.sum() * frames.shape[1])
    kl = dist.kl().mean() / np.prod(frames.shape[1:])
    ball_mse = (((recon - frames) ** 2).mean(1, keepdim=True) * balls).sum() / balls.sum().clamp_min(1)
    return mse + cfg.kl_weight * kl, {"mse": mse.item(), "kl": kl.item(), "ball_mse": ball_mse.item()}


def train_autoencoder(cfg: AutoencoderConfig, resume: bool = True) -> dict:
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    with restored_process_state(cfg.threads, cfg.seed):
        model = build_autoencoder(**cfg.autoencoder).train()
        ema = copy.deepcopy(model).eval().requires_grad_(False)
        opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, betas=(0.9, 0.99), weight_decay=0.0)
        ckpt, step = out / "checkpoint.safetensors", 0
        if resume and ckpt.exists():
            step, _ = load_checkpoint(ckpt, model, ema, opt)
            trim_log(out / "log.jsonl", step)  # steps after the checkpoint are trained (and logged) again
            print(f"resumed from {ckpt} at step {step}")
        start = step
        data = iter(DataLoader(WorldFrames(cfg.seed * 10_000_000 + step * cfg.clips_per_step, cfg),
                               batch_size=cfg.clips_per_step, num_workers=1))
        log = open(out / "log.jsonl", "a")
        bar = tqdm(total=cfg.steps, initial=step, desc="autoencoder", dynamic_ncols=True)
        t0, history = time.time(), []
        while step < cfg.steps:
            batch = next(data)
            frames, balls = batch["frames"].flatten(0, 1), batch["balls"].flatten(0, 1)
            for g in opt.param_groups:
                g["lr"] = _lr_at(step, cfg, start)
            gen = torch.Generator().manual_seed(cfg.seed * 1_000_003 + step)
            loss, parts = autoencoder_loss(model, frames, balls, cfg, gen)
            loss.backward()
            grad_norm = _optimizer_step(model, ema, opt, step, cfg.ema_decay)
            step += 1
            history.append(parts["ball_mse"])
            bar.update()
            bar.set_postfix(ball_mse=f"{np.mean(history[-50:]):.5f}")
            log.write(json.dumps({"step": step, **parts, "grad_norm": float(grad_norm),
                                  "lr": opt.param_groups[0]["lr"], "elapsed": time.time() - t0}) + "\n")
            log.flush()
            if step % cfg.checkpoint_every == 0 or step == cfg.steps:
                save_checkpoint(ckpt, model, ema, opt, step, asdict(cfg))
                ema.save_pretrained(out / "vae", safe_serialization=True)
        bar.close()
        log.close()
    return {"step": step, "ball_mse_last": float(np.mean(history[-50:])) if history else None}


@torch.no_grad()
def latent_statistics(vae, n: int = 64, seed: int = 0, height: int = 64, width: int = 64,
                      num_frames: int = 24) -> tuple[list[float], list[float]]:
    """Per-channel mean and std of the raw latents (posterior modes) of `n` world clips."""
    from ..autoencoder import _frames

    parts = []
    for k in range(n):
        clip = world.sample(seed + k, height=height, width=width, num_frames=num_frames)
        video = world.to_model_space(clip.video)[None]
        parts.append(vae.encode(_frames(video)).latent_dist.mode())
    latents = torch.cat(parts)
    return latents.mean((0, 2, 3)).tolist(), latents.std((0, 2, 3)).tolist()


def export_autoencoder(run: str | Path, folder: str | Path, n: int = 64) -> dict:
    """The run's EMA autoencoder with its latent statistics in the config: what a latent DiT trains on."""
    from diffusers import AutoencoderKL

    vae = AutoencoderKL.from_pretrained(Path(run) / "vae", use_safetensors=True).eval()
    vae.register_to_config(latents_mean=None, latents_std=None)
    mean, std = latent_statistics(vae, n)
    vae.register_to_config(latents_mean=mean, latents_std=std)
    vae.save_pretrained(folder, safe_serialization=True)
    return {"latents_mean": mean, "latents_std": std}
