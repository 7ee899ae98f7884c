"""Gravity, bounces and persistence on objects tracked in any footage (`track_object`).

The probes' thresholds are in the world's units, where the image is 10 units wide. Footage is
probed in those same image-relative units (so a ball that crosses a frame is judged alike at any
resolution), then every length in the results is converted to the caller's units: pixels, or
`unit` when `scale=(pixels, length)` says how many pixels a known length spans. Each result's
metrics say which units were used (`metrics["units"]`).

The floor is where bounces happen: a pixel row (y down), None (no floor in view) or "auto": where
an object's bottom rests (its lowest, held for three frames), else where its falling and rising
parabolas meet at a bounce, else the lowest point any object's bottom reaches.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import world
from ..world.scene import WORLD_WIDTH
from .bounces import bounces
from .bounces import describe as describe_bounces
from .context import Context
from .gravity import describe as describe_gravity
from .gravity import gravity
from .gravity import verdict as gravity_verdict
from .inputs import as_fps, as_video
from .kinematics import fit
from .object_tracking import ObjectTrack
from .persistence import describe as describe_violation
from .persistence import persistence
from .report import ProbeReport, ProbeResult

PROBES = ("gravity", "bounces", "persistence")
NO_FLOOR = 11.0  # frame heights: a floor row this far below the image is never touched
FIT_PX = 0.25  # rms of a bounce's two parabolas, pixels, beyond which they do not place the floor
REST_PX, REST_FRAMES = 0.25, 3  # a bottom within this of its lowest for this many frames lies on the floor
EARTH_G = 9.81  # m/s², the reference when lengths are in metres
# Metrics that are lengths (or lengths per second, per second squared): converted to the caller's unit.
LENGTH_KEYS = {"g", "g_reference", "g_spread", "horizontal_accel", "gravity_used", "velocity_change", "speed_in",
               "jump", "allowed"}


@dataclass(frozen=True)
class Units:
    name: str  # "px" or the caller's unit
    pixels_per_unit: float
    per_probe_unit: float  # caller's units per probe unit (a tenth of the image width)

    def to_dict(self) -> dict:
        return {"length": self.name, "pixels_per_unit": self.pixels_per_unit,
                "source": "pixels" if self.name == "px" else "scale given"}


def _units(scale, unit: str, width: int) -> Units:
    if scale is None:
        return Units("px", 1.0, width / WORLD_WIDTH)
    values = np.asarray(scale, float) if np.ndim(scale) == 1 else np.array([])
    if values.shape != (2,) or not np.isfinite(values).all() or (values <= 0).any():
        raise ValueError(f"scale must be (pixels, length): a known length's size in pixels and its real "
                         f"length, both positive, got {scale!r}")
    if not isinstance(unit, str) or not unit.strip():
        raise ValueError(f"unit must name the length unit of scale (e.g. 'm'), got {unit!r}")
    per_unit = values[0] / values[1]
    return Units(unit.strip(), float(per_unit), width / WORLD_WIDTH / per_unit)


def _as_tracks(tracks) -> dict[str, ObjectTrack]:
    if isinstance(tracks, ObjectTrack):
        return {"object0": tracks}
    if isinstance(tracks, dict):
        named = dict(tracks)
    elif isinstance(tracks, (list, tuple)):
        named = {f"object{k}": t for k, t in enumerate(tracks)}
    else:
        raise ValueError(f"tracks must be an ObjectTrack (from probes.track_object), a list or a dict of them, "
                         f"got {type(tracks).__name__}")
    if not named or not all(isinstance(t, ObjectTrack) for t in named.values()):
        raise ValueError("tracks must hold at least one ObjectTrack (from probes.track_object)")
    return {str(k): v for k, v in named.items()}


def _floor_row(video, tracks: dict[str, ObjectTrack], floor, fps: float) -> float:
    height, width = video.shape[1:3]
    if floor is None:
        return NO_FLOOR * height
    if isinstance(floor, str) and floor == "auto":
        bottoms = [t.center[:, 1] + t.radius for t in tracks.values() if t.present.any()]
        if not bottoms:
            return NO_FLOOR * height
        if (row := _resting_floor(bottoms)) is not None:
            return row
        lowest = float(max(np.nanmax(b) for b in bottoms))
        below = world.Camera(height, width, origin=(0.0, NO_FLOOR * height))
        row = _bounce_floor(_context(video, tracks, fps, below, None))
        return lowest if row is None or row < lowest else row  # nothing sinks into the floor
    if isinstance(floor, bool) or not isinstance(floor, (int, float, np.integer, np.floating)) \
            or not np.isfinite(floor):
        raise ValueError(f"floor must be a pixel row (y down), 'auto' or None, got {floor!r}")
    return float(floor)


def _resting_floor(bottoms: list[np.ndarray]) -> float | None:
    """Pixel row an object's bottom rests on: its lowest, held for REST_FRAMES frames in a row."""
    rows = []
    for bottom in bottoms:
        low = bottom >= np.nanmax(bottom) - REST_PX
        runs = np.diff(np.r_[0, low.astype(int), 0])
        if (np.flatnonzero(runs == -1) - np.flatnonzero(runs == 1)).max() >= REST_FRAMES:
            rows.append(float(np.nanmax(bottom)))
    return max(rows) if rows else None


