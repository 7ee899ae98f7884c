"""Flow-matching training of the spacetime DiT on world clips generated on the fly.

Recipe (docs/model.md): adaLN-Zero init, x0-prediction with v-loss, logit-normal time
shifted toward noise, AdamW with warmup and clipping, EMA 0.999 with warmup, text dropout for CFG,
a random known-frame prefix so one model does text-to-video, image-to-video and continuation.
"""
from __future__ import annotations

import copy
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from .. import world
from ..flow import denoising_loss, motion_weight, sample_frame_times, sample_time
from ..loading import assemble, resolve_device
from ..model import LATENT_TRANSFORMER_CONFIG, TRANSFORMER_CONFIG, build_transformer
from ..world.preview import write_grid_gif
from .checkpoint import export_weights, exported_step, load_checkpoint, save_checkpoint, trim_log
from .latents import WorldLatents
from .monitor import direction_clips, direction_reliance, monitor_clips, sample_and_score
from .process_state import restored_process_state


@dataclass
class TrainConfig:
    out: str = "runs/model"
    steps: int = 4000
    batch_size: int = 16
    lr: float = 5e-4
    warmup: int = 100
    decay_steps: int = 0  # warmup-stable-decay: lr falls linearly to 0 over the last decay_steps steps
    ema_decay: float = 0.999
    text_dropout: float = 0.1
    prefix_prob: float = 0.3  # share of clips that get 1..F/2 known leading frames
    # Half of each batch is the other half mirrored with "left"/"right" swapped, so within a pair only
    # the direction word tells the two clips apart. (Alone the pairs did not get the model to read the
    # word; with MiniLM's layer 0 among the text inputs they did: docs/model.md.)
    mirror_pairs: bool = True
    # Extra loss weight on pixels that change between frames (a moving ball is ~6 % of pixels, so its
    # motion is a small share of a plain mean). 0 = plain mean, as the shipped model was trained so far.
    motion_weight: float = 0.0
    # Share of clips whose frames get independent noise levels (diffusion forcing); 0 = one time per clip.
    frame_noise: float = 0.0
    # A trained autoencoder folder (diffusers AutoencoderKL, e.g. runs/autoencoder/vae): the DiT then
    # learns its latents instead of pixels. Empty: pixel space, as the first shipped model.
    vae: str = ""
    num_frames: int = 16
    height: int = 32
    width: int = 32
    fps: float = 8.0
    seed: int = 0
    threads: int = 2
    device: str = "auto"  # "cpu", "cuda", "cuda:1", ...; "auto": CUDA when torch sees a GPU
    sample_every: int = 250
    checkpoint_every: int = 50
    # bf16 autocast for matmuls (fp32 weights): "auto" uses it where the hardware runs bf16 natively (CUDA,
    # CPUs with AVX512-BF16 or AMX: ~25 % faster steps); on an AVX2-only CPU it made steps ~10x slower.
    bf16: str = "auto"
    transformer: dict | None = None  # None: the shipped size for pixels or for latents

    def __post_init__(self):
        if self.transformer is None:
            self.transformer = dict(LATENT_TRANSFORMER_CONFIG if self.vae else TRANSFORMER_CONFIG)


def _ema_update(ema, model, step: int, decay: float) -> None:
    d = min(decay, (1 + step) / (10 + step))  # warm-up: early EMA tracks the fast-moving weights
    with torch.no_grad():
        for e, p in zip(ema.parameters(), model.parameters()):
            e.lerp_(p, 1 - d)


def _lr_at(step: int, cfg: TrainConfig, start: int = 0) -> float:
    """Warmup from `start` (the resume step), then constant, then (optionally) a linear cool-down
    to 0 at `cfg.steps`.

    The constant phase lets a run be extended by resuming; the cool-down is what sharpens samples.
    Re-warming on resume keeps a jump from a cooled-down lr of 0 back to full lr from kicking the weights.
    """
    warm = min(1.0, (step - start + 1) / cfg.warmup)
    cool = min(1.0, (cfg.steps - step) / cfg.decay_steps) if cfg.decay_steps > 0 else 1.0
    return cfg.lr * warm * max(cool, 0.0)


