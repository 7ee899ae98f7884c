"""Draw a simulated trajectory as video frames and per-object masks.

Anti-aliasing is analytic: a pixel's coverage by a disc or a thick line is its signed distance to
the edge, clipped to [0, 1] over one pixel. Exact enough, and ~20x cheaper than supersampling.
"""
from __future__ import annotations

import numpy as np

from .scene import FLOOR_DEPTH, WORLD_WIDTH, Scene
from .simulate import Trajectory

BACKGROUND = np.array([0.06, 0.06, 0.08], np.float32)
FLOOR = np.array([0.42, 0.40, 0.38], np.float32)
HOOP = np.array([0.88, 0.88, 0.88], np.float32)


class Camera:
    """Maps world units (y up, floor at 0) to pixel coordinates (row down).

    The training framing (the default): 10 units span the width, the world's left wall is the
    image's left edge and a band FLOOR_DEPTH deep below the floor shows at the bottom. `scale`
    (pixels per unit) and `origin` (the pixel (col, row) of the world point (0, 0): the left wall's
    foot) frame the world otherwise: zoomed, off-centre, on any frame shape.
    """

    def __init__(self, height: int, width: int, *, scale: float | None = None,
                 origin: tuple[float, float] | None = None):
        self.height, self.width = height, width
        self.scale = width / WORLD_WIDTH if scale is None else float(scale)  # pixels per world unit
        if not (np.isfinite(self.scale) and self.scale > 0):
            raise ValueError(f"scale must be a positive number of pixels per world unit, got {scale!r}")
        left, floor_row = (0.0, height - FLOOR_DEPTH * self.scale) if origin is None else map(float, origin)
        if not (np.isfinite(left) and np.isfinite(floor_row)):
            raise ValueError(f"origin must be a finite pixel (col, row), got {origin!r}")
        self.left = left  # pixel x of the world's x = 0
        self.floor_row = floor_row  # pixel y of the floor surface

    def to_pixels(self, xy: np.ndarray) -> np.ndarray:
        """World (..., 2) -> pixel (..., 2) as (col, row), pixel centres at integer + 0.5."""
        xy = np.asarray(xy, np.float64)
        return np.stack([self.left + xy[..., 0] * self.scale, self.floor_row - xy[..., 1] * self.scale], -1)

    def to_world(self, colrow: np.ndarray) -> np.ndarray:
        colrow = np.asarray(colrow, np.float64)
        return np.stack([(colrow[..., 0] - self.left) / self.scale, (self.floor_row - colrow[..., 1]) / self.scale], -1)

    def grid(self) -> tuple[np.ndarray, np.ndarray]:
        rows, cols = np.mgrid[0 : self.height, 0 : self.width].astype(np.float64) + 0.5
        return cols, rows


def _segment_distance(cols, rows, a, b):
    ab = b - a
    t = np.clip(((cols - a[0]) * ab[0] + (rows - a[1]) * ab[1]) / max(ab @ ab, 1e-9), 0, 1)
    return np.hypot(cols - (a[0] + t * ab[0]), rows - (a[1] + t * ab[1]))


def _static_layer(scene: Scene, cam: Camera, background: np.ndarray | None = None) -> np.ndarray:
    """Background (the flat training colour unless an image is given), floor band and hoop:
    everything that does not move."""
    cols, rows = cam.grid()
    img = np.broadcast_to(BACKGROUND if background is None else background, (cam.height, cam.width, 3)).copy()
    floor = np.clip(rows + 0.5 - cam.floor_row, 0, 1)[..., None]
    img = img * (1 - floor) + FLOOR * floor
    if scene.hoop is not None:
        (left, right) = cam.to_pixels(np.array(scene.hoop.rims))
        half = max(scene.hoop.rim_radius * cam.scale, 0.5)
        drop = np.array([0.0, 0.9 * cam.scale])  # net: two lines hanging inward below the rim
        inset = np.array([0.35 * cam.scale, 0.0])
        parts = [(left, right), (left, left + drop + inset), (right, right + drop - inset)]
        cover = np.zeros_like(cols)
        for (a, b), w in zip(parts, (half, 0.4 * half, 0.4 * half)):
            cover = np.maximum(cover, np.clip(w + 0.5 - _segment_distance(cols, rows, a, b), 0, 1))
        img = img * (1 - cover[..., None]) + HOOP * cover[..., None]
    return img.astype(np.float32)


def _check_view(height: int, width: int, camera: Camera | None, background) -> np.ndarray | None:
    if camera is not None and (camera.height, camera.width) != (height, width):
        raise ValueError(f"camera is {camera.height}x{camera.width} but the frames asked are {height}x{width}")
    if background is None:
        return None
    background = np.asarray(background, np.float32)
    if background.shape != (height, width, 3) or not np.isfinite(background).all() \
            or background.min() < 0 or background.max() > 1:
        raise ValueError(f"background must be a ({height}, {width}, 3) image with values in [0, 1], "
                         f"got shape {background.shape}")
    return background


def render(scene: Scene, traj: Trajectory, height: int = 32, width: int = 32, *,
           camera: Camera | None = None, background=None):
    """-> video (F, H, W, 3) float32 in [0, 1], masks (F, n, H, W) bool of each ball's visible pixels.

    A pixel is in a ball's mask when more than half of it shows that ball: its own coverage times
    what the balls drawn over it leave uncovered. So masks never overlap, and a mask pixel is
    always mostly the ball's colour.

    Training clips use the defaults. `camera` (a Camera of the same size) frames the world
    otherwise and `background` ((H, W, 3) in [0, 1]: a gradient, a texture) replaces the flat
    background colour, to test trackers and probes on footage unlike the training data.
    """
    background = _check_view(height, width, camera, background)
    cam = Camera(height, width) if camera is None else camera
    cols, rows = cam.grid()
    static = _static_layer(scene, cam, background)
    frames, n = traj.pos.shape[:2]
    video = np.empty((frames, height, width, 3), np.float32)
    masks = np.zeros((frames, n, height, width), bool)
    centres = cam.to_pixels(traj.pos)
    shown = np.zeros((n, height, width), np.float32)  # how much of each pixel shows each ball
    for f in range(frames):
        img = static.copy()
        for i, ball in enumerate(scene.balls):  # later balls are drawn over earlier ones
            d = np.hypot(cols - centres[f, i, 0], rows - centres[f, i, 1])
            cover = np.clip(ball.radius * cam.scale + 0.5 - d, 0, 1).astype(np.float32)
            img = img * (1 - cover[..., None]) + np.asarray(ball.rgb, np.float32) * cover[..., None]
            shown[:i] *= 1 - cover
            shown[i] = cover
        video[f] = img
        masks[f] = shown > 0.5
    return np.clip(video, 0, 1), masks
