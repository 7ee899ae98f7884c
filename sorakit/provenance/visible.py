"""The visible mark: a small translucent "sorakit" label that drifts around the frame, as Sora's does.

It is drawn on the exported file's frames at their final (upscaled) resolution, so it stays crisp and
small however tiny the model's clip is; the arrays the pipeline returns, and that probes and attention
tools look at, never carry it. It moves (bouncing diagonally, crossing the frame in about three
seconds at 8 fps) so that no single crop or fixed blur removes it from every frame. Same frames in,
same pixels out.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = ["draw_visible_mark", "mark_box"]

TEXT = "sorakit"
ALPHA = 0.55  # the label's opacity: readable on the world's backgrounds, yet not hiding the scene
SHADOW_ALPHA = 0.25  # a faint dark edge keeps it visible on white
MIN_TEXT_PX, TEXT_FRACTION = 8, 1 / 24  # text height: 1/24 of the short side, at least 8 px
CROSS_FRAMES = (24, 37)  # frames to cross the frame horizontally / vertically (different: it wanders)


@lru_cache(maxsize=8)
def _mask(text_px: int) -> np.ndarray:
    """(h, w) float32 coverage of the label: a small four-point star, then the word."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=text_px)
    left, top, right, bottom = font.getbbox(TEXT)
    star = text_px  # the star's box is as tall as the text
    pad = 2
    image = Image.new("L", (pad * 2 + star + pad + right, pad * 2 + max(bottom, star)), 0)
    draw = ImageDraw.Draw(image)
    c, r, s = pad + star / 2, star / 2, star / 7  # centre, tip radius, waist
    draw.polygon([(c, c - r), (c + s, c - s), (c + r, c), (c + s, c + s), (c, c + r),
                  (c - s, c + s), (c - r, c), (c - s, c - s)], fill=255)
    draw.text((pad * 2 + star, pad - top + (star - (bottom - top)) / 2), TEXT, font=font, fill=255)
    return np.asarray(image, np.float32) / 255.0


def _triangle(phase: float) -> float:
    """0 -> 1 -> 0 over one period: a bounce between two edges."""
    phase %= 2.0
    return phase if phase <= 1.0 else 2.0 - phase


def mark_box(frame_index: int, height: int, width: int) -> tuple[int, int, int, int]:
    """(top, left, mark height, mark width) of the label in frame `frame_index` of a height x width clip."""
    mask_h, mask_w = _mask(_text_px(height, width)).shape
    margin = max(2, min(height, width) // 64)
    room_y, room_x = max(0, height - mask_h - 2 * margin), max(0, width - mask_w - 2 * margin)
    top = margin + round(room_y * _triangle(0.15 + frame_index / CROSS_FRAMES[1]))
    left = margin + round(room_x * _triangle(0.1 + frame_index / CROSS_FRAMES[0]))
    return top, left, mask_h, mask_w


def _text_px(height: int, width: int) -> int:
    return max(MIN_TEXT_PX, round(min(height, width) * TEXT_FRACTION))


def draw_visible_mark(frames: np.ndarray) -> np.ndarray:
    """A copy of uint8 frames (F, H, W, 3) with the moving label blended in (the input is not changed).

    Frames too small to hold the label are returned unmarked.
    """
    out = np.array(frames, dtype=np.uint8, copy=True)
    _, height, width, _ = out.shape
    mask = _mask(_text_px(height, width))
    if mask.shape[0] + 4 > height or mask.shape[1] + 4 > width:
        return out
    shadow = np.zeros_like(mask)
    shadow[1:, 1:] = mask[:-1, :-1]  # one pixel down and right
    shadow = np.clip(shadow - mask, 0, 1)[..., None] * SHADOW_ALPHA
    light = mask[..., None] * ALPHA
    for index, frame in enumerate(out):
        top, left, h, w = mark_box(index, height, width)
        region = frame[top:top + h, left:left + w].astype(np.float32)
        region = region * (1 - shadow)  # towards black at the edge
        region = region * (1 - light) + 255.0 * light  # towards white on the glyphs
        frame[top:top + h, left:left + w] = np.round(region).astype(np.uint8)
    return out
