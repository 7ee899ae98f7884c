"""Continuity across a storyboard's shot boundaries: the same objects, moving on without a jump.

Per boundary (the first frame of a shot after the first), one row:
- persist: every object that should carry over is seen in most of the new shot's frames (its
  colour kept: the tracker follows colours) with its radius within RADIUS_TOL of what it had in the
  shot before. At a "continue" boundary these are the objects in view (not at the border) in the
  previous shot's last frame; at a "cut", the objects of earlier shots that the new prompt names
  (all of the previous shot's when it names no colour).
- jump (continue boundaries): the persistence probe's teleport rule (`persistence.teleports`) on the
  joined clip finds no jump at the boundary's frames, i.e. the position misses its prediction from
  the frames before (and after) by no more than a frame of motion, what gravity and a contact could
  add, and the tracking slack: position and velocity run on continuously.
- adherence: each shot against its own prompt (`probes.adherence` on the shot alone).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .adherence import PRESENT, parse
from .adherence import adherence as adherence_probe
from .context import Context, prepare
from .persistence import _at_border, teleports
from .report import ProbeResult, skipped

NAME = "continuity"
RADIUS_TOL = 0.2  # a persisting object keeps its radius within 20 %
TRANSITIONS = ("continue", "cut")


def _shots(video: Any, boundaries, prompts, transitions):
    """Video and the storyboard's layout, from a Film (anything with .video/.boundaries/...) or given."""
    if hasattr(video, "boundaries") and hasattr(video, "video"):
        film = video
        return film.video, list(film.boundaries), list(film.prompts), list(film.transitions)
    return video, boundaries, prompts, transitions


def _check_layout(frames: int, boundaries, prompts, transitions) -> tuple[list[int], list, list[str]]:
    if boundaries is None or isinstance(boundaries, (str, bytes)):
        raise ValueError("boundaries must be the first frame of every shot after the first (a list of whole "
                         f"numbers from 1 to the clip's {frames - 1}, increasing); got {boundaries!r}")
    bounds = list(boundaries)
    if not all(isinstance(b, (int, np.integer)) and not isinstance(b, bool) for b in bounds) or \
            any(not 1 <= b < frames for b in bounds) or any(b >= c for b, c in zip(bounds, bounds[1:])):
        raise ValueError("boundaries must be the first frame of every shot after the first (whole numbers from 1 "
                         f"to the clip's {frames - 1}, increasing); got {bounds}")
    n = len(bounds) + 1
    prompts = [None] * n if prompts is None else list(prompts)
    if len(prompts) != n:
        raise ValueError(f"prompts must hold one prompt (or None) per shot: {n} shots, got {len(prompts)}")
    transitions = ["continue"] * (n - 1) if transitions is None else list(transitions)
    if len(transitions) != n - 1 or any(t not in TRANSITIONS for t in transitions):
        raise ValueError(f"transitions must hold one of {', '.join(map(repr, TRANSITIONS))} per boundary "
                         f"({n - 1}); got {transitions}")
    return bounds, prompts, transitions


def _objects(ctx: Context) -> dict[str, float]:
    """{colour: radius} of the objects seen in most of the shot's frames."""
    return {n: float(m.radius) for n, m in ctx.motions.items() if m.present.mean() >= PRESENT}


def _expected(whole: Context, b: int, transition: str, before: dict, established: dict, prompt) -> dict[str, float]:
    """{colour: radius it should keep} for the objects that should carry over this boundary."""
    if transition == "continue":
        out = {}
        for name, m in whole.motions.items():
            if m.present[b - 1] and name in before and not _at_border(whole, m.pos[b - 1], m.radius):
                out[name] = before[name]
        return out
    named = parse(prompt or "").get("colors")
    return {c: established[c] for c in named if c in established} if named else dict(before)


def _jump(whole: Context, b: int, name: str) -> dict:
    """The teleport rule at the boundary for one object, with the steps either side (world units)."""
    m = whole.motions[name]
    if not (b >= 2 and b + 1 < whole.frames and m.present[[b - 2, b - 1, b, b + 1]].all()):
        return {"object": name, "passed": None}
    found = [e for e in teleports(whole, name) if b - 1 <= e["frame"] <= b + 1]
    step_before, step_across, step_after = (float(np.linalg.norm(m.pos[f] - m.pos[f - 1])) for f in (b - 1, b, b + 1))
    return {"object": name, "passed": not found, "step_before": step_before, "step_across": step_across,
            "step_after": step_after, **({"jump": found[0]["jump"], "allowed": found[0]["allowed"]} if found else {})}


