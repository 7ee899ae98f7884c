"""`sorakit eval attention`: how well word maps localize, the colour word's map against the ball's mask.

Two settings:
- teacher-forced: a world clip noised to level t (x_t = (1 - t) x0 + t noise) and denoised by one
  transformer call with its caption under capture; masks from `clip.masks`;
- generated: the model samples from a world caption; masks from `world.coverage` of the named colour
  (clips where that colour never shows are counted and skipped).
Metrics per (setting, layers, steps): mIoU of the map thresholded at 0.4 (DAAM's tau) over the clip
volume, mIoU at the single best threshold for the whole set (`best_threshold`), and the pointing game
(the argmax pixel of each frame where the ball is visible falls inside the ball). `chance` is the
pointing rate of a random pixel and the IoU of an all-ones map.
"""
from __future__ import annotations

import numpy as np
import torch
from tqdm.auto import tqdm

from .. import world
from ..attention.capture import capture, fraction_range
from .batches import map_batches

THRESHOLDS = np.round(np.linspace(0.05, 0.95, 19), 2)
DAAM_TAU = 0.4
METRICS = ("pointing", "miou@0.4", "miou_best")


def _iou(heat: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """IoU of heat >= tau with mask, for every tau in THRESHOLDS."""
    pred = heat[None] >= THRESHOLDS[:, None, None, None]
    inter = (pred & mask[None]).sum((1, 2, 3))
    union = (pred | mask[None]).sum((1, 2, 3))
    return inter / np.maximum(union, 1)


def _pointing(heat: np.ndarray, mask: np.ndarray) -> tuple[int, int]:
    visible = mask.reshape(len(mask), -1).any(1)
    flat = heat.reshape(len(heat), -1)
    hits = mask.reshape(len(mask), -1)[np.arange(len(mask)), flat.argmax(1)]
    return int(hits[visible].sum()), int(visible.sum())


class _Scores:
    def __init__(self):
        self.ious, self.hits, self.frames = [], 0, 0

    def add(self, heat, mask):
        self.ious.append(_iou(heat, mask))
        hits, frames = _pointing(heat, mask)
        self.hits, self.frames = self.hits + hits, self.frames + frames

    def extend(self, other: "_Scores") -> None:
        """Add another share's maps after this one's (in clip order, as one process would have)."""
        self.ious += other.ious
        self.hits, self.frames = self.hits + other.hits, self.frames + other.frames

    def summary(self) -> dict:
        miou = np.mean(self.ious, 0)
        best = int(miou.argmax())
        return {"miou@0.4": round(float(miou[list(THRESHOLDS).index(DAAM_TAU)]), 4),
                "miou_best": round(float(miou[best]), 4), "best_threshold": float(THRESHOLDS[best]),
                "pointing": round(self.hits / max(self.frames, 1), 4), "maps": len(self.ious)}


THIRDS = {"first third": (0, 1 / 3), "middle third": (1 / 3, 2 / 3), "last third": (2 / 3, 1)}


def _selections(num_layers: int) -> dict[str, list[int]]:
    out = {f"layer {i}": [i] for i in range(num_layers)}
    out.update({name: fraction_range(num_layers, f) for name, f in THIRDS.items()})
    out["all layers"] = list(range(num_layers))
    return out


def _score_capture(cap, targets, buckets, results, key):
    """targets: [(colour word, mask (F, H, W))]; buckets: {name: steps}; results[(key, bucket, sel)]."""
    for bucket, steps in buckets.items():
        for name, layers in _selections(cap.num_layers).items():
            for word, mask in targets:
                heat = cap.word_map(word, layers=layers, steps=steps)
                results.setdefault((key, bucket, name), _Scores()).add(heat, mask)


def clip_noises(pipe, clips, seed: int) -> list[torch.Tensor]:
    """Clip i's noise, in the space the transformer denoises (pixels or latents): the i-th draw of one
    generator seeded `seed`, so a clip gets the same noise whichever process scores it (each process
    replays the draws; they are cheap beside the model)."""
    gen = torch.Generator().manual_seed(seed)
    return [torch.randn((1, *pipe.latent_shape(*clip.video.shape[:3])), generator=gen) for clip in clips]


@torch.no_grad()
def teacher_forced_clip(pipe, clip, noise: torch.Tensor, noise_levels, results) -> None:
    """One world clip noised to each level and denoised by one transformer call under capture."""
    # what the transformer denoises: the clip itself, or a latent model's latents of it, where it runs
    device = pipe._execution_device
    x0 = pipe.encode(world.to_model_space(clip.video)[None]).to(device, pipe.transformer.dtype)
    known, mask = torch.zeros_like(x0), torch.zeros(1, 1, x0.shape[2], 1, 1, device=device)
    targets = [(c, clip.masks[:, k]) for k, c in enumerate(clip.states.color) if clip.masks[:, k].any()]
    for t in noise_levels:
        x_t = (1 - t) * x0 + t * noise.to(x0)
        with capture(pipe) as cap:
            emb = pipe.encode_text([clip.caption], device)
            pipe.predict_x0(x_t, known, mask, torch.tensor(t * 1000.0, device=device), emb, None, 1.0)
        _score_capture(cap, targets, {"one call": [0]}, results, f"t={t}")


def teacher_forced(pipe, clips, noise_levels, results, seed: int = 0):
    for clip, noise in zip(tqdm(clips, desc="teacher-forced clips"), clip_noises(pipe, clips, seed)):
        teacher_forced_clip(pipe, clip, noise, noise_levels, results)


@torch.no_grad()
def generated_clip(pipe, clip, index: int, results, num_inference_steps: int, guidance_scale: float,
                   seed: int = 0) -> int:
    """Sample from clip i's caption (seeded seed + i) under capture; returns the colours never seen."""
    buckets = {"all steps": list(range(num_inference_steps))}
    buckets.update({f"steps {name}": fraction_range(num_inference_steps, f) for name, f in THIRDS.items()})
    with capture(pipe) as cap:
        video = pipe(clip.caption, num_inference_steps=num_inference_steps, guidance_scale=guidance_scale,
                     generator=torch.Generator().manual_seed(seed + index), output_type="np").frames[0]
    targets, skipped = [], 0
    for colour in dict.fromkeys(clip.states.color):
        mask = world.coverage(video, world.COLORS[colour]) > 0.5
        if mask.any():
            targets.append((colour, mask))
        else:
            skipped += 1
    _score_capture(cap, targets, buckets, results, "generated")
    return skipped


def generated(pipe, clips, results, num_inference_steps: int, guidance_scale: float, seed: int = 0) -> int:
    """Returns how many (clip, colour) pairs were skipped because the colour never appeared."""
    return sum(generated_clip(pipe, clip, i, results, num_inference_steps, guidance_scale, seed)
               for i, clip in enumerate(tqdm(clips, desc="generated clips")))


def _chance(clips) -> dict:
    masks = [clip.masks[:, k] for clip in clips for k in range(clip.masks.shape[1])]
    visible = [m[m.reshape(len(m), -1).any(1)] for m in masks]
    return {"pointing": round(float(np.mean([m.mean() for v in visible for m in v])), 4),
            "iou_all_ones": round(float(np.mean([m.mean() for m in masks])), 4)}


def spread(n: int, m: int) -> list[int]:
    """Jobs 0..n-1 (one kind) and n..n+m-1 (another) interleaved evenly, each kind in its own order."""
    keys = [((i + 0.5) / n, i) for i in range(n)] + [((j + 0.5) / m, n + j) for j in range(m)]
    return [job for _, job in sorted(keys)]


def localization(pipe, n: int = 32, noise_levels=(0.25, 0.5, 0.75, 0.95), n_generated: int = 8,
                 num_inference_steps: int = 20, guidance_scale: float = 4.0, seed: int = 10**6,
                 progress: bool = True) -> dict:
    """Localization of colour-word maps on `n` world clips (teacher-forced) and `n_generated` samples.

    Under `accelerate launch` each process scores a contiguous share of the clips (each clip's noise
    and seed are its own, see `clip_noises`), and every process returns the same result.

    -> {"teacher_forced": {"t=0.5": {"layer 3": {miou@0.4, miou_best, best_threshold, pointing, maps}, ...}},
        "generated": {"last third": {...}, ...}, "skipped_generated": int, "chance": {...}}
    """
    if not isinstance(n, int) or n < 1 or not isinstance(n_generated, int) or n_generated < 0:
        raise ValueError(f"n must be >= 1 and n_generated >= 0 (ints), got n={n!r}, n_generated={n_generated!r}")
    if not noise_levels or not all(0 < t <= 1 for t in noise_levels):
        raise ValueError(f"noise_levels must be in (0, 1], got {noise_levels!r}")
    cfg = pipe.config
    sample = lambda s: world.sample(s, height=cfg.height, width=cfg.width, num_frames=cfg.num_frames, fps=cfg.fps)  # noqa: E731
    clips = [sample(seed + i) for i in range(n)]
    prompts = [sample(seed + n + i) for i in range(n_generated)]
    noises = clip_noises(pipe, clips, seed)

    def scored(job: int) -> list[tuple[dict, int]]:  # job j < n: teacher-forced clip j; else sampled clip j - n
        part: dict = {}
        if job < n:
            teacher_forced_clip(pipe, clips[job], noises[job], noise_levels, part)
            return [(part, 0)]
        i = job - n
        return [(part, generated_clip(pipe, prompts[i], i, part, num_inference_steps, guidance_scale, seed))]

    # A sampled clip costs many teacher-forced ones: spread them through the list, so that every
    # process's contiguous share holds its part of each kind; the results go back to job order.
    order = spread(n, n_generated)
    done = map_batches(pipe, lambda k: scored(order[k]), len(order), "attention eval", progress)
    by_job = dict(zip(order, done))
    results: dict = {}
    skipped = 0
    for job in range(len(order)):  # clip order, as one process would add them: the same means
        part, missed = by_job[job]
        skipped += missed
        for key, scores in part.items():
            results.setdefault(key, _Scores()).extend(scores)
    out: dict = {"teacher_forced": {}, "generated": {}, "skipped_generated": skipped, "chance": _chance(clips)}
    for (key, bucket, name), scores in results.items():
        setting = out["generated"].setdefault(bucket, {}) if key == "generated" else \
            out["teacher_forced"].setdefault(key, {})
        setting[name] = scores.summary()
    return out


def table(result: dict, metric: str = "pointing") -> str:
    """Markdown table of one metric: rows = layer selections, columns = noise levels / step ranges."""
    columns = [(k, v) for k, v in result["teacher_forced"].items()]
    columns += [(f"gen {k}", v) for k, v in result["generated"].items()]
    rows = list(columns[0][1])
    lines = ["| layers | " + " | ".join(name for name, _ in columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for row in rows:
        lines.append(f"| {row} | " + " | ".join(f"{col[row][metric]:.2f}" for _, col in columns) + " |")
    return "\n".join(lines)


def tables(result: dict) -> str:
    """The three metrics' tables, one after another, each under its name."""
    return "\n\n".join(f"{metric}\n{table(result, metric)}" for metric in METRICS)


def main(argv=None):
    """`python -m sorakit.eval.attention [MODEL] [--n N] [--generated N]`: JSON, then the tables."""
    import argparse
    import json

    from ..loading import load

    parser = argparse.ArgumentParser(description="Localization of colour-word attention maps (JSON + tables)")
    parser.add_argument("model", nargs="?", default=None, help="model folder (default: the shipped model)")
    parser.add_argument("--n", type=int, default=32, help="world clips for the teacher-forced setting")
    parser.add_argument("--generated", type=int, default=8, help="sampled clips for the generated setting")
    args = parser.parse_args(argv)
    pipe = load(args.model)
    pipe.set_progress_bar_config(disable=True)
    result = localization(pipe, n=args.n, n_generated=args.generated)
    print(json.dumps(result, indent=1))
    print("\n" + tables(result))


if __name__ == "__main__":
    main()
