"""The event measures on one clip (generated or true) against the scene its caption came from.

Each measure looks only at the balls the caption names, read back with `world.track()`:
- drop: the ball falls from where it is first seen (>= FALL units) to the floor (not turning back
  in mid-air) and never rises more than MAX_RISE above where it started, before or after bouncing;
  its x drifts by <= MAX_DRIFT units; the gravity probe's g on it is within G_LOOSE of the world's;
- throw_g25 / throw_g15: the gravity probe finds free flight with g within G_LOOSE, and passes
  outright (g within its ±15 %, no horizontal acceleration, residual <= 0.5 px);
- bounce_count: floor landings (the adherence probe's count) equal the count the caption names;
- restitution: per clip sqrt(apex after the first landing / apex before it), both of the ball's
  bottom, which holds for any constant gravity; the measure is the gap of the medians of clips
  captioned not to bounce back up and of bouncy ones (per clip it is only recorded);
- hoop_outcome: the ball goes through the hoop (found in the pixels) or misses, as captioned;
- rim_rebound (misses off the rim): outcome miss, the ball reaches the rim and its velocity jumps
  there (a rebound, not a pass through the rim), and it never moves more than MAX_STEP units
  between frames (no jump between positions);
- collision: the two named balls touch and momentum across the contact is kept within MOMENTUM_TOL.
A measure that cannot be read (ball not found, no free flight) fails; only restitution skips.
"""
from __future__ import annotations

import numpy as np

from .. import world
from ..probes.adherence import outcome, parse
from ..probes.bounces import E_TOL
from ..probes.collisions import collisions
from ..probes.context import Context, prepare
from ..probes.gravity import gravity
from ..probes.kinematics import FLOOR_TOUCH, HOP, KICK_DV, Motion, floor_landings
from .quality import GRAVITY_TOL as G_LOOSE  # g within 25 % (the gravity probe's own test is ±15 %)

MEASURES = ("drop", "throw_g25", "throw_g15", "bounce_count", "restitution", "hoop_outcome", "rim_rebound",
            "collision")
BY_SET = {"drop": ("drop", "restitution"), "throw": ("throw_g25", "throw_g15"), "bounces": ("bounce_count",),
          "hoop": ("hoop_outcome", "rim_rebound"), "collision": ("collision",)}
MAX_DRIFT = 0.5  # world units of horizontal drift allowed to a dropped ball
FALL = 1.0  # world units a dropped ball must fall before its first landing
MAX_RISE = 0.1  # world units it may rise above where it is first seen (it is let go at rest)
MOMENTUM_TOL = 0.25
MAX_STEP = 2.0  # world units between frames: faster is a jump (the world's balls move <= 1.32 at 8 fps)
MIN_GAP = 0.3  # target: "does not bounce" and bouncy median restitution at least this far apart


def named_context(video, clip: world.Clip) -> Context:
    """A probe Context holding only the tracks of the balls the caption names."""
    ctx = prepare(video, clip.fps, clip.caption, tracker="world")
    tracks = {c: ctx.tracks[c] for c in clip.states.color if c in ctx.tracks}
    return Context(ctx.video, ctx.fps, ctx.prompt, tracks, "world")


def _main(ctx: Context, clip: world.Clip) -> Motion | None:
    m = ctx.motions.get(clip.states.color[0])
    return m if m is not None and m.present.mean() >= 0.5 else None


def _g_error(ctx: Context) -> tuple[float | None, bool]:
    """(relative error of the fitted g or None, whether the gravity probe passed)."""
    r = gravity(ctx)
    return (r.metrics["relative_error"] if r.ran else None), bool(r.passed)


def drop(ctx: Context, m: Motion) -> dict:
    landings = floor_landings(m)
    first = np.flatnonzero(m.present)[0]
    fell = float(m.pos[first, 1] - m.pos[landings[0], 1]) if landings else 0.0
    # Let go at rest, it never rises above where it was first seen: not before landing, nor after
    # (a rebound higher than the release is energy from nowhere, e.g. a clip played backwards).
    rise = float(np.nanmax(m.pos[first:, 1]) - m.pos[first, 1])
    drift = float(np.nanmax(np.abs(m.pos[m.present, 0] - m.pos[first, 0])))
    above = _floor_gap(m, landings[0], ctx.gravity, ctx.fps) if landings else float("inf")
    rel, _ = _g_error(ctx)
    ok = (fell >= FALL and above <= 0 and rise <= MAX_RISE and drift <= MAX_DRIFT and rel is not None
          and abs(rel) <= G_LOOSE)
    return {"drop": ok, "fall": fell, "above_floor": above, "rise": rise, "drift": drift, "g_error": rel}


def _floor_gap(m: Motion, landing: int, g: float, fps: float) -> float:
    """How far short of the floor the ball turns back at a landing (<= 0: it reaches the floor).

    The impact lies between two frames a, a + 1, so the ball travels down to the floor and back up
    within one frame interval: bottom[a] + bottom[a + 1] is at most what it covers in a frame, its
    incoming step plus what gravity adds (g / fps^2), with FLOOR_TOUCH to spare. The best interval
    near the landing counts."""
    bottom = np.where(m.present, m.pos[:, 1] - m.radius, np.nan)
    gaps = [bottom[a] + bottom[a + 1] - abs(bottom[a - 1] - bottom[a]) - g / fps**2 - FLOOR_TOUCH
            for a in range(max(landing - 2, 1), min(landing + 2, len(bottom) - 1))]
    gaps = [x for x in gaps if np.isfinite(x)]
    return float(min(gaps)) if gaps else float("inf")


