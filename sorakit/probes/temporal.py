"""Temporal quality without a network (VBench-style): background flicker and dynamic degree.

- flicker: mean absolute change between consecutive frames (0..1 scale) over the pixels no
  tracked object covers in either frame (its disc plus one pixel); the world's background never
  changes, so anything here is the model's noise. Score = 1 - flicker, as VBench reports it.
- dynamic degree: Farneback optical flow between consecutive frames (upscaled for the flow's
  window, 2x); per frame pair the mean of the largest 5% flow magnitudes, in pixels per frame at the
  clip's resolution. The clip is "dynamic" when the median pair exceeds DYNAMIC_PX (VBench's
  6 px at 256 px scales to 0.75 px at 32 px; lowered so a slow roll counts as moving).
  Informational: a resting ball is not a failure.
"""
from __future__ import annotations

import cv2
import numpy as np

from .context import Context, prepare, unmet
from .report import ProbeResult, skipped

NAME = "temporal"
MAX_FLICKER = 0.02  # ~5/255 mean change of the static background
DYNAMIC_PX = 0.5
UPSCALE = 2


def _background(ctx: Context) -> np.ndarray:
    """(F, H, W) bool: pixels outside every tracked object (disc + 1 px)."""
    cam = ctx.camera
    cols, rows = cam.grid()
    free = np.ones(ctx.video.shape[:3], bool)
    for tr in ctx.tracks.values():
        px = cam.to_pixels(np.nan_to_num(tr.pos, nan=-1e3))
        radius = np.nan_to_num(np.asarray(tr.radius, float), nan=0.0) * cam.scale + 1.0
        for f in np.flatnonzero(tr.present):
            free[f] &= np.hypot(cols - px[f, 0], rows - px[f, 1]) > radius[f]
    return free


def dynamic_degree(video) -> np.ndarray:
    """(F-1,) mean of the top 5% Farneback flow magnitudes per frame pair, pixels per frame."""
    frames, height, width = video.shape[:3]
    gray = [cv2.resize(cv2.cvtColor((f * 255).astype(np.uint8), cv2.COLOR_RGB2GRAY),
                       (width * UPSCALE, height * UPSCALE), interpolation=cv2.INTER_CUBIC) for f in video]
    out = []
    for a, b in zip(gray, gray[1:]):
        flow = cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 2, 9, 2, 5, 1.1, 0)
        mag = np.linalg.norm(flow, axis=-1).ravel() / UPSCALE
        k = max(1, int(0.05 * mag.size))
        out.append(float(np.partition(mag, -k)[-k:].mean()))
    return np.asarray(out)


def temporal(video, fps=None) -> ProbeResult:
    """Flicker and dynamic degree of `video` (or a Context)."""
    return prepare(video, fps).result(NAME, _temporal)


def _temporal(ctx: Context) -> ProbeResult:
    if (why := unmet(ctx, NAME, frames=2)) is not None:
        return why
    free = _background(ctx)
    both = free[1:] & free[:-1]
    if both.sum() == 0:
        return skipped(NAME, "no background pixel is free of objects in two consecutive frames")
    video = ctx.video  # frame pair by frame pair: no (F-1, H, W, 3) difference of the whole clip
    change = sum(float(np.abs(video[f + 1][m] - video[f][m]).mean(-1).sum()) for f, m in enumerate(both))
    flicker = change / float(both.sum())
    motion = dynamic_degree(ctx.video)
    dynamic = bool(np.median(motion) > DYNAMIC_PX)
    metrics = {"flicker": flicker, "flicker_score": 1 - flicker, "background_share": float(both.mean()),
               "flow_top5_px": motion, "dynamic_degree_px": float(np.median(motion)), "dynamic": dynamic}
    ok = flicker <= MAX_FLICKER
    state = "moving" if dynamic else "nearly static"
    text = (f"background flicker {flicker:.4f} (allowed {MAX_FLICKER}), {state}: "
            f"top-5% flow {np.median(motion):.2f} px/frame")
    return ProbeResult(NAME, ok, text, metrics, {"flow": motion})
