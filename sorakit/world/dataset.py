"""An endless, deterministic stream of training clips, generated on the fly (no disk)."""
from __future__ import annotations

import itertools

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from .captions import mirror_caption
from .clip import sample


def to_model_space(video: np.ndarray) -> torch.Tensor:
    """(F, H, W, 3) in [0, 1] -> (3, F, H, W) in [-1, 1], the layout diffusers video models use."""
    return torch.from_numpy(np.ascontiguousarray(video.transpose(3, 0, 1, 2))) * 2 - 1


def shard_seeds(start: int, per_step: int = 1, shard: tuple[int, int] = (0, 1)):
    """Seeds start, start+1, ...: each training step takes the next `per_step`, and process `rank` of
    `count` (shard) keeps its contiguous share of them, so the processes together draw what one would."""
    rank, count = shard
    if per_step % count:
        raise ValueError(f"{per_step} clips per step do not split evenly between {count} processes")
    return (s for s in itertools.count(start) if (s - start) % per_step * count // per_step == rank)


class WorldClips(IterableDataset):
    """Yields {"video": (3, F, H, W) in [-1, 1], "caption": str, "seed": int} for seeds start, start+1, ...

    Seeds are split across DataLoader workers so no clip repeats; `constraints` pin scene facts.
    With `shard` (rank, count), only this process's share of each step's `per_step` seeds (see shard_seeds).
    """

    def __init__(self, start_seed: int = 0, height: int = 32, width: int = 32, num_frames: int = 16,
                 fps: float = 8.0, limit: int | None = None, per_step: int = 1,
                 shard: tuple[int, int] = (0, 1), **constraints):
        self.start_seed, self.limit, self.per_step, self.shard = start_seed, limit, per_step, shard
        self.kwargs = dict(height=height, width=width, num_frames=num_frames, fps=fps, audio=False, **constraints)

    def __iter__(self):
        info = get_worker_info()
        worker, workers = (info.id, info.num_workers) if info else (0, 1)
        seeds = itertools.islice(shard_seeds(self.start_seed, self.per_step, self.shard), worker, None, workers)
        if self.limit is not None:
            seeds = itertools.islice(seeds, (self.limit - worker + workers - 1) // workers)
        for seed in seeds:
            clip = sample(int(seed), **self.kwargs)
            yield {"video": to_model_space(clip.video), "caption": clip.caption, "seed": int(seed)}


def with_mirrors(batch: dict) -> dict:
    """The batch followed by its left-right mirror images (video flipped, "left"/"right" swapped).

    The world is mirror-symmetric (vertical gravity, symmetric walls), so a mirrored clip is a true
    clip of the mirrored caption. Each pair differs only in direction, so the direction word is the
    one thing that can tell the model which of the two to draw.
    """
    return {"video": torch.cat([batch["video"], batch["video"].flip(-1)]),
            "caption": list(batch["caption"]) + [mirror_caption(c) for c in batch["caption"]],
            "seed": torch.cat([torch.as_tensor(batch["seed"])] * 2)}
