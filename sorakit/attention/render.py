"""Rendering attention: heat overlaid on the video, and a words x frames figure."""
from __future__ import annotations

import numpy as np

from ..media import to_uint8


def _colormap(cmap: str):
    import matplotlib

    try:
        return matplotlib.colormaps[cmap]
    except KeyError:
        raise ValueError(f"unknown colormap {cmap!r}; "
                         f"use a matplotlib name such as 'inferno', 'jet', 'magma'") from None


def overlay(video, heat, alpha: float = 0.5, cmap: str = "inferno") -> np.ndarray:
    """(F, H, W, 3) float32 in [0, 1]: the video blended with `heat` (F, H, W) or (H, W) in [0, 1] as colour."""
    checked = to_uint8(video)  # validates shape and range
    video = video.detach().cpu().numpy() if hasattr(video, "detach") else np.asarray(video)
    frames = checked / np.float32(255) if video.dtype == np.uint8 else np.clip(video, 0, 1).astype(np.float32)
    heat = np.asarray(heat, np.float32)
    if heat.ndim == 2:
        heat = np.broadcast_to(heat, frames.shape[:3])
    if heat.shape != frames.shape[:3]:
        raise ValueError(f"heat must have shape {frames.shape[:3]} (F, H, W) or {frames.shape[1:3]} to match "
                         f"the video, got {heat.shape}")
    if not np.isfinite(heat).all():
        raise ValueError("heat must be finite")
    if not isinstance(alpha, (int, float)) or not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be a number in [0, 1], got {alpha!r}")
    colour = _colormap(cmap)(np.clip(heat, 0, 1))[..., :3].astype(np.float32)
    return ((1 - alpha) * frames + alpha * colour).astype(np.float32)


def plot_word_maps(cap, words=None, frames=None, video=None, layers=None, steps=None, index: int = 0,
                   cmap: str = "inferno", alpha: float = 0.6):
    """Matplotlib figure, rows = words, columns = frames; over `video` (F, H, W, 3) when given."""
    import matplotlib.pyplot as plt

    words = cap.words_for(index) if words is None else [words] if isinstance(words, str) else list(words)
    maps = [cap.word_map(w, layers=layers, steps=steps, index=index) for w in words]
    total = maps[0].shape[0]
    frames = list(np.linspace(0, total - 1, min(total, 8)).round().astype(int)) if frames is None else list(frames)
    bad = [f for f in frames if not isinstance(f, (int, np.integer)) or not 0 <= f < total]
    if bad or not frames:
        raise ValueError(f"frames must be a non-empty list of frame indices in [0, {total}), got {bad or frames}")
    fig, axes = plt.subplots(len(words), len(frames), figsize=(1.3 * len(frames) + 0.8, 1.3 * len(words) + 0.3),
                             squeeze=False, constrained_layout=True)
    for r, (word, heat) in enumerate(zip(words, maps)):
        shown = overlay(video, heat, alpha, cmap) if video is not None else _colormap(cmap)(heat)[..., :3]
        for c, f in enumerate(frames):
            ax = axes[r, c]
            ax.imshow(shown[f], interpolation="nearest")
            ax.set_xticks([]), ax.set_yticks([])
            if r == 0:
                ax.set_title(f"frame {f}", fontsize=8)
            if c == 0:
                ax.set_ylabel(word, fontsize=9)
    plt.close(fig)  # returned, not shown twice by the inline backend
    return fig
