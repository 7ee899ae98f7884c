"""Collisions: momentum and kinetic energy across each two-ball contact (mass ∝ r², uniform discs).

Each ball's velocity just before and just after the contact is read at the contact time from its
free-flight fits on either side (gravity fixed to the clip's), so gravity acting during the gap
cancels. Passes when momentum changes by at most MOMENTUM_TOL of the total |momentum| brought in
and kinetic energy does not grow beyond ENERGY_TOL.
"""
from __future__ import annotations

import itertools

import numpy as np

from .context import Context, prepare, unmet
from .gravity import measured_g
from .kinematics import FLOOR_TOUCH, Motion, fit
from .report import ProbeResult, skipped

NAME = "collisions"
MOMENTUM_TOL = 0.2
ENERGY_TOL = 0.1
MAX_GAP = 4  # frames between the free flight before and after a contact


def _windows(a: Motion, b: Motion) -> list[tuple[int, int]]:
    """Runs of frames where a and b touch (or are about to)."""
    touching = np.array([b.name in n for n in a.neighbours])
    runs, start = [], None
    for f, on in enumerate(np.r_[touching, False]):
        if on and start is None:
            start = f
        elif not on and start is not None:
            runs.append((start, f - 1))
            start = None
    return runs


def _velocities(m: Motion, lo: int, hi: int, tc: float, g: float):
    """(before, after) velocity at time tc from the segments flanking frames lo..hi, or None."""
    before = [s for s in m.segments if s[-1] < lo and lo - s[-1] <= MAX_GAP]
    after = [s for s in m.segments if s[0] > hi and s[0] - hi <= MAX_GAP]
    if not before or not after:
        return None
    before, after = before[-1], after[0]
    gap = np.arange(before[-1] + 1, after[0])
    if m.floor[gap].any() or m.wall[gap].any() or m.rim[gap].any():
        return None  # another contact in the same gap: the exchange is not the two balls' alone
    vel = []
    span = np.linspace(m.t[before[-1]], m.t[after[0]], 17)
    for seg in (before, after):
        fx, fy = fit(m.t, m.pos[:, 0], [seg], 0.0), fit(m.t, m.pos[:, 1], [seg], -g)
        if fx is None or fy is None:
            return None
        if min(fy.value(0, t) for t in span) - m.radius < FLOOR_TOUCH:
            return None  # the ball reaches the floor between the frames too (a bounce hides in the gap)
        vel.append(np.array([fx.velocity(0, tc), fy.velocity(0, tc)]))
    return vel


def collisions(video, fps=None) -> ProbeResult:
    """Momentum and energy bookkeeping of every measurable two-ball collision in `video` (or a Context)."""
    return prepare(video, fps).result(NAME, _collisions)


def _collisions(ctx: Context) -> ProbeResult:
    if (why := unmet(ctx, NAME, frames=5, objects=2)) is not None:
        return why
    g = measured_g(ctx) or ctx.gravity
    found, unmeasured = [], 0
    for a, b in itertools.combinations(ctx.motions.values(), 2):
        for lo, hi in _windows(a, b):
            gaps = np.linalg.norm(a.pos[lo:hi + 1] - b.pos[lo:hi + 1], axis=-1)
            tc = ctx.t[lo + int(np.nanargmin(gaps))] if np.isfinite(gaps).any() else ctx.t[lo]
            va, vb = _velocities(a, lo, hi, tc, g), _velocities(b, lo, hi, tc, g)
            if va is None or vb is None:
                unmeasured += 1
                continue
            ma, mb = a.radius**2, b.radius**2
            p0, p1 = ma * va[0] + mb * vb[0], ma * va[1] + mb * vb[1]
            scale = ma * np.linalg.norm(va[0]) + mb * np.linalg.norm(vb[0])
            ke0 = ma * va[0] @ va[0] + mb * vb[0] @ vb[0]
            ke1 = ma * va[1] @ va[1] + mb * vb[1] @ vb[1]
            if scale < 1e-6 or ke0 < 1e-6:
                unmeasured += 1
                continue
            found.append({"objects": [a.name, b.name], "frame": int(lo), "time": float(tc),
                          "momentum_change": float(np.linalg.norm(p1 - p0) / scale), "energy_ratio": float(ke1 / ke0),
                          "velocity_before": [va[0], vb[0]], "velocity_after": [va[1], vb[1]]})
    metrics = {"collisions": found, "unmeasured": unmeasured, "mass": "radius^2", "gravity_used": g}
    if not found:
        why = f"{unmeasured} contact(s) without free flight on both sides" if unmeasured else "no two objects touch"
        return skipped(NAME, why, **metrics)
    bad = [c for c in found if c["momentum_change"] > MOMENTUM_TOL or c["energy_ratio"] > 1 + ENERGY_TOL]
    c = bad[0] if bad else found[0]
    detail = (f"{' and '.join(c['objects'])} at frame {c['frame']}: momentum changes by {c['momentum_change']:.0%}, "
              f"kinetic energy x{c['energy_ratio']:.2f}")
    if bad:
        return ProbeResult(NAME, False, detail + f" (allowed {MOMENTUM_TOL:.0%}, x{1 + ENERGY_TOL:.1f})", metrics)
    return ProbeResult(NAME, True, detail, metrics)
