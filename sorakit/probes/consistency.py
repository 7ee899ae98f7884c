"""Simulator consistency: does the clip move the way the world's simulator says it must?

From the first `given` frames estimate every ball's initial state (position, velocity, radius),
take each ball's restitution (a material property, not a state) from its measured bounces, else
identify it by the rollout that best matches the whole track (grid search), put the balls in a scene
(`world.with_balls`, the hoop found in the pixels), roll `world.simulate` forward and compare
(phyworld, Kang et al. 2024): the velocity error in world units/s between central differences
of the tracked positions and the simulator's velocities, on the frames after `given`, and its ratio
to the ground-truth parse floor (the same error for `world.track()` on rendered ground truth:
nothing parsed from pixels can do better). Samples within a frame of a
contact in the simulation, or with a ball partly outside the image or touching another, are left
out as the floor leaves them out. Given the true `scene` (evaluation against known clips), its
own simulation is the reference instead of an estimate.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from .. import world
from ..world.parse_floor import central_velocity
from .context import Context, prepare
from .kinematics import fit
from .report import ProbeResult, skipped

NAME = "consistency"
# world.parse_floor(200, seed=0): mean |v_tracked - v_true| (world units/s) on ground-truth clips, per
# (height, width, fps): at 32x32, 16 frames over 2925 usable samples (mean speed 3.77); at 64x64, 24 frames
# (mean speed 3.40). Re-measure with `measure_parse_floor(height=..., width=..., num_frames=...)`.
PARSE_FLOORS = {(32, 32, 8.0): 0.0233, (64, 64, 8.0): 0.0087}
PARSE_FLOOR = PARSE_FLOORS[(32, 32, 8.0)]  # the shipped model's clip size
MAX_RATIO = 10.0  # verdict: within this many parse floors
IMPACT_FREE = 0.05  # world units/s: a simulated contact slower than this leaves central differences valid
DEFAULT_RESTITUTION = 0.8
RESTITUTION_GRID = np.round(np.arange(0.1, 1.0001, 0.1), 2)


def measure_parse_floor(n: int = 200, seed: int = 0, **kwargs) -> float:
    """The constant PARSE_FLOOR, measured again (world units/s)."""
    return float(world.parse_floor(n, seed=seed, progress=False, **kwargs)["mean"])


def parse_floor_at(height: int, width: int, fps: float) -> tuple[float, tuple[int, int, float]]:
    """(floor, the (height, width, fps) it was measured at): this clip size's own where measured, else the
    32x32 one; the tracker reads larger balls more precisely, so a ratio to another size's floor is only
    indicative."""
    size = (int(height), int(width), float(fps))
    at = size if size in PARSE_FLOORS else (32, 32, 8.0)
    return PARSE_FLOORS[at], at


def size_label(size: tuple[int, int, float]) -> str:
    """(32, 32, 8.0) -> "32x32, 8 fps"."""
    height, width, fps = size
    return f"{height}x{width}, {fps:g} fps"


def _measured_restitution(ctx: Context, name: str) -> float | None:
    from .bounces import bounces

    mine = [c["restitution"] for c in bounces(ctx).metrics.get("contacts", [])
            if c["object"] == name and "restitution" in c]
    return float(np.clip(np.median(mine), 0, 1)) if mine else None


def _identify_restitution(ctx: Context, scene: world.Scene, names: list[str], todo: list[int]) -> world.Scene:
    """Coordinate search: for each ball in `todo`, the grid value (then +-0.05) whose rollout
    tracks the clip best (mean position error over the frames the ball is seen)."""
    def cost(sc: world.Scene) -> float:
        traj = world.simulate(sc)
        errs = [np.linalg.norm(ctx.motions[n].pos - traj.pos[:, i], axis=-1) for i, n in enumerate(names)]
        return float(np.nanmean(np.concatenate(errs)))

    for i in todo:
        def with_e(e: float) -> world.Scene:
            balls = list(scene.balls)
            balls[i] = replace(balls[i], restitution=float(e))
            return world.with_balls(scene, balls)

        best = min(RESTITUTION_GRID, key=lambda e: cost(with_e(e)))
        best = min((best - 0.05, best, best + 0.05), key=lambda e: cost(with_e(float(np.clip(e, 0, 1)))))
        scene = with_e(float(np.clip(best, 0, 1)))
    return scene


def estimate_balls(ctx: Context, given: int) -> tuple[list[world.Ball], list[str], dict]:
    """Initial Ball of every object present at frame 0, from frames before `given` (and before its
    first contact): position and velocity at t = 0 from a ballistic fit (rolling: on the floor)."""
    balls, names, how = [], [], {}
    for name, m in ctx.motions.items():
        if not m.present[0]:
            continue
        first = [f for f in range(min(given, ctx.frames)) if m.present[f]]
        calm = []
        for f in first:  # stop at the first contact with anything but the floor
            if m.neighbours[f] or m.wall[f] or m.rim[f] or (f and m.kick[f]):
                break
            calm.append(f)
        frames = np.array(calm if len(calm) >= 2 else first[:2])
        rolling = m.floor[frames].mean() >= 0.5
        fx = fit(m.t, m.pos[:, 0], [frames], 0.0) if len(frames) >= 2 else None
        fy = None if rolling or len(frames) < 2 else fit(m.t, m.pos[:, 1], [frames], -ctx.gravity)
        x, vx = fx.coef[0] if fx else (m.pos[0, 0], 0.0)
        y, vy = (m.radius, 0.0) if rolling or fy is None else fy.coef[0]
        e = _measured_restitution(ctx, name)
        r = float(m.radius)
        color = name if name in world.COLORS else "red"
        size = min(world.SIZES, key=lambda s: abs(world.SIZES[s] - r))
        balls.append(world.Ball(color, size, r, float(x), float(max(y, r)), float(vx), float(vy),
                                DEFAULT_RESTITUTION if e is None else e))
        names.append(name)
        how[name] = {"frames": [int(f) for f in frames], "rolling": bool(rolling),
                     "restitution_from": "fitted" if e is None else "measured"}
    return balls, names, how


def _usable(traj: world.Trajectory, radius: np.ndarray, cam: world.Camera, i: int) -> np.ndarray:
    """(F,) central difference valid at f: no simulated contact in either interval, the ball whole
    inside the image and a pixel clear of the others at f-1, f, f+1 (as the parse floor counts)."""
    frames = len(traj.t)
    impacts = traj.impacts if traj.impacts is not None else np.zeros((frames, len(radius)))
    px = cam.to_pixels(traj.pos)
    r = radius * cam.scale
    ok = ((px[:, i, 0] - r[i] >= 0) & (px[:, i, 0] + r[i] <= cam.width)
          & (px[:, i, 1] - r[i] >= 0) & (px[:, i, 1] + r[i] <= cam.height))
    for j in range(len(radius)):
        if j != i:
            ok &= np.linalg.norm(px[:, i] - px[:, j], axis=-1) - r[i] - r[j] > 1.0
    use = np.zeros(frames, bool)
    use[1:-1] = ok[:-2] & ok[1:-1] & ok[2:] & (impacts[1:-1, i] < IMPACT_FREE) & (impacts[2:, i] < IMPACT_FREE)
    return use


def consistency(video, fps=None, given: int = 4, scene: world.Scene | None = None) -> ProbeResult:
    """Velocity and position error against the simulator; `given` = frames the estimate may use
    (and that are not scored). With the true `scene`, its simulation is the reference."""
    if not isinstance(given, (int, np.integer)) or given < 2:
        raise ValueError(f"given must be an integer >= 2 (frames to estimate the initial state from), got {given!r}")
    ctx = prepare(video, fps)
    key = f"{NAME}:{given}:{id(scene) if scene is not None else ''}"
    result = ctx.result(key, lambda c: _consistency(c, int(given), scene))
    ctx.results.setdefault(NAME, result)
    return result


def _reference(ctx: Context, given: int, scene: world.Scene | None):
    if scene is not None:
        if abs(scene.fps - ctx.fps) > 1e-6 or scene.num_frames != ctx.frames:
            raise ValueError(f"scene has {scene.num_frames} frames at {scene.fps} fps, "
                             f"the clip {ctx.frames} at {ctx.fps}")
        return scene, [b.color for b in scene.balls], {"reference": "true scene"}
    balls, names, how = estimate_balls(ctx, given)
    base = world.Scene(seed=0, scenario="estimated", balls=tuple(balls), gravity=ctx.gravity, hoop=ctx.hoop,
                       num_frames=ctx.frames, fps=ctx.fps)
    fitted = _identify_restitution(ctx, world.with_balls(base, balls), names,
                                   [i for i, n in enumerate(names) if how[n]["restitution_from"] == "fitted"])
    for b, n in zip(fitted.balls, names):
        how[n]["restitution"] = b.restitution
    return fitted, names, {"reference": "estimated from the first frames", "estimate": how}


def _consistency(ctx: Context, given: int, scene: world.Scene | None) -> ProbeResult:
    if ctx.frames < given + 3:
        return skipped(NAME, f"needs at least {given + 3} frames ({given} to estimate from, 3 to score), "
                             f"the clip has {ctx.frames}")
    if not ctx.motions and scene is None:
        return skipped(NAME, "no object tracked")
    ref_scene, names, info = _reference(ctx, given, scene)
    if not ref_scene.balls:
        return skipped(NAME, "no object is visible in the first frame to start the simulation from")
    traj = world.simulate(ref_scene)
    radius = np.array([b.radius for b in ref_scene.balls])
    errors, speeds, missing = [], [], []
    per_frame = np.full((ctx.frames, len(names)), np.nan)
    for i, name in enumerate(names):
        m = ctx.motions.get(name)
        if m is None:
            missing.append(name)
            continue
        vel = central_velocity(m.pos, ctx.fps)
        use = _usable(traj, radius, ctx.camera, i) & np.isfinite(vel).all(-1)
        use[:given] = False
        errors += np.linalg.norm(vel[use] - traj.vel[use, i], axis=-1).tolist()
        speeds += np.linalg.norm(traj.vel[use, i], axis=-1).tolist()
        per_frame[:, i] = np.linalg.norm(m.pos - traj.pos[:, i], axis=-1)
    seen = np.isfinite(per_frame)
    position = np.where(seen.any(1), np.where(seen, per_frame, 0).sum(1) / np.maximum(seen.sum(1), 1), np.nan)
    scored = position[given:]
    floor, at = parse_floor_at(*ctx.video.shape[1:3], ctx.fps)
    metrics = {**info, "given": given, "parse_floor": floor, "floor_measured_at": size_label(at),
               "samples": len(errors), "missing": missing,
               "position_error": position,
               "position_error_mean": float(np.nanmean(scored)) if np.isfinite(scored).any() else None,
               "position_error_final": float(scored[-1]) if np.isfinite(scored[-1]) else None}
    data = {"simulated": {n: traj.pos[:, i] for i, n in enumerate(names)}}
    if missing and len(missing) == len(names):
        return ProbeResult(NAME, False, f"none of the simulated objects ({', '.join(missing)}) is in the clip",
                           metrics, data)
    if not errors:
        return ProbeResult(NAME, None, "no frame away from contacts to compare velocities on", metrics, data)
    err = float(np.mean(errors))
    ratio = err / floor
    metrics.update(velocity_error=err, floor_ratio=ratio, mean_speed=float(np.mean(speeds)),
                   relative_velocity_error=err / max(float(np.mean(speeds)), 1e-9))
    ok = ratio <= MAX_RATIO and not missing
    own_size = at == (*ctx.video.shape[1:3], float(ctx.fps))
    where = f"{floor} units/s" + ("" if own_size else f", measured at {size_label(at)}")
    text = (f"velocity error {err:.3f} units/s = {ratio:.1f}x the parse floor ({where}), "
            f"position off by {metrics['position_error_mean'] or 0:.2f} units on average")
    if missing:
        text += f"; {', '.join(missing)} missing from the clip"
    elif not ok:
        text += f" (allowed {MAX_RATIO:.0f}x)"
    return ProbeResult(NAME, ok, text, metrics, data)
