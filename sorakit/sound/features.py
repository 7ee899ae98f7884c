"""What the sound model sees of a clip: per-frame motion profiles, the same at any frame size.

Each frame is area-resized to SIDE x SIDE; the foreground is each pixel's distance from the clip's
median frame (the still background). Its row and column sums locate moving things vertically and
horizontally, and their change from the previous frame says how they move: 4 x SIDE numbers a frame.
"""
from __future__ import annotations

import numpy as np

SIDE = 32
DIM = 4 * SIDE


def frame_features(video: np.ndarray) -> np.ndarray:
    """(F, H, W, 3) float in [0, 1] -> (F, DIM) float32."""
    import cv2

    small = np.stack([cv2.resize(f, (SIDE, SIDE), interpolation=cv2.INTER_AREA) for f in video.astype(np.float32)])
    fg = np.abs(small - np.median(small, axis=0)).sum(-1)  # (F, SIDE, SIDE)
    rows, cols = fg.mean(2), fg.mean(1)
    moved = lambda x: np.diff(x, axis=0, prepend=x[:1])  # noqa: E731
    return np.concatenate([rows, cols, moved(rows), moved(cols)], axis=1).astype(np.float32)


def clip_features(video: np.ndarray, fps: float, contacts: bool = False, bins: int = 8) -> np.ndarray:
    """What ImpactNet reads: the motion profiles, then (`contacts`) the tracked balls' contact-time
    features for `bins` bins per frame interval (contacts.py). (F, DIM [+ contact_dim(bins)]) float32."""
    feats = frame_features(video)
    if not contacts:
        return feats
    from .contacts import contact_features

    return np.concatenate([feats, contact_features(video, fps, bins)], axis=1)


def mirrored(feats):
    """Features of the left-right mirrored clip (column profiles reversed; rows unchanged): a training
    augmentation that keeps every impact's timing. Works on numpy arrays and torch tensors (..., DIM + more);
    dimensions past DIM (contact features, which pool left and right walls) are the same mirrored."""
    out = feats.copy() if isinstance(feats, np.ndarray) else feats.clone()
    for start in (SIDE, 3 * SIDE):  # cols, moved(cols)
        out[..., start:start + SIDE] = feats[..., start:start + SIDE].flip(-1) if not isinstance(feats, np.ndarray) \
            else feats[..., start:start + SIDE][..., ::-1]
    return out


def foreground_x(video: np.ndarray, frame: int) -> float:
    """Where the moving things are across frame `frame`, as a fraction of the width (0.5 if nothing moves)."""
    import cv2

    small = np.stack([cv2.resize(f, (SIDE, SIDE), interpolation=cv2.INTER_AREA) for f in video.astype(np.float32)])
    cols = np.abs(small[frame] - np.median(small, axis=0)).sum(-1).sum(0)
    return float((cols * (np.arange(SIDE) + 0.5)).sum() / cols.sum() / SIDE) if cols.sum() > 1e-6 else 0.5
