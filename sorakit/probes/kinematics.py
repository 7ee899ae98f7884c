"""From tracks to motion: contacts, free-flight segments and ballistic fits, shared by the probes.

Positions are world units (y up, floor at 0; `world.Camera`), time in seconds. Between contacts a
ball is in free flight: y(t) = a + b t - g t^2 / 2 and x(t) = c + d t. A contact shows as a jump
of the velocity between consecutive frame intervals (the second difference of position) beyond
what gravity gives; the jump is gravity-agnostic (measured against the ball's own median), so a
clip with the wrong gravity still yields segments that the gravity probe can judge.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import world

FLOOR_TOUCH = 0.1  # world units between the ball's bottom and the floor: touching (~0.3 px at 32 px)
WALL_TOUCH = 0.15  # same for the side walls (the image edges)
BALL_GAP = 0.4  # two balls' edges closer than this: in contact or occluding each other (also ball-rim)
KICK_DV = 2.0  # world units/s: a velocity jump between consecutive frame intervals beyond gravity's
HOP = 0.05  # world units (0.16 px at 32 px): a ball higher than this above the floor is in the air


@dataclass
class Motion:
    """One object's track, prepared for the probes."""

    name: str
    t: np.ndarray  # (F,) s
    pos: np.ndarray  # (F, 2) world units, NaN where absent
    present: np.ndarray  # (F,) bool
    radius: float  # median tracked radius, world units
    inside: np.ndarray  # (F,) whole ball inside the image
    floor: np.ndarray  # (F,) bottom touching the floor
    wall: np.ndarray  # (F,) touching a side wall
    rim: np.ndarray  # (F,) touching (or about to touch) a hoop rim
    neighbours: list[set]  # per frame: names of objects in contact / overlapping
    dv: np.ndarray  # (F, 2) velocity change at each frame (second difference x fps), NaN at the ends
    kick: np.ndarray  # (F,) velocity jump at this frame (contact in an adjacent interval)
    segments: list[np.ndarray] = field(default_factory=list)  # free-flight frame runs (>= 2 frames)

    @property
    def clear(self) -> np.ndarray:
        return self.present & self.inside & np.array([not n for n in self.neighbours])


def _step(pos: np.ndarray) -> np.ndarray:
    """(F,) half the longer of the two displacements (frame intervals) around each frame; 0 where unknown.

    Contacts happen between frames: every point of the path between two frames lies within half
    a step of one of them, so a frame this much farther from a surface may be in contact."""
    d = 0.5 * np.nan_to_num(np.linalg.norm(np.diff(pos, axis=0), axis=-1))
    return np.maximum(np.r_[0.0, d], np.r_[d, 0.0])


def _second_difference(pos: np.ndarray, fps: float) -> np.ndarray:
    """(F, 2) velocity change at each frame, world units/s; NaN at the ends and where absent."""
    dv = np.full_like(pos, np.nan)
    dv[1:-1] = (pos[2:] - 2 * pos[1:-1] + pos[:-2]) * fps
    return dv


def _segments(usable: np.ndarray, kick: np.ndarray) -> list[np.ndarray]:
    """Runs of usable frames. A lone kick frame is dropped (the contact is at it); between two
    adjacent kick frames the run is cut (the contact lies in the interval between them)."""
    runs, current = [], []
    for f in range(len(usable)):
        lone = kick[f] and not (f > 0 and kick[f - 1]) and not (f + 1 < len(kick) and kick[f + 1])
        if not usable[f] or lone or (current and kick[f] and kick[f - 1]):
            if len(current) >= 2:
                runs.append(np.array(current))
            current = [] if (not usable[f] or lone) else [f]
            continue
        current.append(f)
    if len(current) >= 2:
        runs.append(np.array(current))
    return runs


