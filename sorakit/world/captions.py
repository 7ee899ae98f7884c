"""Natural, varied English for a simulated scene.

Several templates and synonyms per fact, chosen by the scene's seed, so the text encoder sees
language rather than one template. Direction and outcome are always stated plainly: they are the
facts a tiny model learns last.
"""
from __future__ import annotations

import re

import numpy as np

from .scene import Scene
from .simulate import Trajectory

# Public: the adherence probe reads captions back with the same words.
BOUNCE_WORDS = {1: "once", 2: "twice", 3: "three times"}
# A dead ball's landing when it hits the floor at most once (each impact from 0.8 units/s is a bounce).
NO_BOUNCE_PHRASES = ("and lands with a thud", "and hits the floor without bouncing back up", "and lands dead")
# The ball's material, named in about half of the captions whose scene sets it: without these words
# restitution could be read from the text only through the bounce count, and a prompt asking for a
# ball that "does not bounce" would name something training never showed.
MATERIAL_WORDS = {"bouncy": ("bouncy", "rubber"), "dead": ("dead", "soft")}
MATERIAL_SHARE = 0.5
SIZE_SYNONYMS = {"small": ["small", "little", "tiny"], "medium": ["medium", "medium-sized", ""],
                 "large": ["large", "big", "huge"]}


_MIRRORED = {"left": "right", "right": "left"}


def mirror_caption(text: str) -> str:
    """The caption of the left-right mirrored clip: "left" and "right" (also in "leftward") swapped."""
    return re.sub(r"\b(left|right)", lambda m: _MIRRORED[m.group(1)], text)


def _pick(rng, options):
    return options[int(rng.integers(len(options)))]


def _ball(rng, ball, article="a", material: str = "") -> str:
    size = _pick(rng, SIZE_SYNONYMS[ball.size])
    words = [w for w in (article, size, ball.color, material, _pick(rng, ["ball", "ball", "ball", "sphere"])) if w]
    return " ".join(words)


def _material(scene: Scene, named: bool | None) -> str:
    """The material word for the scene's first ball, or "" (its own random stream: naming it or not
    leaves every other word of the caption as it was)."""
    if scene.bounciness is None or named is False:
        return ""
    rng = np.random.default_rng([scene.seed, 8])
    drawn, word = rng.random() < MATERIAL_SHARE, _pick(rng, MATERIAL_WORDS[scene.bounciness])
    return word if named or drawn else ""


def _bounces(rng, traj: Trajectory, obj: int, bounciness: str | None) -> str:
    n = traj.count("floor_bounce", obj)
    if n == 0:
        return ""
    if bounciness == "dead" and n <= 1:
        return _pick(rng, NO_BOUNCE_PHRASES)
    times = BOUNCE_WORDS.get(n, "several times")
    return _pick(rng, [f"and bounces {times}", f"and bounces {times} on the floor",
                       f"and hits the floor, bouncing {times}"])


def caption(scene: Scene, traj: Trajectory, material: bool | None = None, sound_phrase: bool = False) -> str:
    """The scene in words. `material`: name the ball's bounciness always (True), never (False), or
    in about half of the scenes, chosen by seed (None, what training sees). `sound_phrase=True` appends
    what is heard, from the simulated events (sound_words.py); the rest of the caption stays the same."""
    if not isinstance(sound_phrase, (bool, np.bool_)):
        raise ValueError(f"sound_phrase must be True or False, got {sound_phrase!r}")
    rng = np.random.default_rng([scene.seed, 7])
    b = scene.balls[0]
    m = _material(scene, material)
    d = scene.direction
    if scene.scenario == "drop":
        verb = _pick(rng, ["is dropped", "falls", "drops straight down", "is let go and falls"])
        text = f"{_ball(rng, b, material=m)} {verb} {_bounces(rng, traj, 0, scene.bounciness)}"
    elif scene.scenario == "throw":
        verb = _pick(rng, [f"is thrown to the {d}", f"flies to the {d} in an arc", f"is tossed to the {d}",
                           f"is thrown {d}ward"])
        text = f"{_ball(rng, b, material=m)} {verb} {_bounces(rng, traj, 0, scene.bounciness)}"
        if traj.count("wall_bounce", 0):
            text += _pick(rng, [" and hits the wall", " and bounces off the wall"])
    elif scene.scenario == "roll":
        verb = _pick(rng, [f"rolls to the {d}", f"rolls {d} along the floor", f"rolls across the floor to the {d}"])
        text = f"{_ball(rng, b, material=m)} {verb}"
        if traj.count("wall_bounce", 0):
            text += _pick(rng, [" and bounces off the wall", " and hits the wall"])
    elif scene.scenario == "collide":
        a, c = scene.balls
        hit = traj.count("collision") > 0
        text = _pick(rng, [
            f"{_ball(rng, a)} and {_ball(rng, c)} fly toward each other" + (" and collide" if hit else ""),
            f"{_ball(rng, a)} and {_ball(rng, c)} " + ("collide in mid-air" if hit else "fly toward each other"),
            f"two balls, one {a.color} and one {c.color}, "
            + ("crash into each other" if hit else "fly toward each other"),
        ])
    elif scene.scenario == "hoop":
        throw = _pick(rng, [f"is thrown to the {d} at the hoop", f"is shot at the hoop on the {d}",
                            f"is thrown {d}ward toward the hoop"])
        if traj.outcome == "in":
            end = _pick(rng, ["and goes in", "and drops through the hoop", "and scores"])
        elif traj.count("rim_hit", 0):
            end = _pick(rng, ["and misses, bouncing off the rim", "but rebounds off the rim and misses",
                              "and misses the hoop off the rim"])
        else:
            end = _pick(rng, ["and misses the hoop", "but misses"])
        text = f"{_ball(rng, b)} {throw} {end}"
    else:  # several
        names = [_ball(rng, x) for x in scene.balls]
        listed = ", ".join(names[:-1]) + " and " + names[-1]
        verb = _pick(rng, ["bounce around", "fly and bounce", "fall and bounce"])
        text = f"{listed} {verb}"
        if traj.count("collision"):
            text += _pick(rng, [" and collide", ", hitting each other"])
    if sound_phrase:
        from .sound_words import sound_phrase as heard_phrase  # here: sound_words draws its wording with _pick

        text += " " + heard_phrase(scene, traj)
    return " ".join(text.split())
