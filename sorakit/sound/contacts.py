"""Where the tracked balls would touch something between two frames: contact-time features for ImpactNet.

The motion profiles (features.py) show that something moved, not when it touched what. Here each
ball is tracked by colour (sorakit.world.track: sub-pixel centres in world units) and, for every frame
interval, followed along two free-flight paths under gravity: forward from the frame before (its
velocity from the two frames before the interval) and backward from the frame after (from the two
frames after). Where a path meets the floor, a wall, another ball, a rim or the hoop's opening, an
impact could start; the forward path says when it was reached, the backward one when it was left,
each to a fraction of a frame. Each crossing is splatted into the interval's time bins, weighted by
the speed of approach, and summed over balls, so two impacts in one interval stay two.
"""
from __future__ import annotations

import numpy as np

from ..world.render import HOOP, Camera
from ..world.scene import GRAVITY, WORLD_WIDTH

SURFACES = ("floor", "wall", "ball", "rim", "hoop")
STEPS = 32  # points per interval on which each path is followed
RIM_RADIUS = 0.12  # world units (sorakit.world.scene.Hoop.rim_radius)


def contact_dim(bins: int) -> int:
    """Features per frame interval: per surface a forward and a backward crossing per bin, plus the
    nearest gap at both ends; plus how much the balls' velocities jump over the interval."""
    return len(SURFACES) * (2 * bins + 2) + 1


