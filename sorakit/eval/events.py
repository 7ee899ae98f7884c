"""`sorakit eval events`: does the model make the physical events its captions name?

A held-out scene set weighted toward events, each event type drawn explicitly (seeds from
EVENT_SEED, far from training, monitor and physics seeds), and one scorer per measure:

| set | clips (alternating) | measures |
|---|---|---|
| drop | a dead ball that "lands with a thud" / a bouncy ball | drop; restitution (dead vs bouncy) |
| throw | throws | throw_g25, throw_g15 |
| bounces | drops and throws whose caption names 1, 2, 3 bounces | bounce_count |
| hoop | shots that go "in" / miss off the rim | hoop_outcome (all), rim_rebound (misses) |
| collision | two balls that "collide" | collision |

Every measure judges the balls the caption names (`world.track()` restricted to their colours): a
ghost ball the model adds is a colour/count failure, measured by `sorakit eval quality`.
Scorers live in events_scoring.py; this module draws the scenes, generates and tabulates.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np

from .. import world
from ..limits import LIMITS
from ..probes.adherence import parse
from ..probes.report import jsonable
from ..world.captions import NO_BOUNCE_PHRASES, caption
from .batches import map_batches
from .events_scoring import MEASURES, score, summarize

EVENT_SEED = 3_000_000  # held out: training streams start at 0; monitor 1.0-1.2 M, physics 2.0-2.2 M
SETS = ("drop", "throw", "bounces", "hoop", "collision")
CLEAR = 4  # frames of free flight a collision needs on each side to be measured
VISIBLE_IMPACT = 1.5  # world units/s: a ball that fell >= 0.11 units onto the floor (0.7 px at 64 px)
SCAN_LIMIT = 400  # seeds tried per clip before a set gives up (a request the world cannot meet)
MAX_N = 1024  # clips per set
MIN_FRAMES = 12  # a drop from the lowest start lands after ~0.8 s; its rebound needs a few frames more


def _drop(k: int, duration: float):
    """Dead and bouncy drops, each showing the apex of its first rebound (restitution is read there)."""
    if k % 2 == 0:  # a dead ball (its prompt is made to say so: see no_bounce_prompt)
        return dict(scenario="drop", bounciness="dead"), lambda facts, traj: _rebound_apex_shown(traj)
    return (dict(scenario="drop", bounciness="bouncy"),
            lambda facts, traj: facts.get("bounces") in (1, 2, 3) and _rebound_apex_shown(traj))


def _rebound_apex_shown(traj: world.Trajectory) -> bool:
    """The ball rises after its first floor bounce and starts down again before the last frame."""
    first = next((e.frame for e in traj.events if e.kind == "floor_bounce"), None)
    if first is None:
        return False
    vy = traj.vel[first:-1, 0, 1]
    rising = np.flatnonzero(vy > 0)
    return len(rising) > 0 and bool((vy[rising[0]:] <= 0).any())


def _throw(k: int, duration: float):
    return dict(scenario="throw"), lambda facts, traj: True


def bounce_counts(duration: float) -> tuple[int, ...]:
    """The counts the bounce set cycles through: a third bounce takes about 2.5 s in this world (16
    frames at 8 fps show one in under 1 % of drops and throws)."""
    return (1, 2, 3) if duration >= 2.5 else (1, 2)


def _bounces(k: int, duration: float):
    counts = bounce_counts(duration)
    want = counts[k % len(counts)]
    return (dict(scenario=("drop", "throw")),
            lambda facts, traj: facts.get("bounces") == want and _bounces_shown(traj))


def _bounces_shown(traj: world.Trajectory) -> bool:
    """Every bounce the caption counts can be seen: from VISIBLE_IMPACT units/s (the world counts
    impacts from 0.8 units/s: a hop of 0.03 units, a fifth of a pixel at 64 px) and not in the
    clip's last frame interval."""
    last = len(traj.t) - 1
    return all(e.frame < last and e.speed >= VISIBLE_IMPACT for e in traj.events
               if e.kind == "floor_bounce" and 0 in e.objects)


def _hoop(k: int, duration: float):
    if k % 2 == 0:
        return dict(scenario="hoop", outcome="in"), lambda facts, traj: facts.get("outcome") == "in"
    return (dict(scenario="hoop", outcome="miss"),
            lambda facts, traj: facts.get("outcome") == "miss" and traj.count("rim_hit", 0) > 0)


def _collision(k: int, duration: float):
    return dict(scenario="collide"), lambda facts, traj: facts.get("collision", False) and _clean_collision(traj)


