"""Flow-matching training of the spacetime DiT on world clips generated on the fly.

Recipe (docs/model.md): adaLN-Zero init, x0-prediction with v-loss, logit-normal time
shifted toward noise, AdamW with warmup and clipping, EMA 0.999 with warmup, text dropout for CFG,
a random known-frame prefix so one model does text-to-video, image-to-video and continuation.
"""
from __future__ import annotations

import contextlib
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
from ..autoencoder import encode_video
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
    # Micro-batches per step: the batch is split so each fits in memory; gradients add up to the batch's.
    grad_accum: int = 1
    workers: int = 1  # DataLoader processes making clips (and latents): a GPU needs several to keep busy
    max_minutes: float = 0.0  # stop, with a checkpoint, after this much wall time (0: run to `steps`)
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


@dataclass
class NoiseDraws:
    """A step's random draws for every clip of the global batch: times, noise, known-frame mask."""
    t: torch.Tensor
    noise: torch.Tensor
    known: torch.Tensor

    def rows(self, index) -> "NoiseDraws":
        """The draws of some of the clips (a process's or a micro-batch's share)."""
        return NoiseDraws(self.t[index], self.noise[index], self.known[index])


def draw_noise(shape, gen: torch.Generator, prefix_prob: float, frame_noise: float = 0.0) -> NoiseDraws:
    """Logit-normal times (a share `frame_noise` of clips with a time per frame), Gaussian noise of
    `shape`, and a random known prefix, drawn for the whole batch so any split of it trains alike."""
    b, _, f = shape[:3]
    t = sample_frame_times(b, f, gen, frame_noise) if frame_noise > 0 else sample_time(b, gen)
    noise = torch.randn(shape, generator=gen)
    return NoiseDraws(t, noise, _known_prefix(b, f, prefix_prob, gen))


def loss_with(transformer, x0, context, draws: NoiseDraws, bf16: bool = False, motion: float = 0.0) -> torch.Tensor:
    """v-loss for given draws (known frames excluded), moving pixels weighted 1 + `motion`."""
    weight = motion_weight(x0, motion) if motion > 0 else None
    return denoising_loss(transformer, x0, context, draws.t, draws.noise, draws.known, bf16, weight)


def training_loss(transformer, x0, context, gen: torch.Generator, prefix_prob: float, bf16: bool = False,
                  motion: float = 0.0, frame_noise: float = 0.0) -> torch.Tensor:
    """v-loss at logit-normal times with a random known prefix (known frames excluded), moving pixels
    weighted 1 + `motion`, a share `frame_noise` of clips with a noise level per frame."""
    return loss_with(transformer, x0, context, draw_noise(x0.shape, gen, prefix_prob, frame_noise), bf16, motion)


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


def _optimizer_step(model, ema, opt, step: int, ema_decay: float) -> torch.Tensor:
    """Clip the (accumulated, all-reduced) gradients to norm 1, AdamW step, EMA update; returns the
    gradient norm before clipping."""
    grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    opt.zero_grad(set_to_none=True)
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


