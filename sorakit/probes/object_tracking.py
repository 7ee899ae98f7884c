"""Follow one object the user picks in footage that does not come from the world.

The object is picked by a click (x, y), a box (x, y, w, h) or a colour, in pixels as OpenCV and
matplotlib give them (x right, y down; pixel (row i, col j) spans [j, j + 1) x [i, i + 1)).
Three trackers:

- "color" (default): each pixel is explained as the still background (per pixel, the median of
  the frames least like the object: `background`) blended with the object's colour, as
  `world.track` does with one flat background; the blend weight is the pixel's coverage. The object
  is the connected blob nearest its last position, its centre the coverage-weighted centroid:
  sub-pixel on anti-aliased edges and on any background that holds still (gradient, texture),
  which gravity fits need.
- "mil": OpenCV's MIL tracker (`cv2.TrackerMIL`; CSRT and KCF are not in opencv-python 5's main
  modules and the DaSiamRPN/Nano/Vit trackers need network files) follows the box by appearance.
  When the box holds a colour that stands out, the colour coverage inside each tracked box refines
  the centre, and a frame whose box no longer holds it is lost (MIL never reports losing an object
  that left the view); otherwise the box centres are the track (whole pixels: too coarse for g).
- "lk": the existing Lucas-Kanade point tracker (`track_point`) follows the clicked point. It needs
  texture at the point: on a flat-coloured ball it loses the point within a frame or two.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .. import world
from .inputs import as_video
from .tracking import temporal_median, track_point

METHODS = ("color", "mil", "lk")
MIN_CONTRAST = 0.08  # object colour this close to the background at a pixel: coverage unknowable there
MIN_AREA = 2.0  # covered pixels for an object to count as seen
PIECE = 0.1  # a blob near the object, of this share of its size, is a piece of it (a split)


@dataclass
class ObjectTrack:
    """One object through a clip, in pixels (x right, y down)."""

    center: np.ndarray  # (F, 2) (x, y) continuous pixels, NaN where lost
    radius: np.ndarray  # (F,) px: sqrt(covered area / pi), half the box's mean side ("mil" without colour), 0 ("lk")
    present: np.ndarray  # (F,) bool
    components: np.ndarray  # (F,) blobs of the object's colour near it (1: whole); 1 where unknown
    method: str
    color: tuple[float, float, float] | None = None  # the colour model, RGB in [0, 1]

    def to_dict(self) -> dict:
        return {k: (np.asarray(v).tolist() if isinstance(v, np.ndarray) else v) for k, v in vars(self).items()}


def _pick(video: np.ndarray, frame, click, box, color) -> tuple[str, tuple]:
    frames, height, width = video.shape[:3]
    given = [name for name, v in (("click", click), ("box", box), ("color", color)) if v is not None]
    if len(given) != 1:
        raise ValueError(f"pick the object with exactly one of click=(x, y), box=(x, y, w, h) or color=(r, g, b); "
                         f"got {', '.join(given) or 'none'}")
    if isinstance(frame, bool) or not isinstance(frame, (int, np.integer)) or not 0 <= frame < frames:
        raise ValueError(f"frame must be an integer in [0, {frames - 1}], got {frame!r}")
    kind = given[0]
    if kind == "color":
        if isinstance(color, str):
            if color not in world.COLORS:
                raise ValueError(f"unknown colour {color!r}; give an (r, g, b) in [0, 1] "
                                 f"or one of {', '.join(world.COLORS)}")
            return kind, tuple(world.COLORS[color])
        rgb = np.asarray(color, float) if np.ndim(color) == 1 else np.array([])
        if rgb.shape != (3,) or not np.isfinite(rgb).all() or rgb.min() < 0 or rgb.max() > 1:
            raise ValueError(f"color must be (r, g, b) with values in [0, 1] or a world colour name, got {color!r}")
        return kind, tuple(float(v) for v in rgb)
    picked = click if kind == "click" else box
    values = np.asarray(picked, float) if np.ndim(picked) == 1 else np.array([])
    if kind == "click":
        inside = values.shape == (2,) and np.isfinite(values).all() \
            and 0 <= values[0] < width and 0 <= values[1] < height
        if not inside:
            raise ValueError(f"click must be (x, y) inside the {width}x{height} frame, got {click!r}")
        return kind, tuple(values)
    if values.shape != (4,) or not np.isfinite(values).all() or values[2] < 2 or values[3] < 2 \
            or values[0] < 0 or values[1] < 0 or values[0] + values[2] > width or values[1] + values[3] > height:
        raise ValueError(f"box must be (x, y, w, h) with w, h >= 2 inside the {width}x{height} frame, got {box!r}")
    return kind, tuple(values)


def background(video: np.ndarray, rgb, chunk_pixels: int = 2**19) -> np.ndarray:
    """(H, W, 3): the still background behind an object of colour `rgb`.

    Per pixel, the median over the frames least like the object (colour distance at least half the
    pixel's largest): a plain temporal median turns into the object wherever it lingers for half of
    the clip (a slow drop, a ball that comes to rest), which biased centres by a pixel and radii by
    a fifth. A pixel the object never covers keeps all its frames, so this is the plain median there.
    """
    frames, height, width = video.shape[:3]
    rows = max(1, chunk_pixels // max(1, frames * width))
    rgb = np.asarray(rgb, np.float32)
    out = np.empty((height, width, 3), np.float32)
    for r in range(0, height, rows):
        part = video[:, r: r + rows]
        far = np.linalg.norm(part - rgb, axis=-1)
        unlike = far >= 0.5 * far.max(0)
        still = np.median(part, axis=0)
        mixed = ~unlike.all(0)  # the few pixels the object passes over: median of their other frames
        if mixed.any():
            still[mixed] = np.nanmedian(np.where(unlike[:, mixed][..., None], part[:, mixed], np.nan), axis=0)
        out[r: r + rows] = still
    return out


def _coverage(frame: np.ndarray, still: np.ndarray, rgb: np.ndarray, tolerance: float) -> np.ndarray:
    """(H, W) in [0, 1]: how much of each pixel is the object's colour over the static background."""
    axis = rgb - still
    norm2 = (axis * axis).sum(-1)
    rel = frame - still
    alpha = np.clip((rel * axis).sum(-1) / np.maximum(norm2, 1e-9), 0, 1)
    residual = np.linalg.norm(rel - alpha[..., None] * axis, axis=-1)
    ok = (norm2 > MIN_CONTRAST**2) & (residual < tolerance) & (alpha >= 0.05)
    return np.where(ok, alpha, 0.0).astype(np.float32)


def _blob(cov: np.ndarray, near: np.ndarray | None, max_jump: float):
    """(centre (x, y), covered area, blobs near it) of the blob nearest `near` (else the largest), or None."""
    n, labels, _, cents = cv2.connectedComponentsWithStats((cov > 0.5).astype(np.uint8), connectivity=8)
    mass = np.bincount(labels.ravel(), weights=cov.ravel(), minlength=n)
    big = [k for k in range(1, n) if mass[k] >= MIN_AREA]
    if not big:
        return None
    centres = cents[big] + 0.5  # OpenCV's centroids are pixel indices
    if near is None:
        k = big[int(np.argmax(mass[big]))]
    else:
        dist = np.linalg.norm(centres - near, axis=1)
        if dist.min() > max_jump:
            return None
        k = big[int(dist.argmin())]
    # The blob grown by a pixel takes in its anti-aliased rim (coverage below one half).
    region = cv2.dilate((labels == k).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    weight = np.where(region, cov, 0.0)
    area = float(weight.sum())
    rows, cols = np.nonzero(weight)
    w = weight[rows, cols]
    centre = np.array([(w * (cols + 0.5)).sum() / area, (w * (rows + 0.5)).sum() / area])
    # Pieces nearby of at least a tenth of its size (smaller ones are compression specks) count as a split.
    reach = 3 * np.sqrt(area / np.pi) + 2
    blobs = int(sum(np.linalg.norm(centres[i] - centre) <= reach and mass[j] >= PIECE * mass[k]
                    for i, j in enumerate(big)))
    return centre, area, max(blobs, 1)


def _follow_colour(video, still, rgb, frame, start, tolerance, max_jump) -> ObjectTrack:
    frames = len(video)
    centre, radius = np.full((frames, 2), np.nan), np.full(frames, np.nan)
    blobs = np.ones(frames, int)
    for order in (range(frame, frames), range(frame - 1, -1, -1)):
        near = start if order.start == frame else centre[frame] if np.isfinite(centre[frame]).all() else start
        for f in order:
            found = _blob(_coverage(video[f], still, rgb, tolerance), near, max_jump)
            if found is None:
                continue  # lost this frame: look again near the last place seen
            centre[f], area, blobs[f] = found
            radius[f] = np.sqrt(area / np.pi)
            near = centre[f]
    present = np.isfinite(centre).all(-1)
    return ObjectTrack(centre, radius, present, blobs, "color", tuple(float(v) for v in rgb))


def _follow_mil(video, still, rgb, frame, box, tolerance) -> ObjectTrack:
    frames, height, width = video.shape[:3]
    centre, radius = np.full((frames, 2), np.nan), np.full(frames, np.nan)
    bgr = [cv2.cvtColor((f * 255).round().astype(np.uint8), cv2.COLOR_RGB2BGR) for f in video]
    boxes = np.full((frames, 4), np.nan)
    for order in (range(frame + 1, frames), range(frame - 1, -1, -1)):
        tracker = cv2.TrackerMIL_create()
        tracker.init(bgr[frame], tuple(int(round(v)) for v in box))
        boxes[frame] = box
        for f in order:
            ok, found = tracker.update(bgr[f])
            if not ok:
                break
            boxes[f] = found
    for f in np.flatnonzero(np.isfinite(boxes).all(-1)):
        x, y, w, h = boxes[f]
        centre[f], radius[f] = (x + w / 2, y + h / 2), (w + h) / 4
        if rgb is None:
            continue
        # The box lags a fast object and rounds to whole pixels: the colour blob nearest it, taken
        # whole, places the object; none within two box sizes means the box stayed behind.
        cov = _coverage(video[f], still, rgb, tolerance)
        if (found := _blob(cov, centre[f], 2 * max(w, h))) is None:
            centre[f], radius[f] = np.nan, np.nan  # the box lingers where the object left: lost, not there
            continue
        centre[f], area, _ = found
        radius[f] = np.sqrt(area / np.pi)
    present = np.isfinite(centre).all(-1)
    return ObjectTrack(centre, radius, present, np.ones(frames, int), "mil",
                       None if rgb is None else tuple(float(v) for v in rgb))


def _object_colour(video, still, frame, kind, where) -> np.ndarray | None:
    """The picked object's colour: under the click, or the box's pixels that stand out from the background."""
    height, width = video.shape[1:3]
    if kind == "click":
        x, y = int(where[0]), int(where[1])
        patch = video[frame, max(y - 1, 0): y + 2, max(x - 1, 0): x + 2].reshape(-1, 3)
        return np.median(patch, axis=0)
    x, y, w, h = (int(round(v)) for v in where)
    inside = video[frame, y: y + h, x: x + w].reshape(-1, 3)
    stands_out = np.abs(inside - still[y: y + h, x: x + w].reshape(-1, 3)).max(-1) > 0.25
    if stands_out.sum() >= MIN_AREA:
        return np.median(inside[stands_out], axis=0)
    # An object that rests through most of the clip is in the median itself: its box's middle shows it.
    middle = video[frame, y + h // 3: y + h - h // 3, x + w // 3: x + w - w // 3].reshape(-1, 3)
    return np.median(middle, axis=0) if len(middle) and np.abs(middle - np.median(middle, 0)).max() < 0.1 else None


def track_object(video, *, click=None, box=None, color=None, frame: int = 0, method: str = "color",
                 tolerance: float = 0.15, max_jump: float | None = None) -> ObjectTrack:
    """Follow the object picked by `click` (x, y), `box` (x, y, w, h) or `color` (r, g, b in [0, 1],
    or a world colour name) in `frame`, through the whole clip (forward and backward).

    method: "color" (coverage over the static background, sub-pixel), "mil" (OpenCV's MIL tracker
    on a box, refined by colour) or "lk" (Lucas-Kanade on the clicked point).
    tolerance: how far (RGB distance) a pixel may stray from a background-colour blend and count.
    max_jump: pixels the object may move between frames it is seen in (default a quarter of the
    frame's longer side).
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; allowed: {', '.join(METHODS)}")
    video = as_video(video)
    kind, where = _pick(video, frame, click, box, color)
    frames, height, width = video.shape[:3]
    if method == "lk":
        if kind != "click":
            raise ValueError("method='lk' follows a point: pick it with click=(x, y)")
        point = track_point(video, int(frame), where[1], where[0])
        return ObjectTrack(point.pixel[:, ::-1].copy(), np.where(point.present, 0.0, np.nan), point.present,
                           np.ones(frames, int), "lk")
    if method == "mil" and kind != "box":
        raise ValueError("method='mil' follows a box: pick it with box=(x, y, w, h)")
    if not (np.isfinite(tolerance) and 0 < tolerance <= 1):
        raise ValueError(f"tolerance must be in (0, 1], got {tolerance!r}")
    max_jump = 0.25 * max(height, width) if max_jump is None else float(max_jump)
    if not (np.isfinite(max_jump) and max_jump > 0):
        raise ValueError(f"max_jump must be a positive number of pixels, got {max_jump!r}")
    rgb = np.asarray(where, np.float32) if kind == "color" else _object_colour(video, temporal_median(video), frame,
                                                                                kind, where)
    still = None if rgb is None else background(video, rgb)
    if method == "mil":
        return _follow_mil(video, still, rgb, int(frame), where, tolerance)
    if rgb is None:
        raise ValueError("nothing in the box stands out from the background; use method='mil' or a click")
    start = None if kind == "color" else np.array(where[:2]) + (np.array(where[2:]) / 2 if kind == "box" else 0.0)
    return _follow_colour(video, still, rgb.astype(np.float32), int(frame), start, tolerance, max_jump)
