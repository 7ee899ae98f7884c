"""Prompt adherence: the colours, count, sizes, direction and outcomes a prompt names are in the clip.

The prompt is read with the world's own vocabulary (captions.py: palette names, size synonyms,
"once/twice/three times", left/right, in/miss), plus a few colour synonyms a person might type.
Each fact the prompt states becomes one check; facts it does not state are not checked. The
"main" object (direction, bounces, outcome) is the first colour named, else the longest track.
"""
from __future__ import annotations

import re

import numpy as np

from .. import world
from ..world.captions import BOUNCE_WORDS, MATERIAL_WORDS, SIZE_SYNONYMS
from .context import Context, prepare
from .kinematics import Motion, floor_landings
from .report import ProbeResult, skipped

NAME = "adherence"
PRESENT = 0.5  # share of frames an object must be seen in to count as there
COLOR_WORDS = {**{c: c for c in world.COLORS}, "crimson": "red", "scarlet": "red", "lime": "green", "emerald": "green",
               "navy": "blue", "azure": "blue", "golden": "yellow", "gold": "yellow", "violet": "purple",
               "magenta": "purple", "lilac": "purple", "teal": "cyan", "turquoise": "cyan", "aqua": "cyan"}
SIZE_WORDS = {w: size for size, words in SIZE_SYNONYMS.items() for w in words if w}
TIMES = {v: k for k, v in BOUNCE_WORDS.items()}
COUNT_WORDS = {"two": 2, "three": 3, "both": 2}
IN_WORDS = r"\b(goes in|go in|drops through|through the hoop|scores?|makes the shot)\b"
MISS_WORDS = r"\b(miss|misses|missed|missing)\b"


def parse(prompt: str) -> dict:
    """The facts a prompt states, in the world's vocabulary."""
    text = " " + prompt.lower() + " "
    words = re.findall(r"[a-z\-]+", text)
    facts: dict = {}
    colors = [COLOR_WORDS[w] for w in words if w in COLOR_WORDS]
    if colors:
        facts["colors"] = list(dict.fromkeys(colors))
        sizes = {}
        for i, w in enumerate(words):  # "a big red ball": the size word right before a colour word
            if w in COLOR_WORDS and i and words[i - 1] in SIZE_WORDS:
                sizes[COLOR_WORDS[w]] = SIZE_WORDS[words[i - 1]]
        if sizes:
            facts["sizes"] = sizes
    counted = re.search(r"\b(two|three|both)\b (?:\w+ )?(balls|spheres)", text)
    if counted:
        facts["count"] = COUNT_WORDS[counted.group(1)]
    elif colors:
        facts["count"] = len(facts["colors"])
    sides = set(re.findall(r"\b(left|right)(?:ward)?\b", text))
    if len(sides) == 1:
        facts["direction"] = sides.pop()
    if re.search(r"\b(thud|lands dead|without bouncing)\b", text):
        facts["bounces_at_most"] = 1
    else:
        times = re.search(r"bounc\w* (once|twice|three times|several times)", text)
        if times:
            facts["bounces"] = TIMES.get(times.group(1), 4)
    materials = [m for m, names in MATERIAL_WORDS.items() if any(n in words for n in names)]
    if len(materials) == 1:
        facts["material"] = materials[0]
    if re.search(IN_WORDS, text):
        facts["outcome"] = "in"
    elif re.search(MISS_WORDS, text):
        facts["outcome"] = "miss"
    if re.search(r"\b(collide|collides|crash|crashes|hitting each other|hit each other)\b", text):
        facts["collision"] = True
    if re.search(r"\bwall\b", text):
        facts["wall"] = True
    if re.search(r"\brolls?\b", text):
        facts["rolls"] = True
    return facts


def _seen(ctx: Context) -> dict[str, Motion]:
    return {n: m for n, m in ctx.motions.items() if m.present.mean() >= PRESENT}


def _main(ctx: Context, facts: dict) -> Motion | None:
    for c in facts.get("colors", []):
        if c in ctx.motions:
            return ctx.motions[c]
    return max(ctx.motions.values(), key=lambda m: m.present.sum(), default=None)


