"""A GIF grid of world clips with their captions: a quick look at what the model learns from."""
from __future__ import annotations

import textwrap

import numpy as np
from PIL import Image, ImageDraw

from .clip import sample


def preview_frames(clips, cell: int = 128, cols: int = 4) -> list[Image.Image]:
    rows = -(-len(clips) // cols)
    caption_h = 40
    frames = []
    for f in range(len(clips[0].video)):
        canvas = Image.new("RGB", (cols * cell, rows * (cell + caption_h)), (20, 20, 24))
        draw = ImageDraw.Draw(canvas)
        for k, clip in enumerate(clips):
            x, y = (k % cols) * cell, (k // cols) * (cell + caption_h)
            img = Image.fromarray((clip.video[f] * 255).round().astype(np.uint8)).resize((cell, cell), Image.NEAREST)
            canvas.paste(img, (x, y))
            text = "\n".join(textwrap.wrap(clip.caption, 24)[:3])
            draw.multiline_text((x + 2, y + cell + 1), text, fill=(230, 230, 230), spacing=0)
        frames.append(canvas)
    return frames


def preview(out: str, n: int = 16, seed: int = 0, fps: float = 8.0, **constraints) -> str:
    """Write a GIF grid of `n` clips drawn from seeds seed, seed+1, ...; returns the path."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    clips = [sample(seed + k, **constraints) for k in range(n)]
    frames = preview_frames(clips)
    frames[0].save(out, save_all=True, append_images=frames[1:], duration=int(1000 / fps), loop=0)
    return out