def _known_prefix(batch: int, frames: int, prob: float, gen: torch.Generator) -> torch.Tensor:
    """(B, 1, F, 1, 1) mask of given leading frames: none for most clips, 1..F/2 for a share."""
    lengths = torch.randint(1, frames // 2 + 1, (batch,), generator=gen)
    lengths = torch.where(torch.rand(batch, generator=gen) < prob, lengths, torch.zeros_like(lengths))
    return (torch.arange(frames)[None] < lengths[:, None]).float().view(batch, 1, frames, 1, 1)


def training_loss(transformer, x0, context, gen: torch.Generator, prefix_prob: float, bf16: bool = False,
                  motion: float = 0.0, frame_noise: float = 0.0) -> torch.Tensor:
    """v-loss at logit-normal times with a random known prefix (known frames excluded), moving pixels
    weighted 1 + `motion`, a share `frame_noise` of clips with a noise level per frame."""
    b, _, f = x0.shape[:3]
    t = sample_frame_times(b, f, gen, frame_noise) if frame_noise > 0 else sample_time(b, gen)
    noise = torch.randn(x0.shape, generator=gen)
    weight = motion_weight(x0, motion) if motion > 0 else None
    return denoising_loss(transformer, x0, context, t, noise, _known_prefix(b, f, prefix_prob, gen), bf16, weight)


def train(cfg: TrainConfig, resume: bool = True) -> dict:
    """Train (or resume) the run in `cfg.out` on `cfg.device`.

    The process is left as it was found: the torch thread count and the global RNG states (torch,
    the training GPU's, numpy, random) are restored when training returns or fails.
    """
    if cfg.mirror_pairs and cfg.batch_size % 2:
        raise ValueError(f"mirror_pairs needs an even batch_size, got {cfg.batch_size}")
    device = resolve_device(cfg.device)
    with _kept_gpu_rng(device), restored_process_state(cfg.threads, cfg.seed):  # save before seeding
        return _run(cfg, resume, device)


def _kept_gpu_rng(device: torch.device):
    """torch.manual_seed also seeds the GPUs; the training GPU's generator is put back afterwards."""
    return torch.random.fork_rng(devices=[device.index or 0] if device.type == "cuda" else [])


def _build(cfg: TrainConfig, device: torch.device):
    """Model, EMA copy and optimizer on `device`; the weights are drawn on the CPU, so a seed gives the
    same initial model on every device."""
    model = build_transformer(**cfg.transformer).to(device).train()
    ema = copy.deepcopy(model).eval().requires_grad_(False)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, betas=(0.9, 0.95), weight_decay=0.0)
    return model, ema, opt


def _optimizer_step(model, ema, opt, loss: torch.Tensor, step: int, ema_decay: float) -> torch.Tensor:
    """Backward, clip to norm 1, AdamW step, EMA update; returns the gradient norm before clipping."""
    opt.zero_grad(set_to_none=True)
    loss.backward()
    grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    _ema_update(ema, model, step, ema_decay)
    return grad_norm


def use_bf16(setting: str | bool, device: torch.device) -> bool:
    """"on"/"off" (or a bool) as given; "auto": only where bf16 matmuls are native."""
    if isinstance(setting, bool) or setting in ("on", "off"):
        return setting in (True, "on")
    if setting != "auto":
        raise ValueError(f"bf16 must be 'auto', 'on' or 'off', got {setting!r}")
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    cpu = torch.cpu
    return bool(getattr(cpu, "_is_avx512_bf16_supported", lambda: False)()
                or getattr(cpu, "_is_amx_tile_supported", lambda: False)())


def _load_vae(path: str):
    """The frozen autoencoder of a latent model, or None for pixel space."""
    if not path:
        return None
    from diffusers import AutoencoderKL

    return AutoencoderKL.from_pretrained(path, use_safetensors=True).eval().requires_grad_(False)