def _direction(m: Motion) -> str | None:
    """Sign of the first horizontal motion, before the first wall contact (a bounce reverses it)."""
    frames = [f for f in np.flatnonzero(m.present)]
    stop = next((i for i, f in enumerate(frames) if m.wall[f]), len(frames))
    frames = frames[: max(stop, 2)][:6]
    if len(frames) < 2:
        return None
    dx = m.pos[frames[-1], 0] - m.pos[frames[0], 0]
    return None if abs(dx) < 0.2 else ("right" if dx > 0 else "left")


def outcome(m: Motion, hoop: world.Hoop | None) -> str | None:
    """"in" when the ball's centre crosses the rim line downward between the rims, else "miss"."""
    if hoop is None:
        return None
    for f in range(1, len(m.pos)):
        if m.present[f - 1] and m.present[f]:
            (x0, y0), (x1, y1) = m.pos[f - 1], m.pos[f]
            if y0 >= hoop.y > y1:
                x = x0 + (x1 - x0) * (y0 - hoop.y) / (y0 - y1)
                if abs(x - hoop.x) < hoop.half_width - hoop.rim_radius:
                    return "in"
    return "miss"


def adherence(video, prompt: str | None = None, fps=None) -> ProbeResult:
    """Check the facts `prompt` states against `video` (or a Context built with a prompt)."""
    return prepare(video, fps, prompt).result(NAME, _adherence)


def _checks(ctx: Context, facts: dict) -> list[dict]:
    seen, main = _seen(ctx), _main(ctx, facts)
    checks = []

    def check(name, expected, observed, ok=None):
        checks.append({"check": name, "expected": expected, "observed": observed,
                       "passed": bool(expected == observed if ok is None else ok)})

    if "colors" in facts:
        if ctx.method != "world":
            checks.append({"check": "colors", "expected": facts["colors"], "observed": None, "passed": None})
        else:
            check("colors", facts["colors"], sorted(seen), all(c in seen for c in facts["colors"]))
            for c, size in facts.get("sizes", {}).items():
                if c in ctx.motions:
                    r = ctx.motions[c].radius
                    check(f"size of {c}", size, min(world.SIZES, key=lambda s: abs(world.SIZES[s] - r)))
    if "count" in facts:
        check("count", facts["count"], len(seen))
    if main is None:
        return checks
    if ctx.frames < 3:  # one or two frames show no motion: the motion facts cannot be judged
        motion = ("direction", "bounces", "bounces_at_most", "outcome", "collision", "wall", "rolls")
        checks += [{"check": k, "expected": facts[k], "observed": "too few frames", "passed": None}
                   for k in motion if k in facts]
        return checks
    if "direction" in facts:
        check("direction", facts["direction"], _direction(main))
    if "bounces" in facts:
        check("bounces", facts["bounces"], len(floor_landings(main)))
    if "bounces_at_most" in facts:
        n = len(floor_landings(main))
        check("no rebound", f"<= {facts['bounces_at_most']} landing", n, n <= facts["bounces_at_most"])
    if "outcome" in facts:
        check("outcome", facts["outcome"], outcome(main, ctx.hoop))
    if facts.get("collision"):
        touched = any(m.neighbours[f] for m in ctx.motions.values() for f in range(ctx.frames))
        check("collision", True, touched)
    if facts.get("wall"):
        check("wall contact", True, any(m.wall.any() for m in ctx.motions.values()))
    if facts.get("rolls"):
        share = float(main.floor[main.present].mean()) if main.present.any() else 0.0
        check("rolls on the floor", ">= 70% of frames", round(share, 2), share >= 0.7)
    return checks


def _adherence(ctx: Context) -> ProbeResult:
    if not ctx.prompt:
        return skipped(NAME, "no prompt to check against")
    facts = parse(ctx.prompt)
    if not facts:
        return skipped(NAME, "the prompt names no colour, count, direction, bounce or outcome this probe knows")
    checks = _checks(ctx, facts)
    judged = [c for c in checks if c["passed"] is not None]
    metrics = {"facts": facts, "checks": checks}
    if not judged:
        return skipped(NAME, "nothing in the prompt can be checked on this clip (colours need world-style tracks)",
                       **metrics)
    failed = [c for c in judged if not c["passed"]]
    if failed:
        text = "; ".join(f"{c['check']}: expected {c['expected']}, got {c['observed']}" for c in failed[:3])
        return ProbeResult(NAME, False, text, metrics)
    return ProbeResult(NAME, True, "the clip shows " + ", ".join(c["check"] for c in judged), metrics)
