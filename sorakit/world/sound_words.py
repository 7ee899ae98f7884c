"""What a clip sounds like, in words: a phrase for its caption chosen from the simulated events.

The loudest impact sets the loudness word and what is heard (a dead ball's dull thump, a bang on
the floor, a knock on a wall, the clack of two balls, the rim's metallic clang); an audible rim hit
that is not the loudest, or the net's swish, is named after it. A clip with no impact loud enough
to hear is silent, or has only the rumble of a rolling ball. Loudness is the impact's peak amplitude
in the world's own soundtrack (`sound.impact_amplitude`), so the words follow what `Clip.audio` holds.

The words avoid the vocabulary the adherence probe reads facts from ("thud", "soft", "wall",
"collide", "rolls", size and side words), so a caption with a sound phrase states the same facts.
Wording is drawn from its own random stream: the rest of the caption is unchanged.
"""
from __future__ import annotations

import numpy as np

from .captions import _pick
from .scene import BOUNCINESS, Scene
from .simulate import Trajectory
from .sound import heard_impacts, rolls_audibly

LOUD = 0.4  # peak amplitude from which an impact is "loud" (a medium ball dropped from about 4 units)
QUIET = 0.15  # below this it is "quiet" or "faint"
AUDIBLE = 0.03  # below this (under 0.7 units/s) it is not named at all
# Restitution up to which a ball thumps dully instead of ringing: the top of the world's dead range, as
# captions name simulated balls (eval.sound.MATERIAL_DEAD_BELOW, 0.5, splits estimates between the ranges).
DULL_UP_TO = BOUNCINESS["dead"][1]

LEVEL_WORDS = {"loud": ("loud",), "plain": ("",), "quiet": ("quiet", "faint")}
NOUNS = {"dead": ("dull thump", "muffled thump"), "floor_bounce": ("bang", "smack", "thump"),
         "wall_bounce": ("knock", "bang"), "collision": ("clack", "crack"),
         "rim_hit": ("metallic clang from the rim", "metallic clang", "ringing clang")}
RIM_AFTER = ("and a {} clang from the rim", "and a {} metallic clang off the rim")
SWISH = ("and a swish of the net", "and the swish of the net")
ONLY_SWISH = ("with just a swish of the net", "with only the swish of the net")
RUMBLE = ("with only a faint rumble", "almost silently", "with a quiet rumble")
SILENT = ("silently", "without a sound", "in silence")


def level(amplitude: float) -> str:
    """"loud", "plain" or "quiet" for an audible impact's peak amplitude."""
    return "loud" if amplitude >= LOUD else "quiet" if amplitude < QUIET else "plain"


def _sounded(rng, noun: str, amplitude: float, article: str = "with a") -> str:
    return " ".join(w for w in (article, _pick(rng, LEVEL_WORDS[level(amplitude)]), noun) if w)


def _noun(rng, scene: Scene, event) -> str:
    dull = event.kind in ("floor_bounce", "wall_bounce") and \
        all(scene.balls[i].restitution <= DULL_UP_TO for i in event.objects)
    return _pick(rng, NOUNS["dead" if dull else event.kind])


def sound_phrase(scene: Scene, traj: Trajectory) -> str:
    """What the clip sounds like, e.g. "with a loud bang and a faint clang from the rim" or "silently"."""
    rng = np.random.default_rng([scene.seed, 9])  # its own stream: other caption draws stay as they were
    heard = [(e, a) for e, a in heard_impacts(scene, traj) if a >= AUDIBLE]
    swish = traj.count("hoop_in") > 0
    if not heard:
        return _pick(rng, ONLY_SWISH if swish else RUMBLE if rolls_audibly(scene, traj) else SILENT)
    loudest, amplitude = max(heard, key=lambda ea: ea[1])
    phrase = _sounded(rng, _noun(rng, scene, loudest), amplitude)
    rims = [a for e, a in heard if e.kind == "rim_hit"]
    if rims and loudest.kind != "rim_hit":
        phrase += " " + " ".join(_pick(rng, RIM_AFTER).format(_pick(rng, LEVEL_WORDS[level(max(rims))])).split())
    elif swish:
        phrase += " " + _pick(rng, SWISH)
    return phrase