def analyse(tracks: dict[str, world.Track], fps: float, camera: world.Camera, gravity: float = world.GRAVITY,
            hoop: world.Hoop | None = None) -> dict[str, Motion]:
    frames = len(next(iter(tracks.values())).present) if tracks else 0
    t = np.arange(frames) / fps
    width_units, top = camera.width / camera.scale, camera.floor_row / camera.scale
    radius = {}
    for name, tr in tracks.items():
        r = tr.radius[tr.present]
        radius[name] = float(np.median(r)) if len(r) else float("nan")
    out = {}
    for name, tr in tracks.items():
        pos, present, r = np.asarray(tr.pos, float), np.asarray(tr.present, bool), radius[name]
        x, y = pos[:, 0], pos[:, 1]
        with np.errstate(invalid="ignore"):
            inside = present & (x - r >= -0.05) & (x + r <= width_units + 0.05) & (y + r <= top + 0.05)
            floor = present & (y - r <= FLOOR_TOUCH)
            reach = WALL_TOUCH + np.abs(_step(pos[:, :1]))  # a contact may fall between two frames
            wall = present & ((x - r <= reach) | (x + r >= width_units - reach))
            rim = np.zeros(frames, bool)
            for rim_xy in (hoop.rims if hoop is not None else ()):
                gap = np.linalg.norm(pos - rim_xy, axis=-1) - r - hoop.rim_radius
                rim |= present & (gap < BALL_GAP + _step(pos))
        neighbours = [set() for _ in range(frames)]
        for other, ot in tracks.items():
            if other == name:
                continue
            rel = pos - np.asarray(ot.pos, float)
            gap = np.linalg.norm(rel, axis=-1) - r - radius[other]
            for f in np.flatnonzero(np.nan_to_num(gap - _step(rel), nan=np.inf) < BALL_GAP):
                neighbours[f].add(other)
        dv = _second_difference(pos, fps)
        flying = np.isfinite(dv).all(-1) & ~floor & ~wall & ~rim & inside & np.array([not n for n in neighbours])
        centre_y = float(np.median(dv[flying, 1])) if flying.sum() >= 3 else -gravity / fps
        with np.errstate(invalid="ignore"):
            kick = (np.abs(dv[:, 0]) > KICK_DV) | (np.abs(dv[:, 1] - centre_y) > KICK_DV)
        m = Motion(name, t, pos, present, r, inside, floor, wall, rim, neighbours, dv, kick)
        m.segments = _segments(m.clear & ~floor & ~wall & ~rim, kick)
        out[name] = m
    return out


@dataclass
class Fit:
    """Ballistic fit of one coordinate over several segments sharing one acceleration."""

    accel: float  # fitted (or fixed) acceleration, world units/s^2 (y: -g)
    coef: list[tuple[float, float]]  # per segment (value at t=0, velocity at t=0)
    rms: float  # residual, world units
    dof: int

    def velocity(self, segment: int, t: float) -> float:
        return self.coef[segment][1] + self.accel * t

    def value(self, segment: int, t: float) -> float:
        a, b = self.coef[segment]
        return a + b * t + 0.5 * self.accel * t * t


def fit(t: np.ndarray, values: np.ndarray, segments: list[np.ndarray], accel: float | None = None) -> Fit | None:
    """Least squares of values = a_s + b_s t + accel t^2 / 2 per segment, accel shared (or fixed).

    None when the data cannot determine the unknowns: a free acceleration needs one point more
    than unknowns; with a fixed one, two frames per segment give the segment's line exactly."""
    segments = [s for s in segments if len(s) >= 2]
    n_pts = sum(len(s) for s in segments)
    unknowns = 2 * len(segments) + (accel is None)
    if not segments or n_pts < unknowns + (accel is None) or (accel is None and all(len(s) < 3 for s in segments)):
        return None
    rows, rhs = [], []
    for k, seg in enumerate(segments):
        for f in seg:
            row = np.zeros(unknowns)
            row[2 * k], row[2 * k + 1] = 1.0, t[f]
            if accel is None:
                row[-1] = 0.5 * t[f] ** 2
            rows.append(row)
            rhs.append(values[f] - (0.0 if accel is None else 0.5 * accel * t[f] ** 2))
    a, b = np.asarray(rows), np.asarray(rhs)
    sol, *_ = np.linalg.lstsq(a, b, rcond=None)
    resid = b - a @ sol
    return Fit(float(sol[-1]) if accel is None else float(accel),
               [(float(sol[2 * k]), float(sol[2 * k + 1])) for k in range(len(segments))],
               float(np.sqrt(np.mean(resid**2))), n_pts - unknowns)


def floor_landings(m: Motion) -> list[int]:
    """Frames at which the ball arrives at the floor from the air (one per bounce impact).

    In the air: bottom more than HOP above the floor. An arrival is the first frame down after a
    frame in the air, or a low frame in the air with an upward velocity jump (a fast bounce that
    happens between two frames)."""
    y = m.pos[:, 1] - m.radius
    out, airborne = [], False
    for f in range(len(y)):
        if not m.present[f]:
            airborne = False
            continue
        down = y[f] <= HOP and (f < len(y) - 1 or y[f] <= HOP / 3)  # the last frame may be just before impact
        bounced = m.dv[f, 1] > KICK_DV and y[f] < 1.5 and not m.neighbours[f] and not m.rim[f]
        if airborne and (down or bounced):
            out.append(f)
            airborne = False
        else:
            airborne = y[f] > HOP
    return out
