"""A GIF grid of world clips with their captions: a quick look at what the model learns from."""
from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from ..limits import LIMITS
from .clip import sample


def preview_frames(videos, captions, cell: int = 128, cols: int = 4) -> list[Image.Image]:
    """One grid image per frame: each (F, H, W, 3) video upscaled in a cell, its caption below."""
    rows = -(-len(videos) // cols)
    caption_h = 40
    frames = []
    for f in range(len(videos[0])):
        canvas = Image.new("RGB", (cols * cell, rows * (cell + caption_h)), (20, 20, 24))
        draw = ImageDraw.Draw(canvas)
        for k, (video, caption) in enumerate(zip(videos, captions)):
            x, y = (k % cols) * cell, (k // cols) * (cell + caption_h)
            img = Image.fromarray((video[f] * 255).round().astype(np.uint8)).resize((cell, cell), Image.NEAREST)
            canvas.paste(img, (x, y))
            text = "\n".join(textwrap.wrap(caption, 24)[:3])
            draw.multiline_text((x + 2, y + cell + 1), text, fill=(230, 230, 230), spacing=0)
        frames.append(canvas)
    return frames


def preview(out: str, n: int = 16, seed: int = 0, fps: float = 8.0, **constraints) -> str:
    """Write a GIF grid of `n` clips drawn from seeds seed, seed+1, ...; returns the path."""
    lo, hi = LIMITS.preview_clips
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not lo <= n <= hi:
        raise ValueError(f"n must be a whole number from {lo} to {hi}, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a whole number >= 0, got {seed!r}")
    if Path(out).suffix.lower() not in (".gif",):
        raise ValueError(f"the preview is a .gif; got {Path(out).name!r}")
    clips = [sample(seed + k, **constraints) for k in range(n)]
    return write_grid_gif([c.video for c in clips], [c.caption for c in clips], out, fps)


def write_grid_gif(videos, captions, path, fps: float = 8.0):
    """A looping GIF grid of videos with captions (world previews and training samples alike)."""
    frames = preview_frames(videos, captions)
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=int(1000 / fps), loop=0)
    return path
