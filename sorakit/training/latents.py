"""World clips as autoencoder latents, made on the fly in a DataLoader worker (no disk).

The worker renders each clip and, with mirror pairs, its left-right mirror, and encodes both with
the frozen autoencoder. A latent flipped left-right is not the latent of the flipped clip (the
autoencoder's convolutions are not mirror-symmetric), so the mirror is encoded, not flipped.

Without an autoencoder the worker yields the rendered clips in the same order, for the trainer to
encode on its own device: a GPU encodes a batch in milliseconds where CPU workers take seconds, and
a module on CUDA cannot be used in a forked worker at all.
"""
from __future__ import annotations

import itertools

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from .. import world
from ..autoencoder import encode_video
from ..world.dataset import shard_seeds


class WorldLatents(IterableDataset):
    """Yields {"video": latents (C, F, h, w), "caption": str, "seed": int}; with `mirrors`, each clip is
    followed by its mirror image ("left"/"right" swapped), so consecutive items form pairs. With
    `vae=None`, "video" is the clip in model space (3, F, H, W), to be encoded by the caller."""

    def __init__(self, vae, start_seed: int = 0, height: int = 64, width: int = 64, num_frames: int = 24,
                 fps: float = 8.0, mirrors: bool = True, threads: int = 1, per_step: int = 1,
                 shard: tuple[int, int] = (0, 1)):
        self.vae, self.start_seed, self.mirrors, self.threads = vae, start_seed, mirrors, threads
        self.per_step, self.shard = per_step, shard  # this process's share of each step's clips
        self.kwargs = dict(height=height, width=width, num_frames=num_frames, fps=fps)

    def __iter__(self):
        info = get_worker_info()
        worker, workers = (info.id, info.num_workers) if info else (0, 1)
        if info is not None:
            torch.set_num_threads(self.threads)  # the trainer keeps the other cores
        for seed in itertools.islice(shard_seeds(self.start_seed, self.per_step, self.shard), worker, None, workers):
            clip = world.sample(int(seed), **self.kwargs)
            videos, captions = [clip.video], [clip.caption]
            if self.mirrors:
                videos.append(clip.video[:, :, ::-1])
                captions.append(world.mirror_caption(clip.caption))
            batch = torch.stack([world.to_model_space(np.ascontiguousarray(v)) for v in videos])
            if self.vae is not None:
                with torch.no_grad():
                    batch = encode_video(self.vae, batch)
            for video, cap in zip(batch, captions):
                yield {"video": video.contiguous(), "caption": cap, "seed": int(seed)}