def _clean_collision(traj: world.Trajectory) -> bool:
    """Two balls meet in mid-air with free flight on both sides: no other contact of either within
    CLEAR frames of it, and CLEAR frames of the clip before and after it (the momentum is read there)."""
    hit = next((e for e in traj.events if e.kind == "collision"), None)
    if hit is None or not CLEAR <= hit.frame <= len(traj.t) - 1 - CLEAR:
        return False
    return not any(e.kind != "collision" and abs(e.frame - hit.frame) <= CLEAR for e in traj.events)


DRAWS: dict[str, Callable] = {"drop": _drop, "throw": _throw, "bounces": _bounces, "hoop": _hoop,
                              "collision": _collision}
_COUNTED_BOUNCES = re.compile(r"\band (bounces|hits the floor, bouncing) .*$")


def no_bounce_prompt(clip: world.Clip) -> world.Clip:
    """A dead drop prompted with one of the world's own no-bounce phrases.

    The world says a dead ball "lands with a thud" only when it hits the floor at most once; its
    second, small hop (impact ~0.2 of the first, from 0.8 units/s a bounce) usually falls inside the
    clip, and the caption then says "bounces twice" (16 frames: 1.2 % of training captions hold a
    no-bounce phrase, 24 frames: 0.03 %). So the set keeps the dead scene and swaps its counted
    bounces for a no-bounce phrase of the world (each row's "caption" is the prompt used).
    """
    if "bounces_at_most" in parse(clip.caption):
        return clip
    phrase = NO_BOUNCE_PHRASES[clip.scene.seed % len(NO_BOUNCE_PHRASES)]
    text, found = _COUNTED_BOUNCES.subn(phrase, clip.caption)
    if not found:
        raise ValueError(f"no bounce phrase to replace in {clip.caption!r}")
    return replace(clip, caption=text)


def event_clips(event: str, n: int, seed: int = EVENT_SEED, height: int = 32, width: int = 32,
                num_frames: int = 16, fps: float = 8.0) -> list[world.Clip]:
    """`n` held-out clips of one event set (see the module's table), deterministic in `seed`.

    Clip k takes the next seed whose scene meets draw k's request; the first clips do not depend on `n`.
    """
    if event not in SETS:
        raise ValueError(f"unknown event set {event!r}; allowed: {', '.join(SETS)}")
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    s = seed + 100_000 * (SETS.index(event) + 1)
    clips = []
    for k in range(n):
        constraints, wanted = DRAWS[event](k, num_frames / fps)
        for _ in range(SCAN_LIMIT):
            s += 1
            kw = dict(constraints)
            if isinstance(kw["scenario"], tuple):  # several scenarios: alternate over the seeds scanned
                kw["scenario"] = kw["scenario"][s % len(kw["scenario"])]
            scene = world.sample_scene(s, num_frames=num_frames, fps=fps, **kw)
            traj = world.simulate(scene)
            if wanted(parse(caption(scene, traj)), traj):
                clip = world.clip_of(scene, height, width)
                if event == "drop":  # restitution is asked for in words: name the material, and a dead ball's landing
                    clip = replace(clip, caption=caption(scene, traj, material=True))
                    clip = no_bounce_prompt(clip) if scene.bounciness == "dead" else clip
                clips.append(clip)
                break
        else:
            raise ValueError(f"no {event} scene for draw {k} in {SCAN_LIMIT} seeds at {num_frames} frames")
    return clips


@dataclass
class EventsEval:
    summary: dict  # "truth" / "generated" -> summarize() row
    clips: list[dict] = field(repr=False, default_factory=list)
    config: dict = field(default_factory=dict)
    videos: dict = field(repr=False, default_factory=dict)  # with keep_videos: set -> generated clips

    def to_dict(self) -> dict:
        return jsonable({"config": self.config, "summary": self.summary, "clips": self.clips})

    def table(self) -> str:
        """Markdown: one row per measure, a column per row kind (truth, generated)."""
        kinds = list(self.summary)
        lines = ["| measure | " + " | ".join(kinds) + " |", "|---" * (len(kinds) + 1) + "|"]
        for m in MEASURES:
            cells = []
            for kind in kinds:
                s = self.summary[kind][m]
                if m == "restitution":
                    cells.append("–" if s["gap"] is None else
                                  f"gap {s['gap']:.2f} (dead {s['dead']:.2f}, n {s['dead_n']} / "
                                  f"bouncy {s['bouncy']:.2f}, n {s['bouncy_n']})")
                else:
                    cells.append("–" if s["share"] is None else f"{s['share']:.0%} ({s['passed']}/{s['n']})")
            lines.append(f"| {m} | " + " | ".join(cells) + " |")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.table()