def _bounce_floor(ctx: Context) -> float | None:
    """Pixel row of the floor from the bounces seen: where the bottom's falling and rising parabolas
    (one g) meet. A frame rarely catches the impact itself, so the lowest bottom seen sits above it."""
    heights = []
    for m in ctx.motions.values():
        for before, after in zip(m.segments, m.segments[1:]):
            f = fit(m.t, m.pos[:, 1], [before, after]) if after[0] - before[-1] <= 4 else None
            # Two clean parabolas only: a segment that holds an unseen small hop or a rest misplaces the meeting.
            if f is None or f.coef[0][1] == f.coef[1][1] or f.rms * ctx.camera.scale > FIT_PX:
                continue
            (a0, b0), (a1, b1) = f.coef
            t = (a1 - a0) / (b0 - b1)  # the shared acceleration cancels where the two meet
            if m.t[before[-1]] - 0.5 / ctx.fps <= t <= m.t[after[0]] + 0.5 / ctx.fps \
                    and f.velocity(0, t) < 0 < f.velocity(1, t):
                heights.append(f.value(0, t) - m.radius)
    if not heights:
        return None
    return float(ctx.camera.to_pixels(np.array([0.0, np.median(heights)]))[1])


def _context(video, tracks, fps, camera, reference) -> Context:
    """A probe Context on the given tracks, in probe units (camera: the image is 10 units wide)."""
    frames = len(video)
    converted = {}
    for name, t in tracks.items():
        if t.center.shape != (frames, 2):
            raise ValueError(f"track {name!r} has {len(t.center)} frames, the video {frames}")
        pos = camera.to_world(t.center)
        pos[~t.present] = np.nan
        radius = np.where(t.present, t.radius / camera.scale, np.nan)
        converted[name] = world.Track(name, t.present.copy(), pos, radius, np.pi * np.nan_to_num(t.radius) ** 2,
                                      np.asarray(t.components))
    ctx = Context(video, fps, None, converted, "footage", world.GRAVITY if reference is None else reference)
    ctx.camera = camera  # the floor is where the footage shows it, not the world's band
    return ctx


def _converted(value, factor: float, key: str | None = None):
    if isinstance(value, dict):
        return {k: _converted(v, factor, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_converted(v, factor, key) for v in value]
    if key in LENGTH_KEYS and isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
        return float(value) * factor
    return value


def _in_units(result: ProbeResult, units: Units, has_reference: bool) -> ProbeResult:
    """The result with its lengths in the caller's unit, its reason worded in it, and the unit named."""
    metrics = _converted(result.metrics, units.per_probe_unit)
    passed, reason = result.passed, result.reason  # a probe that could not run keeps its reason
    if result.name == "gravity" and "g" in metrics:
        if not has_reference:
            metrics.update(g_reference=None, relative_error=None)
        passed, reason = gravity_verdict(metrics), describe_gravity(metrics, units.name)
    elif result.name == "bounces" and "contacts" in metrics:
        reason = describe_bounces(metrics, units.name)
    elif result.name == "persistence" and (found := metrics.get("violations")):
        more = f" (+{len(found) - 1} more)" if len(found) > 1 else ""
        reason = describe_violation(found[0], units.name) + more
    return ProbeResult(result.name, passed, reason, {**metrics, "units": units.to_dict()}, result.data)


def run_footage(video, tracks, fps=None, *, scale=None, unit: str = "m", floor="auto",
                gravity_reference: float | None = None, probes=None) -> ProbeReport:
    """Gravity, bounces and persistence on objects followed by `track_object` in `video`.

    scale: (pixels, length): a length seen in the frame and its real size, e.g. (212, 1.0) for a
    metre stick 212 px long; lengths are then reported in `unit`, else in pixels ("px").
    gravity_reference: the g to compare with, in the reported units per s² (default 9.81 when the
    unit is "m"; none in pixels, when the gravity probe reports g without a verdict).
    floor: pixel row of the floor (y down), "auto" or None (see the module doc).
    """
    names = list(PROBES) if probes is None else ([probes] if isinstance(probes, str) else list(probes))
    if unknown := [p for p in names if p not in PROBES]:
        raise ValueError(f"unknown probe(s) {unknown} for footage; allowed: {', '.join(PROBES)}")
    video = as_video(video)
    fps = as_fps(fps)
    tracks = _as_tracks(tracks)
    height, width = video.shape[1:3]
    units = _units(scale, unit, width)
    if gravity_reference is None and units.name == "m":
        gravity_reference = EARTH_G
    if gravity_reference is not None and not (np.isfinite(gravity_reference) and gravity_reference > 0):
        raise ValueError(f"gravity_reference must be a positive number, got {gravity_reference!r}")
    camera = world.Camera(height, width, origin=(0.0, _floor_row(video, tracks, floor, fps)))
    reference = None if gravity_reference is None else gravity_reference / units.per_probe_unit
    ctx = _context(video, tracks, fps, camera, reference)
    if reference is None:  # no reference: the other probes predict motion with the clip's own g
        measured = gravity(ctx)
        if measured.ran and measured.metrics["g"] > 0:
            ctx = _context(video, tracks, fps, camera, measured.metrics["g"])
    calls = {"gravity": gravity, "bounces": bounces, "persistence": persistence}
    results = {name: _in_units(calls[name](ctx), units, reference is not None) for name in names}
    return ProbeReport(results, ctx)