def _training_data(cfg: TrainConfig, step: int, vae, shard: tuple[int, int] = (0, 1), latent: bool = False):
    """An endless iterator of this process's share of each step's batch, deterministic by seed.

    Starting at step x batch_size is past every clip an earlier run could have drawn (mirror pairs
    draw only half as many per step), so a resume never repeats a clip, whatever the process count.
    For a latent model (`latent`), clips come in (clip, mirror) pairs, encoded in the worker by `vae`,
    or left as pixels for the trainer to encode when `vae` is None."""
    start = cfg.seed * 10_000_000 + step * cfg.batch_size
    fresh = cfg.batch_size // 2 if cfg.mirror_pairs else cfg.batch_size  # new clips per step
    if latent:
        clips = WorldLatents(vae, start, cfg.height, cfg.width, cfg.num_frames, cfg.fps, mirrors=cfg.mirror_pairs,
                             per_step=fresh, shard=shard)
        return iter(DataLoader(clips, batch_size=cfg.batch_size // shard[1], num_workers=cfg.workers))
    clips = world.WorldClips(start, cfg.height, cfg.width, cfg.num_frames, cfg.fps, per_step=fresh, shard=shard)
    return iter(DataLoader(clips, batch_size=fresh // shard[1], num_workers=cfg.workers))


def _batch_rows(cfg: TrainConfig, latent: bool, shard: tuple[int, int]) -> torch.Tensor:
    """Which rows of the global batch this process's batch holds, in its order. Latent batches are
    consecutive (clip, mirror) pairs; pixel batches are a share of clips followed by their mirrors."""
    rank, count = shard
    per = cfg.batch_size // count
    if latent or not cfg.mirror_pairs:
        return torch.arange(rank * per, (rank + 1) * per)
    half, share = cfg.batch_size // 2, per // 2
    clips = torch.arange(rank * share, (rank + 1) * share)
    return torch.cat([clips, clips + half])


def check_split(cfg: TrainConfig, processes: int) -> None:
    """The global batch must split evenly into processes x micro-batches (mirror pairs kept whole)."""
    pieces = processes * cfg.grad_accum
    unit = 2 * pieces if cfg.mirror_pairs else pieces
    if cfg.grad_accum < 1 or cfg.batch_size % unit:
        raise ValueError(f"batch_size {cfg.batch_size} must be a multiple of {unit}: {processes} process(es) x "
                         f"grad_accum {cfg.grad_accum}" + (" x 2 (mirror pairs)" if cfg.mirror_pairs else ""))


def _accelerator(cfg: TrainConfig, device: torch.device):
    """🤗 accelerate's Accelerator: one process in a plain run (nothing changes); under `accelerate
    launch` the processes form a group (gloo on CPUs, NCCL on GPUs) and DDP averages their gradients."""
    from accelerate import Accelerator

    from sorakit.distributed import release_group_at_exit

    acc = Accelerator(cpu=device.type == "cpu", device_placement=False)
    release_group_at_exit(acc.state)
    return acc


def _run(cfg: TrainConfig, resume: bool, device: torch.device) -> dict:
    acc = _accelerator(cfg, device)
    if acc.num_processes > 1:
        device = acc.device  # each process its own GPU (or the CPU)
    shard, main = (acc.process_index, acc.num_processes), acc.is_main_process
    check_split(cfg, acc.num_processes)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    raw, ema, opt = _build(cfg, device)
    ckpt, step = out / "checkpoint.safetensors", 0
    if resume and ckpt.exists():
        step, _ = load_checkpoint(ckpt, raw, ema, opt)
        if main:
            trim_log(out / "log.jsonl", step)  # steps after the checkpoint are trained (and logged) again
            print(f"resumed from {ckpt} at step {step}")
    # The learning rate re-warms from here when AdamW starts without its moments (a slim checkpoint)
    # or a cool-down may have brought it to 0; with both kept, it goes on at full rate.
    start = step if not opt.state or cfg.decay_steps else 0
    model = acc.prepare_model(raw, device_placement=False)  # DDP-wrapped when there are several processes
    vae, bf16 = _load_vae(cfg.vae), use_bf16(cfg.bf16, device)
    pipe = assemble(ema, vae=vae, num_frames=cfg.num_frames, height=cfg.height, width=cfg.width,
                    fps=cfg.fps).to(device)
    pipe.set_progress_bar_config(disable=True)
    if main and step and exported_step(out / "pipeline") != step:  # killed between checkpoint and export
        export_weights(pipe, out / "pipeline", step)
    # On a GPU (or without workers) the trainer encodes each batch itself and workers only render;
    # on the CPU a worker encodes, beside the training step on another core.
    encode_here = vae is not None and (device.type != "cpu" or cfg.workers == 0)
    data = _training_data(cfg, step, None if encode_here else vae, shard, latent=vae is not None)
    rows = _batch_rows(cfg, vae is not None, shard)
    empty = pipe.encode_text([""])
    if main:
        watch = monitor_clips(8, cfg.height, cfg.width, cfg.num_frames)
        watch_direction = direction_clips(16, cfg.height, cfg.width, cfg.num_frames)
    bar = tqdm(total=cfg.steps, initial=step, desc="train", dynamic_ncols=True, disable=not main)
    history, t_start = [], time.time()
    with open(out / "log.jsonl", "a") if main else contextlib.nullcontext() as log:
        while step < cfg.steps:
            batch = world.with_mirrors(next(data)) if cfg.mirror_pairs and vae is None else next(data)
            # Random draws come from a CPU generator, for the whole global batch, and each process takes
            # its rows: the same seed trains the same way on every device and any process count.
            gen = torch.Generator().manual_seed(cfg.seed * 1_000_003 + step)
            drop = (torch.rand(cfg.batch_size, generator=gen) < cfg.text_dropout)[rows].to(device)
            x0 = batch["video"].to(device)
            if encode_here:
                with torch.no_grad():
                    x0 = encode_video(vae, x0)
            draws = draw_noise((cfg.batch_size, *x0.shape[1:]), gen, cfg.prefix_prob, cfg.frame_noise).rows(rows)
            context = pipe.encode_text(batch["caption"])
            context = torch.where(drop[:, None, None], empty.expand_as(context), context)
            for g in opt.param_groups:
                g["lr"] = _lr_at(step, cfg, start)
            loss = _accumulate(acc, model, x0, context, draws, cfg, bf16)
            grad_norm = _optimizer_step(raw, ema, opt, step, cfg.ema_decay)
            step += 1
            loss = acc.reduce(loss, "mean").item()  # every process's share, averaged
            # Every process stops at the same step: the time limit is out when it is out for any of them.
            late = torch.tensor(float(cfg.max_minutes > 0 and time.time() - t_start > 60 * cfg.max_minutes))
            last = step == cfg.steps or bool(acc.reduce(late.to(device), "sum") > 0)
            if not main:
                if last:
                    break
                continue
            history.append(loss)
            bar.update()
            bar.set_postfix(loss=f"{np.mean(history[-50:]):.4f}")
            record = {"step": step, "loss": loss, "grad_norm": float(grad_norm),
                      "lr": opt.param_groups[0]["lr"], "elapsed": time.time() - t_start}
            if step % cfg.sample_every == 0 or last:
                videos, scores = sample_and_score(pipe, watch)
                record["monitor"] = {**scores, "direction_reliance": direction_reliance(pipe, watch_direction)}
                write_grid_gif(videos, [c.caption for c in watch], out / f"samples_{step:06d}.gif", cfg.fps)
                tqdm.write(f"step {step}: {json.dumps(record['monitor'])}")
            log.write(json.dumps(record) + "\n")
            log.flush()
            if step % cfg.checkpoint_every == 0 or last:
                save_checkpoint(ckpt, raw, ema, opt, step, asdict(cfg))
                export_weights(pipe, out / "pipeline", step)
            if last:
                break
    bar.close()
    acc.wait_for_everyone()  # the main process's last checkpoint is written before any process returns
    return {"step": step, "loss_first": history[:20], "loss_last": history[-20:]}


def _accumulate(acc, model, x0, context, draws: NoiseDraws, cfg: TrainConfig, bf16: bool) -> torch.Tensor:
    """Backward over `cfg.grad_accum` micro-batches of this process's rows; gradients are all-reduced
    between processes only after the last one. Returns the mean micro-batch loss (detached)."""
    chunks = torch.arange(len(x0)).chunk(cfg.grad_accum)
    total = torch.zeros((), device=x0.device)
    for i, idx in enumerate(chunks):
        with acc.no_sync(model) if i < len(chunks) - 1 else contextlib.nullcontext():
            loss = loss_with(model, x0[idx], context[idx], draws.rows(idx), bf16, cfg.motion_weight)
            (loss / len(chunks)).backward()
        total += loss.detach() / len(chunks)
    return total
