"""`sorakit eval physics`: generate clips for held-out world scenes and score them (phyworld-style).

Scenes (seeds from EVAL_SEED, far from every training seed), split three ways:
- id: drawn like the training clips;
- ood: launch speed OOD_SPEED (training: 1.5-4 units/s) or ball radius in OOD_RADII (training
  0.6-1.15), via the world's `speed=` / `radius=` constraints;
- combinatorial: every factor in its training range, but start side and direction combined as
  training never does: a throw or roll launched toward the *near* wall (start x mirrored). The
  training sampler draws colour, size, scenario, speed and direction independently, so every
  colour x motion combination is seen; this position x direction pairing is the one held out.

Each scene is generated twice: "continuation" gives the model the first GIVEN true frames and the
caption (phyworld's setting), and is scored against the true scene's simulation; "text" gives the
caption only and is scored against a simulation started from the generated clip's own first
frames. Velocity errors (world units/s, pooled over samples) are reported as ratios to the parse
floor. "truth" rows run the same probes on the true clips: the best any model can score.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from .. import world
from ..probes.adherence import outcome
from ..probes.consistency import parse_floor_at, size_label
from ..probes.context import prepare
from ..probes.gravity import gravity
from ..probes.report import jsonable
from ..probes.runner import run
from ..world.scene import WORLD_WIDTH
from .batches import map_batches

EVAL_SEED = 2_000_000
GIVEN = 4
OOD_SPEED = 6.0
OOD_RADII = (0.4, 1.6)
SPLITS = ("id", "ood", "combinatorial")
MODES = ("continuation", "text")
PROBES = ("gravity", "persistence", "consistency", "adherence")


def split_clips(split: str, n: int, seed: int = EVAL_SEED, height: int = 32, width: int = 32,
                num_frames: int = 16, fps: float = 8.0) -> list[world.Clip]:
    kw = dict(height=height, width=width, num_frames=num_frames, fps=fps)
    clips = []
    for k in range(n):
        if split == "id":
            clips.append(world.sample(seed + k, **kw))
        elif split == "ood":
            s = seed + 100_000 + k
            if k % 2 == 0:  # launched too fast
                clips.append(world.sample(s, scenario=("throw", "roll", "collide")[k // 2 % 3], speed=OOD_SPEED, **kw))
            else:  # a ball too small or too big
                scenario, radius = ("drop", "throw", "roll")[k // 2 % 3], OOD_RADII[k // 2 % 2]
                clips.append(world.sample(s, scenario=scenario, radius=radius, **kw))
        elif split == "combinatorial":
            scene = world.sample_scene(seed + 200_000 + k, scenario=("throw", "roll")[k % 2], num_frames=num_frames,
                                       fps=fps)
            ball = scene.balls[0]
            clips.append(world.clip_of(world.with_balls(scene, [replace(ball, x=WORLD_WIDTH - ball.x)]), height, width))
        else:
            raise ValueError(f"unknown split {split!r}; allowed: {', '.join(SPLITS)}")
    return clips


def score(video, clip: world.Clip, mode: str, given: int = GIVEN) -> dict:
    """One generated (or true) clip against the scene it was made for."""
    truth = mode in ("continuation", "truth")
    report = run(video, prompt=clip.caption, fps=clip.fps, probes=PROBES, tracker="world", given=given,
                 scene=clip.scene if truth else None)
    r = report.results
    if mode == "continuation":  # judge gravity on the frames the model made (and the last given one)
        r["gravity"] = gravity(prepare(video[given - 1:], clip.fps, tracker="world"))
    cons = r["consistency"].metrics
    colours = next((c["passed"] for c in r["adherence"].metrics.get("checks", []) if c["check"] == "colors"), None)
    out = {"scenario": clip.scene.scenario, "seed": clip.scene.seed, "velocity_error": cons.get("velocity_error"),
           "samples": cons.get("samples", 0), "persistence": r["persistence"].passed, "colours": colours,
           "gravity": r["gravity"].passed, "adherence": r["adherence"].passed}
    if clip.scene.hoop is not None:
        main = report.context.motions.get(clip.states.color[0])
        out["hoop_correct"] = main is not None and outcome(main, report.context.hoop) == clip.trajectory.outcome
    return out


def _share(rows: list[dict], key: str):
    vals = [r[key] for r in rows if r.get(key) is not None]
    return (float(np.mean(vals)), len(vals)) if vals else (None, 0)


def summarize(rows: list[dict], floor: float) -> dict:
    """Pooled velocity error (and its ratio to the parse floor `floor`) and the probes' shares."""
    errs = [(r["velocity_error"], r["samples"]) for r in rows if r.get("velocity_error") is not None and r["samples"]]
    pooled = sum(e * n for e, n in errs) / sum(n for _, n in errs) if errs else None
    out = {"clips": len(rows), "scored": len(errs), "velocity_error": pooled,
           "floor_ratio": pooled / floor if pooled is not None else None}
    for key in ("persistence", "colours", "gravity", "hoop_correct", "adherence"):
        out[key], out[f"{key}_n"] = _share(rows, key)
    return out


def _percent(share, n) -> str:
    return "–" if share is None else f"{share:.0%} ({n})"