def ball_tracks(video: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(F, n, 2) centres in world units (NaN where a ball is not seen) and (n,) radii, one per colour seen."""
    from ..world.track import track

    tracks = list(track(video).values())
    if not tracks:
        return np.full((len(video), 0, 2), np.nan), np.zeros(0)
    pos = np.stack([t.pos for t in tracks], 1)
    radius = np.array([np.nanmedian(t.radius) for t in tracks])
    return pos, radius


def rim_line(video: np.ndarray) -> tuple[float, float, float] | None:
    """(x, y, half width) of a hoop's rim line in world units from the still frame, or None: the rim
    is the widest row of hoop-coloured pixels (the net hangs below it in two thin lines).

    Not `probes.find_hoop`, which places the rims to a fraction of a pixel: ImpactNet was trained on
    the features of this coarser one (within about a third of a pixel), and the probe's, ~7 times slower,
    changes its onsets on about half of the hoop clips."""
    from ..world.track import coverage

    still = np.median(np.asarray(video, np.float32), axis=0)
    hoop = coverage(still[None], HOOP)[0].astype(np.float64)
    height, width = hoop.shape
    row_mass = hoop.sum(1)
    if row_mass.max() < 2:
        return None
    top = int(row_mass.argmax())
    cols = np.flatnonzero(hoop[top] > 0)
    rows = np.arange(max(0, top - 1), min(height, top + 2))
    y_px = float((hoop[rows].sum(1) * (rows + 0.5)).sum() / hoop[rows].sum())
    cam = Camera(height, width)
    (left, y), (right, _) = cam.to_world(np.array([[cols[0] + 0.5, y_px], [cols[-1] + 0.5, y_px]]))
    return float((left + right) / 2), float(y), float((right - left) / 2 - RIM_RADIUS)  # to the rims' centres


def _paths(pos: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """Free-flight paths over each interval f (frame f to f+1), (F-1, n, STEPS+1, 2) each: forward from
    frame f with the velocity of frames f-1..f, backward from frame f+1 with that of frames f+1..f+2."""
    acc = np.array([0.0, -GRAVITY])
    tau = np.linspace(0.0, dt, STEPS + 1)[None, None, :, None]
    before = np.concatenate([np.full_like(pos[:1], np.nan), pos[:-1]])  # frame f-1 at f
    after = np.concatenate([pos[2:], np.full_like(pos[:1], np.nan)])  # frame f+2 at f+1
    v_in = (pos[:-1] - before[:-1]) / dt + 0.5 * acc * dt  # at frame f, free flight over f-1..f
    v_out = (after - pos[1:]) / dt - 0.5 * acc * dt  # at frame f+1
    forward = pos[:-1, :, None] + v_in[:, :, None] * tau + 0.5 * acc * tau**2
    back = tau - dt
    backward = pos[1:, :, None] + v_out[:, :, None] * back + 0.5 * acc * back**2
    return forward, backward


def _gaps(path: np.ndarray, radius: np.ndarray, hoop) -> dict[str, np.ndarray]:
    """Per surface, (F-1, entities, STEPS+1) distances along `path` (negative: touching or through)."""
    x, y = path[..., 0], path[..., 1]
    r = radius[None, :, None]
    walls = np.concatenate([x - r, WORLD_WIDTH - x - r], 1)
    n = path.shape[1]
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    ball = np.stack([np.linalg.norm(path[:, i] - path[:, j], axis=-1) - radius[i] - radius[j] for i, j in pairs], 1) \
        if pairs else np.zeros(path.shape[:1] + (0,) + path.shape[2:3])
    empty = np.zeros(ball.shape[:1] + (0,) + ball.shape[2:])
    rim = hoop_line = empty
    if hoop is not None:
        hx, hy, half = hoop
        rims = [np.hypot(x - cx, y - hy) - r - RIM_RADIUS for cx in (hx - half, hx + half)]
        rim = np.concatenate(rims, 1)
        inside = np.abs(x - hx) < half - RIM_RADIUS
        hoop_line = np.where(inside, y - hy, np.inf)  # the centre going down through the opening
    return {"floor": y - r, "wall": walls, "ball": ball, "rim": rim, "hoop": hoop_line}


def _crossings(gap: np.ndarray, dt: float, bins: int, entering: bool) -> np.ndarray:
    """(F-1, bins): each entity's first entry into (or, backward, last exit from) gap < 0 in the interval,
    splatted linearly onto the bins at its sub-step time and weighted by log(1 + speed of approach)."""
    out = np.zeros((gap.shape[0], bins))
    if gap.shape[1] == 0:
        return out
    g = np.nan_to_num(gap, nan=np.inf, posinf=1e6)
    valid = np.isfinite(gap).all(-1)
    if entering:
        step = (g[..., :-1] >= 0) & (g[..., 1:] < 0)
        k = np.where(step.any(-1), step.argmax(-1), -1)
    else:
        step = (g[..., :-1] < 0) & (g[..., 1:] >= 0)
        k = np.where(step.any(-1), STEPS - 1 - step[..., ::-1].argmax(-1), -1)
    f, e = np.nonzero((k >= 0) & valid)
    k = k[f, e]
    g0, g1 = g[f, e, k], g[f, e, k + 1]
    frac = g0 / np.where(g0 != g1, g0 - g1, 1.0)  # where the straight piece crosses 0
    when = (k + frac) / STEPS  # fraction of the interval
    speed = np.abs(g1 - g0) / (dt / STEPS)
    weight = np.log1p(np.minimum(speed, 50.0))
    place = np.clip(when * bins - 0.5, 0, bins - 1)
    low = np.floor(place).astype(int)
    high = np.minimum(low + 1, bins - 1)
    np.add.at(out, (f, low), weight * (1 - (place - low)))
    np.add.at(out, (f, high), weight * (place - low))
    return out


def _nearness(gap: np.ndarray, end: int) -> np.ndarray:
    """(F-1,): how close the nearest entity is at one end of the interval (1 touching, 0 far or none)."""
    if gap.shape[1] == 0:
        return np.zeros(gap.shape[0])
    g = np.nan_to_num(gap[..., end], nan=1e6, posinf=1e6)
    return np.exp(-np.clip(g.min(1), 0.0, 50.0) / 0.3)


def contact_features(video: np.ndarray, fps: float, bins: int) -> np.ndarray:
    """(F, contact_dim(bins)) float32: row f describes the interval from frame f to f+1 (the last row, zeros)."""
    video = np.asarray(video, np.float32)
    frames = len(video)
    out = np.zeros((frames, contact_dim(bins)), np.float32)
    pos, radius = ball_tracks(video)
    if frames < 2 or pos.shape[1] == 0:
        return out
    dt = 1.0 / fps
    forward, backward = _paths(pos, dt)
    hoop = rim_line(video)
    ahead, behind = _gaps(forward, radius, hoop), _gaps(backward, radius, hoop)
    cols = []
    for name in SURFACES:
        cols += [_crossings(ahead[name], dt, bins, True), _crossings(behind[name], dt, bins, False),
                 _nearness(ahead[name], 0)[:, None], _nearness(behind[name], -1)[:, None]]
    # free flight would reach the next frame where the ball is (and come back from it to this one): a miss
    # means the velocity jumped in or next to the interval
    miss = np.linalg.norm(forward[:, :, -1] - pos[1:], axis=-1) + np.linalg.norm(backward[:, :, 0] - pos[:-1], axis=-1)
    cols.append(np.log1p(np.nan_to_num(miss / dt, nan=0.0).sum(1))[:, None])
    out[:-1] = np.concatenate(cols, 1)
    return out