def truth_rows(clips: dict[str, list[world.Clip]]) -> list[dict]:
    return [dict(score(c.video, c, event), set=event, kind="truth") for event, cs in clips.items() for c in cs]


def evaluate_events(n: int = 64, pipe=None, seed: int = EVENT_SEED, steps: int = 20, guidance: float = 4.0,
                    batch_size: int = 16, sets=SETS, truth_only: bool = False, size: tuple | None = None,
                    progress: bool = True, keep_videos: bool = False) -> EventsEval:
    """Score `n` held-out clips per event set: the true clips, and (unless `truth_only`) clips generated
    from their captions (batch b of each set seeded seed + b).

    pipe: default the shipped model (`sorakit.load()`); its config sets the clip size. With
    `truth_only` no model is needed: `size` = (height, width, num_frames, fps), default (32, 32, 16, 8).
    """
    check_arguments(n, steps, guidance, batch_size, sets)
    if truth_only:
        height, width, frames, fps = _check_size(size or (32, 32, 16, 8.0))
    else:
        if size is not None:
            raise ValueError("size is only for truth_only: generated clips have the model's size")
        if pipe is None:
            from ..loading import load

            pipe = load()
        cfg = pipe.config
        height, width, frames, fps = cfg.height, cfg.width, cfg.num_frames, cfg.fps
    clips = {e: event_clips(e, n, seed, height, width, frames, fps) for e in sets}
    rows = truth_rows(clips)
    summary = {"truth": summarize(rows)}
    videos: dict[str, list] = {}
    if not truth_only:
        from ..training.monitor import generate

        # batch b of each set is seeded seed + b: the same clips whichever process makes it
        batches = [(event, b, cs[i:i + batch_size]) for event, cs in clips.items()
                   for b, i in enumerate(range(0, len(cs), batch_size))]

        def scored(j: int) -> list[tuple]:
            event, b, batch = batches[j]
            return [(event, dict(score(video, clip, event), set=event, kind="generated"),
                     video if keep_videos else None)
                    for video, clip in zip(generate(pipe, batch, seed + b, steps, guidance), batch)]

        generated = []
        for event, row, video in map_batches(pipe, scored, len(batches), "events eval", progress):
            generated.append(row)
            if keep_videos:
                videos.setdefault(event, []).append(video)
        summary["generated"] = summarize(generated)
        rows += generated
    config = {"n": n, "seed": seed, "sets": list(sets), "size": [height, width, frames, fps],
              "steps": None if truth_only else steps, "guidance": None if truth_only else guidance,
              "model": "truth only" if truth_only else str(getattr(pipe.config, "_name_or_path", "") or
                                                           "sorakit-shipped")}
    return EventsEval(summary, rows, config, videos)


def _whole(name: str, value, lo: int, hi: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not lo <= value <= hi:
        raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {value!r}")


def check_arguments(n, steps, guidance, batch_size, sets) -> None:
    """Everything checked before a model loads or a scene is drawn."""
    _whole("n", n, 1, MAX_N)
    _whole("steps", steps, *LIMITS.steps)
    _whole("batch_size", batch_size, *LIMITS.videos_per_prompt)
    lo, hi = LIMITS.guidance
    if isinstance(guidance, bool) or not isinstance(guidance, (int, float)) or not lo <= guidance <= hi:
        raise ValueError(f"guidance must be a number in [{lo}, {hi}], got {guidance!r}")
    if isinstance(sets, str) or not sets or any(s not in SETS for s in sets):
        raise ValueError(f"sets must be a non-empty list drawn from {', '.join(SETS)}; got {sets!r}")


def _check_size(size) -> tuple[int, int, int, float]:
    """(height, width, num_frames, fps) of the true clips: events need at least MIN_FRAMES frames."""
    if len(size) != 4:
        raise ValueError(f"size must be (height, width, num_frames, fps), got {size!r}")
    height, width, frames, fps = size
    _whole("height", height, *LIMITS.side)
    _whole("width", width, *LIMITS.side)
    _whole("num_frames", frames, MIN_FRAMES, LIMITS.frames[1])
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not LIMITS.fps[0] <= fps <= LIMITS.fps[1]:
        raise ValueError(f"fps must be a number in {list(LIMITS.fps)}, got {fps!r}")
    return int(height), int(width), int(frames), float(fps)