def _training_data(cfg: TrainConfig, step: int, vae):
    """An endless iterator of batches, deterministic by seed. Starting at step x batch_size is past every
    clip an earlier run could have drawn (mirror pairs draw only half as many per step), so a resume
    never repeats a clip. Latents are made in the worker, mirrors included (pairs are consecutive)."""
    start = cfg.seed * 10_000_000 + step * cfg.batch_size
    if vae is not None:
        clips = WorldLatents(vae, start, cfg.height, cfg.width, cfg.num_frames, cfg.fps, mirrors=cfg.mirror_pairs)
        return iter(DataLoader(clips, batch_size=cfg.batch_size, num_workers=1))
    fresh = cfg.batch_size // 2 if cfg.mirror_pairs else cfg.batch_size  # new clips per step
    clips = world.WorldClips(start, cfg.height, cfg.width, cfg.num_frames, cfg.fps)
    return iter(DataLoader(clips, batch_size=fresh, num_workers=1))


def _run(cfg: TrainConfig, resume: bool, device: torch.device) -> dict:
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    model, ema, opt = _build(cfg, device)
    ckpt, step = out / "checkpoint.safetensors", 0
    if resume and ckpt.exists():
        step, _ = load_checkpoint(ckpt, model, ema, opt)
        trim_log(out / "log.jsonl", step)  # steps after the checkpoint are trained (and logged) again
        print(f"resumed from {ckpt} at step {step}")
    # The learning rate re-warms from here when AdamW starts without its moments (a slim checkpoint)
    # or a cool-down may have brought it to 0; with both kept, it goes on at full rate.
    start = step if not opt.state or cfg.decay_steps else 0
    vae, bf16 = _load_vae(cfg.vae), use_bf16(cfg.bf16, device)
    pipe = assemble(ema, vae=vae, num_frames=cfg.num_frames, height=cfg.height, width=cfg.width,
                    fps=cfg.fps).to(device)
    pipe.set_progress_bar_config(disable=True)
    if step and exported_step(out / "pipeline") != step:  # killed between checkpoint and export
        export_weights(pipe, out / "pipeline", step)
    data = _training_data(cfg, step, vae)
    empty = pipe.encode_text([""])
    watch = monitor_clips(8, cfg.height, cfg.width, cfg.num_frames)
    watch_direction = direction_clips(16, cfg.height, cfg.width, cfg.num_frames)
    bar = tqdm(total=cfg.steps, initial=step, desc="train", dynamic_ncols=True)
    history, t_start = [], time.time()
    with open(out / "log.jsonl", "a") as log:
        while step < cfg.steps:
            batch = world.with_mirrors(next(data)) if cfg.mirror_pairs and vae is None else next(data)
            # Random draws come from a CPU generator: the same seed trains the same way on every device.
            gen = torch.Generator().manual_seed(cfg.seed * 1_000_003 + step)
            context = pipe.encode_text(batch["caption"])
            drop = (torch.rand(len(context), generator=gen) < cfg.text_dropout).to(device)
            context = torch.where(drop[:, None, None], empty.expand_as(context), context)
            for g in opt.param_groups:
                g["lr"] = _lr_at(step, cfg, start)
            loss = training_loss(model, batch["video"], context, gen, cfg.prefix_prob, bf16, cfg.motion_weight,
                                 cfg.frame_noise)
            grad_norm = _optimizer_step(model, ema, opt, loss, step, cfg.ema_decay)
            step += 1
            history.append(loss.item())
            bar.update()
            bar.set_postfix(loss=f"{np.mean(history[-50:]):.4f}")
            record = {"step": step, "loss": loss.item(), "grad_norm": float(grad_norm),
                      "lr": opt.param_groups[0]["lr"], "elapsed": time.time() - t_start}
            if step % cfg.sample_every == 0 or step == cfg.steps:
                videos, scores = sample_and_score(pipe, watch)
                record["monitor"] = {**scores, "direction_reliance": direction_reliance(pipe, watch_direction)}
                write_grid_gif(videos, [c.caption for c in watch], out / f"samples_{step:06d}.gif", cfg.fps)
                tqdm.write(f"step {step}: {json.dumps(record['monitor'])}")
            log.write(json.dumps(record) + "\n")
            log.flush()
            if step % cfg.checkpoint_every == 0 or step == cfg.steps:
                save_checkpoint(ckpt, model, ema, opt, step, asdict(cfg))
                export_weights(pipe, out / "pipeline", step)
    bar.close()
    return {"step": step, "loss_first": history[:20], "loss_last": history[-20:]}

