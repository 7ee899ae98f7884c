"""Object permanence: objects never vanish, appear, split, merge, teleport, change size or colour.

- vanish / appear: a track stops (starts) away from the image border and not behind another
  object; when another colour starts (stops) where it stopped, the object changed colour;
- split: more than one blob of one object, while no other object overlaps it;
- teleport: the position misses its prediction from the two previous (or next) frames under
  gravity by more than a contact could explain: a contact changes velocity by at most twice the
  speed (restitution <= 1), so the allowed miss is 2 (|v| + g dt) dt + TELEPORT_SLACK, |v| the
  faster of the two frame steps behind the reference frame;
- size: the tracked radius strays more than RADIUS_TOL from its median (whole, unoccluded frames).
"""
from __future__ import annotations

import numpy as np

from .context import Context, prepare, unmet
from .report import ProbeResult

NAME = "persistence"
TELEPORT_SLACK = 0.5  # world units (1.6 px at 32 px): tracking noise and gravity mismatch
RADIUS_TOL = 0.25
BORDER = 0.3  # world units: an object this close to the image border may leave or enter the view


def _at_border(ctx: Context, pos: np.ndarray, r: float) -> bool:
    width, top = ctx.camera.width / ctx.camera.scale, ctx.camera.floor_row / ctx.camera.scale
    x, y = pos
    return bool(x - r < BORDER or x + r > width - BORDER or y + r > top - BORDER)


def teleports(ctx: Context, name: str) -> list[dict]:
    """The teleport rule (also the continuity probe's jump test at a continuing shot's boundary): a frame
    that misses its predictions from both sides (a one-frame glitch), or an interval
    across which each side misses the other's prediction (a permanent jump). At the clip's ends
    one side suffices."""
    m = ctx.motions[name]
    dt, g, n = 1 / ctx.fps, ctx.gravity, len(m.pos)
    accel = np.array([0.0, -g]) * dt * dt

    def miss(f: int, a: int, b: int):
        """(miss, allowed) predicting frame f from frames a (next to f) and b, or None."""
        if not (0 <= min(a, b) and max(a, b) < n and m.present[[a, b, f]].all()):
            return None
        if any(m.neighbours[k] for k in (a, b, f)):  # collisions pass momentum between objects
            return None
        # A contact between b and a hides the speed in (a, b); the interval beyond b still shows it.
        c = 2 * b - a
        steps = [np.linalg.norm(m.pos[a] - m.pos[b])]
        if 0 <= c < n and m.present[c]:
            steps.append(np.linalg.norm(m.pos[b] - m.pos[c]))
        speed = max(steps) / dt
        return (float(np.linalg.norm(m.pos[f] - (2 * m.pos[a] - m.pos[b] + accel))),
                float(2 * (speed + g * dt) * dt + TELEPORT_SLACK))

    def jumped(checks, edge: bool) -> bool:
        checks = [c for c in checks if c is not None]
        return bool(checks) and (len(checks) == 2 or edge) and all(j > a for j, a in checks)

    found = []
    for f in range(n):
        glitch = [miss(f, f - 1, f - 2), miss(f, f + 1, f + 2)]
        jump = [miss(f, f - 1, f - 2), miss(f - 1, f, f + 1)] if f >= 1 else [None]
        edge = f < 2 or f > n - 3
        hit = next((c for c in (glitch, jump) if jumped(c, edge)), None)
        if hit and not (found and found[-1]["frame"] >= f - 1):  # one event, not one per frame it touches
            hit = [c for c in hit if c is not None]
            found.append({"object": name, "kind": "teleport", "frame": f,
                          "jump": max(j for j, _ in hit), "allowed": min(a for _, a in hit)})
    return found


def _violations(ctx: Context) -> list[dict]:
    out = []
    motions, frames = ctx.motions, ctx.frames
    for name, m in motions.items():
        p = m.present
        for f in range(1, frames):
            if p[f - 1] and not p[f] and not m.neighbours[f - 1] and not _at_border(ctx, m.pos[f - 1], m.radius):
                out.append({"object": name, "kind": "vanish", "frame": f})
            if p[f] and not p[f - 1] and not m.neighbours[f] and not _at_border(ctx, m.pos[f], m.radius):
                out.append({"object": name, "kind": "appear", "frame": f})
        blobs = np.asarray(ctx.tracks[name].components)
        for f in np.flatnonzero(p & (blobs > 1)):
            if not m.neighbours[f]:
                out.append({"object": name, "kind": "split", "frame": int(f), "blobs": int(blobs[f])})
                break
        whole = m.clear & ~m.floor  # the floor band does not hide a ball, but its anti-aliased rim can
        radius = np.asarray(ctx.tracks[name].radius)
        if whole.sum() >= 2 and np.median(radius[whole]) > 0:  # a tracked point has no size to keep
            dev = np.abs(radius[whole] / np.median(radius[whole]) - 1)
            if dev.max() > RADIUS_TOL:
                f = int(np.flatnonzero(whole)[dev.argmax()])
                out.append({"object": name, "kind": "size", "frame": f, "change": float(dev.max())})
        out += teleports(ctx, name)
    # A vanish and an appear at the same place and time is one object changing colour.
    vanish = [v for v in out if v["kind"] == "vanish"]
    appear = [v for v in out if v["kind"] == "appear"]
    for v in vanish:
        for a in appear:
            if abs(a["frame"] - v["frame"]) <= 1 and a["object"] != v["object"]:
                gap = np.linalg.norm(motions[a["object"]].pos[a["frame"]] - motions[v["object"]].pos[v["frame"] - 1])
                if gap < motions[v["object"]].radius + 0.5:
                    v.update(kind="colour", to=a["object"])
                    a["kind"] = "merged"
    return sorted([v for v in out if v["kind"] != "merged"], key=lambda v: v["frame"])


def describe(v: dict, unit: str = "units") -> str:
    """One violation in words; `unit` names the length unit of jumps."""
    o, f = v["object"], v["frame"]
    return {
        "vanish": f"{o} vanishes at frame {f}",
        "appear": f"{o} appears from nowhere at frame {f}",
        "colour": f"{o} turns {v.get('to')} at frame {f}",
        "split": f"{o} splits into {v.get('blobs')} pieces at frame {f}",
        "size": f"{o} changes size by {v.get('change', 0):.0%} at frame {f}",
        "teleport": f"{o} jumps {v.get('jump', 0):.1f} {unit} at frame {f} "
                    f"(a contact allows {v.get('allowed', 0):.1f})",
    }[v["kind"]]


def persistence(video, fps=None) -> ProbeResult:
    """Permanence of every tracked object in `video` (or a Context)."""
    return prepare(video, fps).result(NAME, _persistence)


def _persistence(ctx: Context) -> ProbeResult:
    if (why := unmet(ctx, NAME, frames=2, objects=1)) is not None:
        return why
    found = _violations(ctx)
    metrics = {"violations": found, "objects": len(ctx.motions),
               "frames_present": {n: int(m.present.sum()) for n, m in ctx.motions.items()}}
    if found:
        more = f" (+{len(found) - 1} more)" if len(found) > 1 else ""
        return ProbeResult(NAME, False, describe(found[0]) + more, metrics)
    return ProbeResult(NAME, True, f"{len(ctx.motions)} object(s) stay whole, keep size and colour, move continuously",
                       metrics)