def restitution(m: Motion) -> float | None:
    """sqrt(apex after the first landing / apex before it) of the ball's bottom; None when the clip
    does not show both apexes (no landing, or still rising at the end)."""
    landings = floor_landings(m)
    if not landings:
        return None
    bottom = np.where(m.present, m.pos[:, 1] - m.radius, np.nan)
    first = landings[0]
    end = landings[1] if len(landings) > 1 else len(bottom)
    # A landing found by its upward velocity jump is the frame before the impact: the rebound starts
    # at the lower of it and the next frame.
    low = first + int(np.nanargmin(bottom[first:min(first + 2, end)])) if np.isfinite(bottom[first]) else first
    before, after = bottom[:first], bottom[low:end]
    if not np.isfinite(before).any() or not np.isfinite(after).any():
        return None
    peak = int(np.nanargmax(after))
    if end == len(bottom) and peak == len(after) - 1 and after[peak] > HOP:
        return None  # still rising when the clip ends: the apex is not in it
    h_in, h_out = float(np.nanmax(before)), max(float(after[peak]), 0.0)
    return float(np.sqrt(h_out / h_in)) if h_in > HOP else None


def _rim_rebound(ctx: Context, m: Motion, seen: str | None) -> dict:
    rim = np.flatnonzero(m.rim)
    near = sorted({f + d for f in rim for d in (-1, 0, 1) if 0 <= f + d < ctx.frames})
    jump = max((float(np.nanmax(np.abs(m.dv[f] - [0.0, -ctx.gravity / ctx.fps]))) for f in near
                if np.isfinite(m.dv[f]).all()), default=0.0)
    steps = np.linalg.norm(np.diff(m.pos, axis=0), axis=-1)
    step = float(np.nanmax(steps)) if np.isfinite(steps).any() else 0.0
    ok = seen == "miss" and bool(len(rim)) and jump > KICK_DV and step <= MAX_STEP
    return {"rim_rebound": ok, "rim_frames": len(rim), "rim_jump": jump, "max_step": step}


def score(video, clip: world.Clip, event: str) -> dict:
    """The measures of `event`'s set on one clip: True/False per measure (restitution: a number)."""
    if event not in BY_SET:
        raise ValueError(f"unknown event set {event!r}; allowed: {', '.join(BY_SET)}")
    ctx = named_context(video, clip)
    facts = parse(clip.caption)
    m = _main(ctx, clip)
    out: dict = {"seed": clip.scene.seed, "caption": clip.caption, "found": m is not None}
    if event == "drop":
        out.update(drop(ctx, m) if m else {"drop": False})
        out["restitution"] = restitution(m) if m else None
        out["group"] = facts.get("material", "dead" if "bounces_at_most" in facts else "bouncy")
    elif event == "throw":
        rel, passed = _g_error(ctx) if m else (None, False)
        out.update(throw_g25=rel is not None and abs(rel) <= G_LOOSE, throw_g15=passed, g_error=rel)
    elif event == "bounces":
        seen = len(floor_landings(m)) if m else None
        out.update(bounce_count=seen == facts["bounces"], bounces_named=facts["bounces"], bounces_seen=seen)
    elif event == "hoop":
        seen = outcome(m, ctx.hoop) if m else None
        out.update(hoop_outcome=seen == facts["outcome"], outcome_named=facts["outcome"], outcome_seen=seen)
        if clip.trajectory.count("rim_hit", 0) and facts["outcome"] == "miss":
            out.update(_rim_rebound(ctx, m, seen) if m else {"rim_rebound": False})
    else:
        out.update(_collision(ctx, clip))
    return out


def _collision(ctx: Context, clip: world.Clip) -> dict:
    a, b = clip.states.color[:2]
    if a not in ctx.motions or b not in ctx.motions:
        return {"collision": False, "touched": False}
    touched = any(b in n for n in ctx.motions[a].neighbours)
    found = collisions(ctx).metrics.get("collisions", [])
    change = min((c["momentum_change"] for c in found), default=None)
    return {"collision": touched and change is not None and change <= MOMENTUM_TOL, "touched": touched,
            "momentum_change": change}


def summarize(rows: list[dict]) -> dict:
    """Per measure: share passed over the clips it applies to; restitution: group medians and gap."""
    out = {}
    for m in MEASURES:
        if m == "restitution":
            continue
        vals = [bool(r[m]) for r in rows if m in r]
        out[m] = {"share": float(np.mean(vals)) if vals else None, "passed": int(sum(vals)), "n": len(vals)}
    groups = {g: [r["restitution"] for r in rows if r.get("group") == g and r.get("restitution") is not None]
              for g in ("dead", "bouncy")}
    medians = {g: float(np.median(v)) if v else None for g, v in groups.items()}
    gap = medians["bouncy"] - medians["dead"] if None not in medians.values() else None
    clips = sum("group" in r for r in rows)
    out["restitution"] = {**medians, "dead_n": len(groups["dead"]), "bouncy_n": len(groups["bouncy"]), "gap": gap,
                          "clips": clips, "passed": gap is not None and gap >= MIN_GAP
                          and medians["bouncy"] <= 1 + E_TOL}
    return out
