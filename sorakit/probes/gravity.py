"""Gravity: fit y(t) = a + b t - g t^2 / 2 on every free-flight segment (one shared g).

Passes when g is within REL_TOL of the reference (the world's 9.8 unless given), horizontal
acceleration is small (no drag or wind in the world) and the parabola explains the track to
within MAX_RESIDUAL_PX. The spread is the standard deviation of g over segments long enough
to fit alone (>= 4 frames).
"""
from __future__ import annotations

import numpy as np

from .context import Context, prepare, unmet
from .kinematics import fit
from .report import ProbeResult, skipped

NAME = "gravity"
REL_TOL = 0.15
MAX_RESIDUAL_PX = 0.5


def _stacked(ctx: Context):
    """All objects' free-flight segments as one problem: (t, x, y, segments) over concatenated frames."""
    ts, xs, ys, segs, owners = [], [], [], [], []
    for k, (name, m) in enumerate(ctx.motions.items()):
        ts.append(m.t)
        xs.append(m.pos[:, 0])
        ys.append(m.pos[:, 1])
        segs += [s + k * ctx.frames for s in m.segments]
        owners += [name] * len(m.segments)
    if not ts:
        return None
    return np.concatenate(ts), np.concatenate(xs), np.concatenate(ys), segs, owners


def measured_g(ctx: Context) -> float | None:
    """The fitted g when the gravity probe could measure one (other probes fix their fits to it)."""
    r = gravity(ctx)
    return r.metrics.get("g") if r.ran else None


def gravity(video, fps=None, g: float | None = None) -> ProbeResult:
    """Measure g on `video` (or a Context); `g` is the reference value (default: the world's)."""
    return prepare(video, fps, gravity=g).result(NAME, _gravity)


def _gravity(ctx: Context) -> ProbeResult:
    if (why := unmet(ctx, NAME, frames=4, objects=1)) is not None:
        return why
    t, x, y, segs, owners = _stacked(ctx)
    fy = fit(t, y, segs)
    if fy is None:
        return skipped(NAME, "no free flight long enough to fit a parabola (every frame is near a contact)",
                       segments=len(segs))
    fx = fit(t, x, segs)
    singles = [fit(t, y, [s]) for s in segs if len(s) >= 4]
    per_segment = [-f.accel for f in singles if f is not None]
    g = -fy.accel
    ref = ctx.gravity
    residual_px = max(fy.rms, fx.rms if fx else 0.0) * ctx.camera.scale
    ax = fx.accel if fx else 0.0
    rel = (g - ref) / ref
    metrics = {"g": g, "g_reference": ref, "relative_error": rel,
               "g_spread": float(np.std(per_segment)) if len(per_segment) > 1 else None,
               "horizontal_accel": ax, "residual_px": residual_px, "segments": len(segs),
               "frames_used": int(sum(len(s) for s in segs))}
    curves = {}
    for k, (seg, owner) in enumerate(zip(segs, owners)):
        local = seg % ctx.frames
        curves.setdefault(owner, []).append((local, np.array([fy.value(k, t[f]) for f in seg])))
    return ProbeResult(NAME, verdict(metrics), describe(metrics), metrics, {"curves": curves})


def _sideways_bound(m: dict) -> float:
    """Horizontal acceleration allowed in free flight: REL_TOL of the reference g (else of the measured)."""
    return REL_TOL * (abs(m["g"]) if m["g_reference"] is None else m["g_reference"])


def verdict(m: dict) -> bool | None:
    """Pass when g matches the reference, free flight is a parabola and nothing pushes sideways.
    Without a reference (g_reference None) g cannot be judged: False on the other two, else None."""
    shape_ok = abs(m["horizontal_accel"]) <= _sideways_bound(m) and m["residual_px"] <= MAX_RESIDUAL_PX
    if m["g_reference"] is None:
        return None if shape_ok else False
    return bool(shape_ok and abs(m["relative_error"]) <= REL_TOL)


def describe(m: dict, unit: str = "units") -> str:
    """The verdict's reason from the metrics; `unit` names the length unit of g and the accelerations."""
    g, ref, rel, ax = m["g"], m["g_reference"], m["relative_error"], m["horizontal_accel"]
    residual_px = m["residual_px"]
    accel = "" if unit == "units" else f" {unit}/s²"  # world clips keep their unit-free wording
    fit = f"residual {residual_px:.2f} px over {m['segments']} free-flight segment(s)"
    if ref is not None and verdict(m):
        return f"g = {g:.2f}{accel} (reference {ref:.2f}, {rel:+.1%}), {fit}"
    if ref is not None and abs(rel) > REL_TOL:
        direction = "upward" if g < 0 else ("too weak" if g < ref else "too strong")
        return f"g = {g:.2f}{accel} is {direction}: reference {ref:.2f} ({rel:+.0%}, allowed ±{REL_TOL:.0%})"
    if abs(ax) > _sideways_bound(m):
        return f"horizontal acceleration {ax:.2f} {unit}/s² in free flight (allowed ±{_sideways_bound(m):.2f})"
    if residual_px > MAX_RESIDUAL_PX:
        return f"free flight is not a parabola: residual {residual_px:.2f} px (allowed {MAX_RESIDUAL_PX} px)"
    return f"g = {g:.3g}{accel}, {fit} (no reference g to compare with)"
