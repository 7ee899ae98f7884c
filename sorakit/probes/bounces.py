"""Bounces: each contact between two free-flight segments, what it hit, and its restitution.

Both segments are fitted with the clip's gravity (measured, else the reference); the contact
time is where the incoming parabola touches the surface, and restitution is the outgoing normal
speed over the incoming one, each read from its own fit at its own touching time. Fails when a
contact returns more speed than it received (restitution > 1 + E_TOL: energy from nowhere, the
signature of a time-reversed clip) or the velocity jumps in mid-air with nothing to hit.
"""
from __future__ import annotations

import numpy as np

from .context import Context, prepare, unmet
from .gravity import measured_g
from .kinematics import KICK_DV, Motion, fit, floor_landings
from .report import ProbeResult

NAME = "bounces"
E_TOL = 0.1


def _touch_time(f, level: float, lo: float, hi: float, slack: float) -> float | None:
    """A time in [lo - slack, hi + slack] where the fitted parabola f (one segment) equals `level`."""
    a, b = f.coef[0]
    roots = np.roots([0.5 * f.accel, b, a - level]) if f.accel else np.array([(level - a) / b]) if b else np.array([])
    roots = [float(r.real) for r in np.atleast_1d(roots) if abs(r.imag) < 1e-9 and lo - slack <= r.real <= hi + slack]
    return min(roots, key=lambda r: abs(r - (lo + hi) / 2)) if roots else None


def _contact(m: Motion, before: np.ndarray, after: np.ndarray, g: float, width_units: float, fps: float) -> dict:
    t, (x, y), r = m.t, m.pos.T, m.radius
    gap = np.arange(before[-1], after[0] + 1)
    fy_b, fy_a = fit(t, y, [before], -g), fit(t, y, [after], -g)
    fx_b, fx_a = fit(t, x, [before], 0.0), fit(t, x, [after], 0.0)
    out = {"frame": int(gap[len(gap) // 2]), "frames": [int(before[-1]), int(after[0])]}
    if None in (fy_b, fy_a, fx_b, fx_a):
        return {**out, "kind": "unmeasured"}
    lo, hi, slack = t[before[-1]], t[after[0]], 0.5 / fps
    t_floor = _touch_time(fy_b, r, lo, hi, slack)
    near = {k for f in gap for k in m.neighbours[f]}
    kinds = []
    if m.floor[gap].any() or t_floor is not None:
        kinds.append("floor")
    if m.wall[gap].any():
        kinds.append("wall")
    if m.rim[gap].any():
        kinds.append("rim")
    if near:
        kinds.append("ball")
    tm = (lo + hi) / 2
    jump = float(np.hypot(fx_a.velocity(0, tm) - fx_b.velocity(0, tm), fy_a.velocity(0, tm) - fy_b.velocity(0, tm)))
    out.update(kind="+".join(kinds) or "none", velocity_change=jump, with_objects=sorted(near))
    if kinds == ["floor"] and t_floor is not None:
        t_out = _touch_time(fy_a, r, lo, hi, slack)
        v_in = fy_b.velocity(0, t_floor)
        v_out = fy_a.velocity(0, t_out if t_out is not None else t_floor)
        if v_in < -0.5:
            out.update(restitution=float(v_out / -v_in), speed_in=float(-v_in), time=float(t_floor))
    elif kinds == ["wall"]:
        v_in, v_out = fx_b.velocity(0, tm), fx_a.velocity(0, tm)
        side = np.sign(x[gap[0]] - width_units / 2)
        if v_in * side > 0.5:
            out.update(restitution=float(-v_out / v_in), speed_in=float(abs(v_in)), time=float(tm))
    return out


def bounces(video, fps=None) -> ProbeResult:
    """Contacts and restitution on `video` (or a Context)."""
    return prepare(video, fps).result(NAME, _bounces)


def _bounces(ctx: Context) -> ProbeResult:
    if (why := unmet(ctx, NAME, frames=4, objects=1)) is not None:
        return why
    g = measured_g(ctx) or ctx.gravity
    width_units = ctx.camera.width / ctx.camera.scale
    contacts, landings = [], {}
    for name, m in ctx.motions.items():
        landings[name] = floor_landings(m)
        for before, after in zip(m.segments, m.segments[1:]):
            if after[0] - before[-1] > 4:  # a long gap: several contacts or a lost track, nothing to pair
                continue
            contacts.append({"object": name, **_contact(m, before, after, g, width_units, ctx.fps)})
    for c in contacts:  # a velocity jump in mid-air, far beyond tracking noise
        c["unexplained"] = c["kind"] == "none" and c["velocity_change"] > 1.5 * KICK_DV
    measured = [c for c in contacts if "restitution" in c]
    metrics = {"contacts": contacts, "floor_bounces": {k: len(v) for k, v in landings.items()},
               "landing_frames": landings, "gravity_used": g,
               "restitution": [c["restitution"] for c in measured],
               "restitution_median": float(np.median([c["restitution"] for c in measured])) if measured else None}
    passed = verdict(metrics)
    return ProbeResult(NAME, passed, describe(metrics), metrics)


def verdict(metrics: dict) -> bool | None:
    """False on energy from nowhere or an unexplained jump, None when no bounce could be measured."""
    contacts = metrics["contacts"]
    if any(c.get("restitution", 0) > 1 + E_TOL or c.get("unexplained") for c in contacts):
        return False
    return True if metrics["restitution"] else None


def describe(metrics: dict, unit: str = "units") -> str:
    """The verdict's reason from the metrics; `unit` names the length unit of velocities."""
    contacts = metrics["contacts"]
    measured = [c for c in contacts if "restitution" in c]
    gaining = [c for c in measured if c["restitution"] > 1 + E_TOL]
    unexplained = [c for c in contacts if c.get("unexplained")]
    if gaining:
        c = gaining[0]
        return (f"{c['object']} leaves the {c['kind']} faster than it arrived at frame {c['frame']} "
                f"(restitution {c['restitution']:.2f} > 1: energy from nowhere)")
    if unexplained:
        c = unexplained[0]
        return (f"{c['object']} changes velocity by {c['velocity_change']:.1f} {unit}/s at frame {c['frame']} "
                "with nothing to hit")
    if not measured:
        return "no bounce with free flight on both sides to measure"
    return "restitution " + ", ".join(f"{c['restitution']:.2f} ({c['kind']}, frame {c['frame']})" for c in measured[:4])