@dataclass
class PhysicsEval:
    summary: dict  # "split/mode" -> summarize() row
    clips: list[dict] = field(repr=False, default_factory=list)
    config: dict = field(default_factory=dict)
    videos: dict = field(repr=False, default_factory=dict)  # with keep_videos: "split/mode" -> generated clips

    def to_dict(self) -> dict:
        return jsonable({"config": self.config, "parse_floor": self.config.get("parse_floor"),
                         "summary": self.summary,
                         "clips": self.clips})

    def table(self) -> str:
        """Markdown table, one row per split x mode."""
        floor, where = self.config.get("parse_floor"), self.config.get("floor_measured_at")
        ratio_head = f"× parse floor ({floor} units/s at {where})" if floor else "× parse floor"
        head = ["split", "mode", "clips", "velocity error, units/s (clips scored)", ratio_head, "persistence",
                "colours", "gravity fit", "hoop outcome"]
        lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
        for key, s in self.summary.items():
            err = "–" if s["velocity_error"] is None else f"{s['velocity_error']:.3f} ({s['scored']})"
            ratio = "–" if s["floor_ratio"] is None else f"{s['floor_ratio']:.1f}"
            shares = [_percent(s[k], s[f"{k}_n"]) for k in ("persistence", "colours", "gravity", "hoop_correct")]
            lines.append("| " + " | ".join([*key.split("/"), str(s["clips"]), err, ratio, *shares]) + " |")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.table()


def evaluate_physics(n: int = 96, pipe=None, seed: int = EVAL_SEED, steps: int = 20, guidance: float = 4.0,
                     batch_size: int = 16, given: int = GIVEN, modes=MODES, progress: bool = True,
                     keep_videos: bool = False) -> PhysicsEval:
    """Generate and score `n` held-out scenes (split evenly over SPLITS), once per mode in `modes`.

    pipe: default the shipped model (`sorakit.load()`). The pipeline is called on batches of
    `batch_size` prompts; 2 x n clips in all with both modes. keep_videos: keep the generated
    clips in `.videos` ("split/mode" -> list, in scene order) to look at or re-score.
    """
    if not isinstance(n, (int, np.integer)) or n < len(SPLITS):
        raise ValueError(f"n must be an integer >= {len(SPLITS)} (one scene per split), got {n!r}")
    if not modes or any(m not in MODES for m in modes):
        raise ValueError(f"modes must be a non-empty subset of {MODES}, got {modes!r}")
    if pipe is None:
        from ..loading import load

        pipe = load()
    cfg = pipe.config
    if not 2 <= given <= cfg.num_frames - 3:
        raise ValueError(f"given must be in [2, {cfg.num_frames - 3}], got {given!r}")
    counts = [n // len(SPLITS) + (k < n % len(SPLITS)) for k in range(len(SPLITS))]
    scenes = {s: split_clips(s, c, seed, cfg.height, cfg.width, cfg.num_frames, cfg.fps)
              for s, c in zip(SPLITS, counts)}
    rows: dict[str, list] = {f"{s}/truth": [dict(score(c.video, c, "truth", given), split=s, mode="truth")
                                            for c in scenes[s]] for s in SPLITS}
    videos: dict[str, list] = {}
    jobs = [(s, m, k) for m in modes for s in SPLITS for k in range(len(scenes[s]))]
    batches = [jobs[i:i + batch_size] for i in range(0, len(jobs), batch_size)]

    def scored(b: int) -> list[tuple]:  # batch b is seeded seed + b: the same whichever process makes it
        return [(f"{split}/{mode}", dict(score(video, clip, mode, given), split=split, mode=mode),
                 video if keep_videos else None)
                for mode, split, clip, video in _generate(pipe, scenes, batches[b], seed + b, steps, guidance, given)]

    for key, row, video in map_batches(pipe, scored, len(batches), "physics eval", progress):
        rows.setdefault(key, []).append(row)
        if keep_videos:
            videos.setdefault(key, []).append(video)
    order = [f"{s}/{m}" for s in SPLITS for m in ("truth", *modes)]
    floor, at = parse_floor_at(cfg.height, cfg.width, cfg.fps)
    summary = {k: summarize(rows[k], floor) for k in order if k in rows}
    config = {"n": n, "seed": seed, "steps": steps, "guidance": guidance, "given": given, "modes": list(modes),
              "model": str(getattr(cfg, "_name_or_path", "") or "sorakit-shipped"), "ood_speed": OOD_SPEED,
              "ood_radii": list(OOD_RADII), "parse_floor": floor, "floor_measured_at": size_label(at)}
    return PhysicsEval(summary, [r for k in order if k in rows for r in rows[k]], config, videos)


def _generate(pipe, scenes: dict, batch: list, seed: int, steps: int, guidance: float, given: int):
    """(mode, split, clip, generated video) for each (split, mode, index) job of one batch: one
    pipeline call per mode, seeded `seed`."""
    import torch

    by_mode: dict[str, list] = {}
    for s, m, k in batch:
        by_mode.setdefault(m, []).append((s, scenes[s][k]))
    out = []
    for mode, items in by_mode.items():
        clips = [clip for _, clip in items]
        frames = np.stack([c.video[:given] for c in clips]) if mode == "continuation" else None
        videos = pipe([c.caption for c in clips], frames=frames, num_inference_steps=steps,
                      generator=torch.Generator().manual_seed(seed), guidance_scale=guidance, output_type="np").frames
        out += [(mode, split, clip, video) for (split, clip), video in zip(items, videos)]
    return out
