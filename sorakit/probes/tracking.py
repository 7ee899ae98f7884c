"""Objects in a clip, as tracks in world units.

World-style clips (the palette colours on the dark background) are parsed by `world.track()`.
Any other video gets a generic OpenCV tracker: background subtraction (per-pixel temporal median)
+ connected components, linked frame to frame by nearest centroid; or Lucas-Kanade optical flow
from one chosen point (`track_point`). Generic tracks use the same `world.Track` record (named
"object0", "object1", ...) and the same `world.Camera` mapping (the image spans 10 world units).
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.optimize import linear_sum_assignment

from .. import world
from .inputs import as_video

METHODS = ("auto", "world", "generic")
MAX_BLOBS = 32  # moving blobs linked per frame by the generic tracker


def looks_like_world(video, share: float = 0.5) -> bool:
    """Most of the (median) frame is the world's background or floor colour."""
    from ..world.render import BACKGROUND, FLOOR

    still = temporal_median(as_video(video))
    near = [np.abs(still - c).max(-1) < 0.1 for c in (BACKGROUND, FLOOR)]
    return bool((near[0] | near[1]).mean() >= share)


def temporal_median(video: np.ndarray, chunk_pixels: int = 2**20) -> np.ndarray:
    """(H, W, 3) per-pixel median over frames, a band of rows at a time (np.median copies what it sorts)."""
    frames, height, width = video.shape[:3]
    rows = max(1, chunk_pixels // max(1, frames * width))
    return np.concatenate([np.median(video[:, r: r + rows], axis=0) for r in range(0, height, rows)], axis=0)


def track(video, method: str = "auto") -> tuple[dict[str, world.Track], str]:
    """-> ({name: Track}, method used). "auto" uses the world's colour tracker when the clip looks
    like the world (its background) and it finds an object in at least half of the frames, else
    the generic tracker."""
    if method not in METHODS:
        raise ValueError(f"unknown tracking method {method!r}; allowed: {', '.join(METHODS)}")
    video = as_video(video)
    if method == "world" or (method == "auto" and looks_like_world(video)):
        tracks = world.track(video)
        if method == "world" or any(t.present.mean() >= 0.5 for t in tracks.values()):
            return tracks, "world"
    return track_generic(video), "generic"


def track_generic(video, threshold: float = 0.12, min_area: float = 2.0,
                  max_jump: float = 3.0) -> dict[str, world.Track]:
    """Moving things against a static background, for videos outside the world's palette.

    Background = per-pixel temporal median, so an object that rests for more than half of the clip
    becomes background. `max_jump` (world units) gates frame-to-frame links.
    """
    video = as_video(video)
    frames, height, width, _ = video.shape
    cam = world.Camera(height, width)
    still = temporal_median(video)
    blobs = []  # per frame: list of (centre world (2,), area px, radius world)
    for f in range(frames):  # frame by frame: memory stays at the clip, whatever its length
        moving = (np.abs(video[f] - still).max(-1) > threshold).astype(np.uint8)
        n, _, stats, centroids = cv2.connectedComponentsWithStats(moving, connectivity=8)
        areas = stats[1:, cv2.CC_STAT_AREA]
        # The largest MAX_BLOBS: noise can make thousands of specks, and linking is cubic in their number.
        keep = [k for k in np.argsort(-areas, kind="stable")[:MAX_BLOBS] if areas[k] >= min_area]
        found = []
        for k in sorted(keep):
            centre = cam.to_world(centroids[k + 1] + 0.5)  # OpenCV's centroid is in pixel indices
            found.append((centre, float(areas[k]), float(np.sqrt(areas[k] / np.pi) / cam.scale)))
        blobs.append(found)
    paths: list[dict[int, tuple]] = []  # each: frame -> blob
    for f, found in enumerate(blobs):
        live = [p for p in paths if f - 1 in p]
        taken = set()
        if live and found:
            cost = np.array([[np.linalg.norm(p[f - 1][0] - b[0]) for b in found] for p in live])
            for i, j in zip(*linear_sum_assignment(cost)):
                if cost[i, j] <= max_jump:
                    live[i][f] = found[j]
                    taken.add(j)
        paths += [{f: b} for j, b in enumerate(found) if j not in taken]
    tracks = {}
    for k, path in enumerate(sorted(paths, key=len, reverse=True)[:8]):
        present = np.array([f in path for f in range(frames)])
        pos = np.full((frames, 2), np.nan)
        radius, area = np.full(frames, np.nan), np.zeros(frames)
        for f, (centre, a, r) in path.items():
            pos[f], area[f], radius[f] = centre, a, r
        name = f"object{k}"
        tracks[name] = world.Track(name, present, pos, radius, area, present.astype(int))
    return tracks


@dataclass
class PointTrack:
    """A point followed by Lucas-Kanade optical flow."""

    pixel: np.ndarray  # (F, 2) (row, col), NaN where lost
    pos: np.ndarray  # (F, 2) world units (Camera mapping), NaN where lost
    present: np.ndarray  # (F,) bool

    def to_dict(self) -> dict:
        return {k: np.asarray(v).tolist() for k, v in vars(self).items()}


def track_point(video, frame: int, y: float, x: float, upscale: int = 4) -> PointTrack:
    """Follow the point (row y, column x) of `frame` forward and backward through the clip.

    Coordinates are continuous pixels as `world.Camera` uses them: pixel (i, j) spans
    [i, i + 1) x [j, j + 1), so its centre is (i + 0.5, j + 0.5).

    Frames are upscaled (`upscale`) before pyramidal Lucas-Kanade so small clips have texture
    enough for its window; a point is lost when LK reports failure.
    """
    video = as_video(video)
    frames, height, width, _ = video.shape
    if not isinstance(frame, (int, np.integer)) or not 0 <= frame < frames:
        raise ValueError(f"frame must be an integer in [0, {frames - 1}], got {frame!r}")
    if not (np.isfinite(y) and np.isfinite(x) and 0 <= y < height and 0 <= x < width):
        raise ValueError(f"(y, x) must lie inside the {height}x{width} frame, got ({y!r}, {x!r})")
    gray = [cv2.resize(cv2.cvtColor((f * 255).astype(np.uint8), cv2.COLOR_RGB2GRAY),
                       (width * upscale, height * upscale), interpolation=cv2.INTER_CUBIC) for f in video]
    pixel = np.full((frames, 2), np.nan)
    pixel[frame] = (y, x)
    lk = dict(winSize=(15, 15), maxLevel=2, criteria=(cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 0.01))
    for order in (range(frame + 1, frames), range(frame - 1, -1, -1)):
        # OpenCV puts pixel centres at integers: continuous c -> c * upscale - 0.5 on the big frames.
        prev, point = frame, np.array([[[x * upscale - 0.5, y * upscale - 0.5]]], np.float32)
        for f in order:
            nxt, status, _ = cv2.calcOpticalFlowPyrLK(gray[prev], gray[f], point, None, **lk)
            if nxt is None or not status[0, 0]:
                break
            col, row = (nxt[0, 0] + 0.5) / upscale
            if not (0 <= row < height and 0 <= col < width):
                break
            pixel[f] = (row, col)
            prev, point = f, nxt
    present = np.isfinite(pixel).all(-1)
    cam = world.Camera(height, width)
    pos = cam.to_world(pixel[:, ::-1])  # Camera takes (col, row)
    return PointTrack(pixel, pos, present)


def find_hoop(video, min_pixels: float = 3.0) -> world.Hoop | None:
    """The hoop's rim line from the pixels (static scenery in the world's hoop colour), or None.

    Coverage is the world's own colour explanation (`world.coverage`), its median over frames
    ignores balls passing in front. The rim bar is the row band with the most coverage; its partly
    covered end pixels place the two rim centres to a fraction of a pixel.
    """
    from ..world.render import HOOP

    video = as_video(video)
    height, width = video.shape[1:3]
    cam = world.Camera(height, width)
    cover = np.median(world.coverage(video, HOOP), axis=0)
    per_row = cover.sum(1)
    if per_row.max() < min_pixels:
        return None
    top = int(per_row.argmax())
    band = slice(max(top - 1, 0), min(top + 2, height))
    weights = cover[band]
    profile = weights.max(0)
    cols = np.flatnonzero(profile > 0.05)
    if len(cols) < 2:
        return None
    # The rim's height from the bar's middle columns only: the net hangs below its ends.
    middle = weights[:, cols[0] + 2: cols[-1] - 1] if cols[-1] - cols[0] > 4 else weights
    row = float((middle.sum(1) * (np.arange(height)[band] + 0.5)).sum() / max(middle.sum(), 1e-9))
    # The bar's end pixels in the row through it are partly covered: coverage = half + 0.5 - d,
    # d the pixel centre's distance to the rim centre, which also lies dy off the row's centre.
    near = cover[min(int(row), height - 1)]
    dy = abs(row - (min(int(row), height - 1) + 0.5))
    half_px = max(world.Hoop(0, 0, 0).rim_radius * cam.scale, 0.5)
    ends = np.flatnonzero(near > 0.02)
    if len(ends) < 2:
        return None

    def reach(c: float) -> float:  # horizontal distance from an end pixel's centre to its rim centre
        return float(np.sqrt(max((half_px + 0.5 - c) ** 2 - dy**2, 0.0)))

    left = ends[0] + 0.5 + reach(near[ends[0]])
    right = ends[-1] + 0.5 - reach(near[ends[-1]])
    (lx, y), (rx, _) = cam.to_world(np.array([[left, row], [right, row]]))
    return world.Hoop(x=float((lx + rx) / 2), y=float(y), half_width=float((rx - lx) / 2))