def _row(whole: Context, k: int, b: int, transition: str, shot: Context, before: dict, established: dict) -> dict:
    expected = _expected(whole, b, transition, before, established, shot.prompt)
    now = {n: m for n, m in shot.motions.items()}
    kept = []
    for name, radius in expected.items():
        m = now.get(name)
        seen = float(m.present.mean()) if m is not None else 0.0
        change = float(m.radius / radius - 1) if m is not None and radius > 0 else None
        ok = seen >= PRESENT and change is not None and abs(change) <= RADIUS_TOL
        kept.append({"object": name, "seen": round(seen, 3), "radius_before": radius,
                     "radius_after": None if m is None else float(m.radius), "radius_change": change, "passed": ok})
    jumps = [_jump(whole, b, n) for n in expected if n in now] if transition == "continue" else []
    judged = [j["passed"] for j in jumps if j["passed"] is not None]
    adh = adherence_probe(shot)
    return {"boundary": k, "frame": b, "transition": transition, "objects": sorted(expected),
            "persist": all(o["passed"] for o in kept) if kept else None, "kept": kept,
            "jump": all(judged) if judged else None, "jumps": jumps,
            "adherence": adh.passed, "adherence_reason": adh.reason}


def continuity(video, boundaries: Sequence[int] | None = None, prompts: Sequence[str | None] | None = None,
               transitions: Sequence[str] | None = None, fps=None) -> ProbeResult:
    """Continuity at every shot boundary of a joined clip (or a storyboard's Film).

    boundaries: first frame of each shot after the first; prompts: one per shot (for adherence and
    for which objects a cut keeps); transitions: "continue" or "cut" per boundary (default continue).
    metrics["boundaries"]: one row per boundary; metrics["shots"]: each shot's adherence.
    """
    video, boundaries, prompts, transitions = _shots(video, boundaries, prompts, transitions)
    whole = prepare(video, fps)
    bounds, prompts, transitions = _check_layout(whole.frames, boundaries, prompts, transitions)
    if not bounds:
        return skipped(NAME, "one shot: no boundary to check")
    edges = [0, *bounds, whole.frames]
    shots = [prepare(whole.video[a:e], whole.fps, p) for a, e, p in zip(edges, edges[1:], prompts)]
    established, rows = {}, []
    for k, b in enumerate(bounds, start=1):
        before = _objects(shots[k - 1])
        for name, radius in before.items():
            established.setdefault(name, radius)
        rows.append(_row(whole, k, b, transitions[k - 1], shots[k], before, established))
    first = adherence_probe(shots[0])
    metrics = {"boundaries": rows, "shots": [{"shot": 1, "adherence": first.passed, "reason": first.reason}]
               + [{"shot": r["boundary"] + 1, "adherence": r["adherence"], "reason": r["adherence_reason"]}
                  for r in rows]}
    failed = [(r, key) for r in rows for key in ("persist", "jump", "adherence") if r[key] is False]
    failed += [({"boundary": 0}, "adherence")] if first.passed is False else []
    if not any(r[key] is not None for r in rows for key in ("persist", "jump", "adherence")):
        return ProbeResult(NAME, None, "no object or prompt to judge at any boundary", metrics)
    if failed:
        text = "; ".join(f"boundary {r['boundary']}: {key} fails" if r["boundary"] else "shot 1: adherence fails"
                         for r, key in failed[:3])
        return ProbeResult(NAME, False, text + (f" (+{len(failed) - 3} more)" if len(failed) > 3 else ""), metrics)
    return ProbeResult(NAME, True, f"{len(rows)} boundar{'y' if len(rows) == 1 else 'ies'}: objects persist, "
                       "no jump at continuing shots, every shot follows its prompt", metrics)


def table(result: ProbeResult):
    """A continuity result as a pandas DataFrame, one row per boundary."""
    import pandas as pd

    rows = result.metrics.get("boundaries", [])
    cols = ["boundary", "frame", "transition", "objects", "persist", "jump", "adherence", "adherence_reason"]
    frame = pd.DataFrame([{c: r[c] for c in cols} for r in rows], columns=cols)
    frame["radius_change"] = [", ".join(f"{o['object']} {o['radius_change']:+.0%}" for o in r["kept"]
                                        if o["radius_change"] is not None) for r in rows]
    return frame.set_index("boundary")
