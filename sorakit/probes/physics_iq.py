"""Physics-IQ's motion metrics between a generated continuation and the real one.

Motamed et al. 2025, "Do generative video models understand physical principles?" (the Physics-IQ
benchmark, github.com/google-deepmind/physics-IQ-benchmark). Model-free: both clips are compared
through binary motion masks, made as the benchmark's `code/binary_mask_generator.py` makes them:

    gray = GaussianBlur(grey(frame), 5x5)                       uint8
    avg  = gray of frame 0, then per frame avg <- 0.7 avg + 0.3 gray  (cv2.accumulateWeighted, 0.3)
    mask = |gray - uint8(avg)| > 10, then a 5x5 opening, then a 5x5 closing; frame 0's mask is empty

and scored as `code/calculate_and_write_metrics_to_csv.py` and `code/calculate_iq_score.py` do:

- spatial IoU: IoU of the masks collapsed over time (a pixel moved in any frame); 1 when both are empty;
- spatiotemporal IoU: per-frame IoU of the masks (1 for a frame where both are empty), averaged over frames;
- weighted spatial IoU: each mask's per-pixel fraction of frames with motion; sum(min) / sum(max)
  over the pixels that moved in either, 1 when none did;
- MSE: per-frame mean squared difference of the frames in [0, 1] (all channels), averaged over frames.

The benchmark reads its clips from mp4 and scores them at a quarter of their resolution; here the
clips are compared as given, at any resolution (both the same shape). Its final Physics-IQ score
also needs the physical variance between two real takes, which a single reference cannot give.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from .inputs import as_video

BLUR = (5, 5)
ALPHA = 0.3  # accumulateWeighted's rate for the running background
THRESHOLD = 10  # grey levels (0-255)
KERNEL = 5  # the opening and closing's square


@dataclass
class PhysicsIQResult:
    spatial_iou: float
    spatiotemporal_iou: float
    weighted_spatial_iou: float
    mse: float
    per_frame: dict = field(default_factory=dict, repr=False)  # "spatiotemporal_iou", "mse": lists over frames

    def to_dict(self) -> dict:
        return {"spatial_iou": self.spatial_iou, "spatiotemporal_iou": self.spatiotemporal_iou,
                "weighted_spatial_iou": self.weighted_spatial_iou, "mse": self.mse,
                "per_frame": {k: list(map(float, v)) for k, v in self.per_frame.items()}}


def _as_clip(name: str, video) -> np.ndarray:
    """-> uint8 (F, H, W, 3), checked as every probe checks a clip (`as_video`), named in errors."""
    try:
        frames = as_video(video)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None
    return np.round(frames * 255).astype(np.uint8)  # exact for uint8 input


def motion_masks(video, threshold: int = THRESHOLD) -> np.ndarray:
    """(F, H, W) bool: Physics-IQ's motion mask of each frame (frame differencing against a running average)."""
    clip = _as_clip("video", video)
    kernel = np.ones((KERNEL, KERNEL), np.uint8)
    masks = np.zeros(clip.shape[:3], bool)
    avg = None
    for f, frame in enumerate(clip):
        gray = cv2.GaussianBlur(cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY), BLUR, 0)
        if avg is None:  # the first frame starts the background; its mask stays empty
            avg = gray.astype(np.float64)
            continue
        cv2.accumulateWeighted(gray, avg, ALPHA)
        diff = cv2.absdiff(gray, cv2.convertScaleAbs(avg))
        _, binary = cv2.threshold(diff, threshold, 255, cv2.THRESH_BINARY)
        binary = cv2.morphologyEx(binary, cv2.MORPH_OPEN, kernel)
        masks[f] = cv2.morphologyEx(binary, cv2.MORPH_CLOSE, kernel) > 0
    return masks


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return 1.0 if union == 0 else float(np.logical_and(a, b).sum() / union)


def physics_iq(generated, reference, threshold: int = THRESHOLD) -> PhysicsIQResult:
    """Physics-IQ's spatial IoU, spatiotemporal IoU, weighted spatial IoU (higher is better, 1 at
    best) and MSE (lower is better, 0 at best) of `generated` against `reference`.

    Both clips: (F, H, W, 3) RGB, uint8 or float in [0, 1] (numpy or torch, as every probe takes
    them), the same shape. threshold: the motion
    masks' grey-level threshold (the benchmark's 10 of 255).
    """
    gen, ref = _as_clip("generated", generated), _as_clip("reference", reference)
    if gen.shape != ref.shape:
        raise ValueError(f"generated and reference must have the same shape, got {gen.shape} and {ref.shape}")
    if isinstance(threshold, bool) or not isinstance(threshold, (int, np.integer)) or not 0 <= threshold < 255:
        raise ValueError(f"threshold must be an integer grey level in [0, 254], got {threshold!r}")
    mg, mr = motion_masks(gen, threshold), motion_masks(ref, threshold)
    per_frame_iou = [_iou(a, b) for a, b in zip(mg, mr)]
    wg, wr = mg.mean(0), mr.mean(0)  # fraction of frames with motion, per pixel
    moved = np.maximum(wg, wr) > 0
    weighted = 1.0 if not moved.any() else float(np.minimum(wg, wr)[moved].sum() / np.maximum(wg, wr)[moved].sum())
    diff = gen.astype(np.float32) / 255 - ref.astype(np.float32) / 255
    per_frame_mse = (diff**2).mean(axis=(1, 2, 3))
    return PhysicsIQResult(_iou(mg.any(0), mr.any(0)), float(np.mean(per_frame_iou)), weighted,
                           float(per_frame_mse.mean()),
                           {"spatiotemporal_iou": per_frame_iou, "mse": per_frame_mse.tolist()})
