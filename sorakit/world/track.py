"""Parse a clip back into per-object tracks by colour segmentation.

Every pixel is explained as background blended with one palette colour: its coverage is the
projection of (pixel - background) onto (colour - background), kept where the residual is small.
The coverage-weighted centroid gives sub-pixel positions on anti-aliased renders.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .render import BACKGROUND, Camera
from .scene import COLORS


@dataclass
class Track:
    color: str
    present: np.ndarray  # (F,) bool
    pos: np.ndarray  # (F, 2) world units, NaN where absent
    radius: np.ndarray  # (F,) world units from the covered area, NaN where absent
    area: np.ndarray  # (F,) covered pixels (sum of coverage)
    components: np.ndarray  # (F,) connected blobs of this colour: 1 for a whole ball

    def to_dict(self) -> dict:
        return {k: np.asarray(v).tolist() for k, v in vars(self).items()}


def coverage(video: np.ndarray, rgb, tolerance: float = 0.18) -> np.ndarray:
    """(F, H, W) in [0, 1]: how much of each pixel the colour `rgb` explains."""
    axis = np.asarray(rgb, np.float32) - BACKGROUND
    rel = video - BACKGROUND
    alpha = np.clip(rel @ axis / (axis @ axis), 0, 1)
    residual = np.linalg.norm(rel - alpha[..., None] * axis, axis=-1)
    return np.where(residual < tolerance, alpha, 0.0).astype(np.float32)


def _check_video(video) -> np.ndarray:
    video = np.asarray(video)
    if video.ndim != 4 or video.shape[-1] != 3 or video.shape[0] < 1:
        raise ValueError(f"video must have shape (F, H, W, 3) with F >= 1, got {video.shape}")
    if video.dtype == np.uint8:
        return video.astype(np.float32) / 255
    video = video.astype(np.float32)
    if not np.isfinite(video).all() or video.min() < -1e-3 or video.max() > 1 + 1e-3:
        raise ValueError("video values must be finite and in [0, 1] (float) or uint8")
    return video


def track(video, colors=None, min_area: float = 1.5, tolerance: float = 0.18) -> dict[str, Track]:
    """-> {colour name: Track} for each palette colour seen in at least one frame."""
    video = _check_video(video)
    frames, height, width, _ = video.shape
    cam = Camera(height, width)
    cols, rows = cam.grid()
    tracks = {}
    for name in colors or COLORS:
        cov = coverage(video, COLORS[name], tolerance)
        area = cov.sum(axis=(1, 2))
        present = area >= min_area
        if not present.any():
            continue
        weight = np.where(present, area, 1.0)
        centre = np.stack([(cov * cols).sum((1, 2)) / weight, (cov * rows).sum((1, 2)) / weight], -1)
        pos = cam.to_world(centre)
        pos[~present] = np.nan
        radius = np.where(present, np.sqrt(area / np.pi) / cam.scale, np.nan)
        blobs = np.array([cv2.connectedComponents((c > 0.5).astype(np.uint8))[0] - 1 for c in cov])
        tracks[name] = Track(name, present, pos, radius, area, blobs)
    return tracks
