"""Storyboard continuity, measured: do objects persist across shot boundaries, do continuing shots
run on without a jump, and does each shot still follow its prompt?

    python -m sorakit.eval.storyboards --n 32 --steps 4      # prints JSON

Storyboard i (held-out world seeds from STORYBOARD_SEED) has 2 shots (i even) or 3 (i odd). Shot 1
is a held-out caption of a throw, roll or drop; later shots are held-out captions of other scenes
with the same ball (its colour and size). Transitions: a continue then a cut (i % 4 in 0, 1) or a
cut then a continue. Every boundary is also made the baseline way: the later shot generated fresh
(its prompt and seed, unconditioned) and joined to the same earlier shots. The continuity probe
judges both films; adherence of the conditioned shots is compared with the same prompts' fresh clips.
"""
from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from .. import world
from ..probes.continuity import continuity
from ..storyboard import DEFAULT_CONTEXT, Shot, storyboard
from ..world.captions import SIZE_SYNONYMS

STORYBOARD_SEED = 4_000_000  # held out: training from 0, monitor 1e6, direction 1.2e6, physics 2e6, hidden 3e6
SCENARIOS = ("throw", "roll", "drop")


class _Memo:
    """The pipeline, with unconditioned calls remembered by (prompt, seed, settings): a cut's draft and the
    baseline's fresh shot are the same call, made once."""

    def __init__(self, pipe):
        self._pipe, self._seen = pipe, {}

    def __getattr__(self, name):
        return getattr(self._pipe, name)

    def __call__(self, prompt, **kwargs):
        generator = kwargs.get("generator")
        if kwargs.get("frames") is not None or kwargs.get("video") is not None or generator is None:
            return self._pipe(prompt, **kwargs)
        key = (prompt, generator.initial_seed(), json.dumps({k: v for k, v in kwargs.items() if k != "generator"},
                                                            sort_keys=True, default=str))
        if key not in self._seen:
            self._seen[key] = self._pipe(prompt, **kwargs)
        return self._seen[key]


def _unsized(caption: str) -> str:
    """The caption without its size word ("a large red ball" -> "a red ball")."""
    words = {w for synonyms in SIZE_SYNONYMS.values() for w in synonyms if w}
    return " ".join(w for w in caption.split() if w not in words)


def board(i: int, unsized: bool = False) -> list[Shot]:
    """Storyboard i: held-out captions, all of one ball; transitions as the module doc says. `unsized`:
    later shots do not name the ball's size, so only the storyboard can keep it."""
    first = world.sample(STORYBOARD_SEED + 10 * i, scenario=SCENARIOS[i % 3], audio=False)
    ball = first.scene.balls[0]
    n = 2 if i % 2 == 0 else 3
    order = ("continue", "cut") if i % 4 in (0, 1) else ("cut", "continue")
    shots = [Shot(first.caption)]
    for k in range(1, n):
        later = world.sample(STORYBOARD_SEED + 10 * i + k, scenario=SCENARIOS[(i + k) % 3], color=ball.color,
                             size=ball.size, audio=False)
        shots.append(Shot(_unsized(later.caption) if unsized else later.caption, transition=order[k - 1]))
    return shots


def _baseline(pipe, film, steps: int, guidance: float) -> np.ndarray:
    """The film with each later shot replaced by a fresh one (same prompt, seed and length)."""
    import torch

    parts = [film.shot_videos[0]]
    for shot, recipe, made in zip(film.shots[1:], film.recipes[1:], film.shot_videos[1:]):
        fresh = pipe(shot.prompt, num_frames=pipe.config.num_frames, num_inference_steps=steps,
                     guidance_scale=guidance, negative_prompt=None, output_type="np",
                     generator=torch.Generator().manual_seed(recipe.seed)).frames[0]
        parts.append(fresh[:len(made)])
    return np.concatenate(parts)


def _share(values) -> dict:
    judged = [bool(v) for v in values if v is not None]
    return {"share": float(np.mean(judged)) if judged else None, "n": len(judged)}


def summarize(rows: list[dict]) -> dict:
    """Shares of boundaries / shots passing, storyboard against baseline."""
    out = {}
    for who in ("storyboard", "baseline"):
        b = [r for row in rows for r in row[who]["boundaries"]]
        out[who] = {
            "persist": _share(r["persist"] for r in b),
            "persist_continue": _share(r["persist"] for r in b if r["transition"] == "continue"),
            "persist_cut": _share(r["persist"] for r in b if r["transition"] == "cut"),
            "jump_continue": _share(r["jump"] for r in b if r["transition"] == "continue"),
            "adherence_later_shots": _share(r["adherence"] for r in b),
        }
    out["adherence_first_shot"] = _share(row["storyboard"]["shots"][0]["adherence"] for row in rows)
    return out


def evaluate_storyboards(pipe, n: int = 32, steps: int = 4, guidance: float = 4.0, context: int = DEFAULT_CONTEXT,
                         unsized: bool = False, log=sys.stderr) -> dict:
    memo = _Memo(pipe)
    rows, start = [], time.time()
    for i in range(n):
        shots = board(i, unsized)
        film = storyboard(memo, shots, seed=i, context=context, num_inference_steps=steps, guidance_scale=guidance,
                          progress=False)
        base = _baseline(memo, film, steps, guidance)
        made = continuity(film, fps=film.recipe.fps).metrics
        fresh = continuity(base, film.boundaries, film.prompts, film.transitions, fps=film.recipe.fps).metrics
        rows.append({"i": i, "prompts": list(film.prompts), "transitions": list(film.transitions),
                     "storyboard": made, "baseline": fresh})
        if log is not None:
            flags = [(r["transition"], r["persist"], r["jump"]) for r in made["boundaries"]]
            print(f"[{i + 1}/{n}] {time.time() - start:.0f}s {flags}", file=log, flush=True)
    return {"summary": summarize(rows), "config": {"n": n, "steps": steps, "guidance": guidance, "context": context,
                                                   "seed": STORYBOARD_SEED, "sampler": "euler",
                                                   "unsized": unsized},
            "seconds": round(time.time() - start, 1), "rows": rows}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=32, help="storyboards (half 2-shot, half 3-shot)")
    parser.add_argument("--steps", type=int, default=4, help="Euler steps per shot")
    parser.add_argument("--guidance", type=float, default=4.0)
    parser.add_argument("--context", type=int, default=DEFAULT_CONTEXT, help="frames a continuing shot is given")
    parser.add_argument("--unsized", action="store_true", help="later shots' prompts do not name the ball's size")
    parser.add_argument("--rows", action="store_true", help="include every boundary's row in the JSON")
    args = parser.parse_args(argv)
    from ..loading import load

    pipe = load()
    pipe.set_progress_bar_config(disable=True)
    result = evaluate_storyboards(pipe, args.n, args.steps, args.guidance, args.context, args.unsized)
    if not args.rows:
        result.pop("rows")
    print(json.dumps(result, indent=1, default=str))


if __name__ == "__main__":
    main()
