"""A generation recipe (everything that decides a clip) and a small cache of recent results.

Same recipe, same weights -> bit-identical frames, so the Attention and Physics tabs reproduce the
clip the Generate button made from the same inputs; the cache lets them skip sampling again.
"""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Recipe:
    prompt: str
    negative_prompt: str
    seed: int
    steps: int
    guidance: float
    frames: int
    first_frame: np.ndarray | None = field(default=None, compare=False, repr=False)

    @property
    def first_frame_sha(self) -> str | None:
        if self.first_frame is None:
            return None
        return hashlib.sha256(np.ascontiguousarray(self.first_frame).tobytes()).hexdigest()[:16]

    @property
    def key(self) -> tuple:
        return (self.prompt, self.negative_prompt, self.seed, self.steps, self.guidance, self.frames,
                self.first_frame_sha)

    def metadata(self) -> dict[str, Any]:
        """What export() stores inside the mp4, so a downloaded clip says how it was made."""
        return {"prompt": self.prompt, "negative_prompt": self.negative_prompt, "seed": self.seed,
                "steps": self.steps, "guidance": self.guidance, "frames": self.frames,
                "first_frame_sha256": self.first_frame_sha, "source": "sorakit demo"}

    def run(self, pipe) -> np.ndarray:
        """Sample the clip: (F, H, W, 3) float32 in [0, 1]."""
        import torch

        frames = None if self.first_frame is None else self.first_frame[None]
        out = pipe(self.prompt, negative_prompt=self.negative_prompt or None, frames=frames,
                   num_frames=self.frames, num_inference_steps=self.steps, guidance_scale=self.guidance,
                   generator=torch.Generator().manual_seed(self.seed), output_type="np")
        return np.asarray(out.frames[0])


class ResultCache:
    """Thread-safe LRU: recipe key -> dict of results (e.g. {"video": ..., "capture": ...})."""

    def __init__(self, size: int = 8):
        self.size = size
        self._items: OrderedDict[tuple, dict] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> dict:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return dict(self._items[key])
            return {}

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def put(self, key: tuple, **values) -> None:
        with self._lock:
            entry = self._items.pop(key, {})
            entry.update(values)
            self._items[key] = entry
            while len(self._items) > self.size:
                self._items.popitem(last=False)
