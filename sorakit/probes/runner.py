"""`probes.run`: every probe on one clip, sharing one Context (tracking happens once)."""
from __future__ import annotations

import logging

from .. import world
from .adherence import adherence
from .bounces import bounces
from .collisions import collisions
from .consistency import consistency
from .context import prepare
from .continuity import continuity
from .gravity import gravity
from .persistence import persistence
from .report import ProbeReport, ProbeResult
from .temporal import temporal

logger = logging.getLogger(__name__)

PROBES = ("tracking", "gravity", "bounces", "persistence", "collisions", "consistency", "adherence", "temporal")


def tracking(video, fps=None) -> ProbeResult:
    """What the other probes see: the objects found and by which tracker (no verdict)."""
    ctx = prepare(video, fps)
    seen = {n: int(m.present.sum()) for n, m in ctx.motions.items()}
    who = ", ".join(f"{n} ({k}/{ctx.frames} frames)" for n, k in seen.items()) or "nothing"
    how = "world colour tracker" if ctx.method == "world" else "generic background-subtraction tracker"
    hoop = ctx.hoop
    metrics = {"method": ctx.method, "objects": seen, "radius": {n: m.radius for n, m in ctx.motions.items()},
               "hoop": None if hoop is None else {"x": hoop.x, "y": hoop.y, "half_width": hoop.half_width}}
    return ProbeResult("tracking", None, f"{who} via the {how}" + (" and a hoop" if hoop else ""), metrics)


def run(video, prompt: str | None = None, fps: float | None = None, probes=None, *, tracker: str = "auto",
        gravity_reference: float | None = None, given: int = 4, scene: world.Scene | None = None,
        shots=None) -> ProbeReport:
    """Run the physics probes on one clip.

    video: (F, H, W, 3) uint8 or float in [0, 1] (numpy or torch; `pipe(...).frames[0]`).
    prompt: checked by the adherence probe. fps: default the world's 8.
    probes: names to run (default all of PROBES). tracker: "auto" | "world" | "generic".
    gravity_reference: g the gravity probe compares with (default the world's 9.8).
    given / scene: passed to the consistency probe (frames used for the initial state; the
    true scene when known, whose simulation is then the reference).
    shots: a storyboard's Film (or anything with .boundaries, .prompts, .transitions) whose joined
    video this is: the continuity probe runs too, one row per shot boundary.
    """
    names = list(PROBES) if probes is None else ([probes] if isinstance(probes, str) else list(probes))
    unknown = [p for p in names if p not in PROBES]
    if unknown:
        raise ValueError(f"unknown probe(s) {unknown}; allowed: {', '.join(PROBES)}")
    ctx = prepare(video, fps, prompt, tracker=tracker, gravity=gravity_reference)
    calls = {
        "tracking": lambda: tracking(ctx), "gravity": lambda: gravity(ctx), "bounces": lambda: bounces(ctx),
        "persistence": lambda: persistence(ctx), "collisions": lambda: collisions(ctx),
        "consistency": lambda: consistency(ctx, given=given, scene=scene),
        "adherence": lambda: adherence(ctx), "temporal": lambda: temporal(ctx),
    }
    results = {}
    for name in names:
        try:
            results[name] = calls[name]()
        except ValueError:
            raise
        except Exception as exc:  # a probe bug must not take the whole report down
            logger.exception("probe %s failed", name)
            results[name] = ProbeResult(name, None, f"could not run: {type(exc).__name__}: {exc}")
    if shots is not None:
        results["continuity"] = continuity(_Layout(ctx, shots), fps=ctx.fps)
    return ProbeReport(results, ctx)


class _Layout:
    """A storyboard's layout over the report's own Context, so the joined clip is tracked once."""

    def __init__(self, ctx, shots):
        self.video, self.boundaries = ctx, shots.boundaries
        self.prompts, self.transitions = shots.prompts, shots.transitions

