"""How well the learned soundtrack follows the picture, on world clips the model never saw.

For each clip: ImpactNet's predicted onsets against the simulator's (onset F1 at 50 ms, offsets), the
material it gives each matched impact against the restitution of the balls that hit (bouncy or dead,
as the world draws them: dead 0.15-0.3, bouncy 0.75-0.9), and the whole add_sound
soundtrack through the A/V-sync probe against the simulator's events, with AV-Align for the learned
and the ground-truth soundtracks for comparison.

    python -m sorakit.eval.sound --n 64            # prints JSON
    sorakit eval sound --n 64                      # the same measure as a table (--json: as JSON)
"""
from __future__ import annotations

import argparse
import json

import numpy as np
from tqdm.auto import tqdm

from .. import probes, world
from ..probes.av_sync import match_onsets, pool_onsets
from ..sound import add_sound, predict_impacts
from ..sound.model import impact_onsets

EVAL_SEEDS = 1_000_000  # training uses 0..N and tuning 500_000..; these are unseen
# An impact's restitution below this counts as dead in the material score. Not the top of the world's
# dead range (world.sound_words.DULL_UP_TO, 0.3): this splits a continuous estimate, the model's, between
# the world's dead (0.15-0.3) and bouncy (0.75-0.9) balls, and an impact's true value is its balls' mean
# (a dead-bouncy collision: 0.45-0.6).
MATERIAL_DEAD_BELOW = 0.5


def evaluate_sound(n: int = 64, start_seed: int = EVAL_SEEDS, height: int = 32, width: int = 32,
                   fps: float = 8.0, num_frames: int = 16) -> dict:
    matches, sync_offsets, f1s, align_learned, align_true = [], [], [], [], []
    heard_e, given_e = [], []  # restitution: of the balls behind each matched onset, and the model's
    for seed in tqdm(range(start_seed, start_seed + n), desc="clips", leave=False):
        clip = world.sample(seed, height=height, width=width, fps=fps, num_frames=num_frames)
        impacts = predict_impacts(clip.video, fps)
        matches.append(match_onsets(clip.onsets, [i.time for i in impacts]))
        pairs = matches[-1].pairs
        truth = impact_onsets(clip.events, balls=clip.scene.balls)  # the same onsets, with their restitution
        heard_e += [truth[i][3] for i, _ in pairs]
        given_e += [float(np.mean([e for _, e in impacts[j].balls])) for _, j in pairs]
        audio, sr = add_sound(clip.video, fps)
        sync = probes.av_sync(clip, audio, sr)
        if sync.metrics["f1"] is not None:
            f1s.append(sync.metrics["f1"])
        if sync.metrics["median_offset"] is not None:
            sync_offsets.append(sync.metrics["median_offset"])
        if num_frames >= 3:
            align_learned.append(probes.av_align(clip.video, audio, sr, fps))
            align_true.append(probes.av_align(clip.video, clip.audio, sr, fps))
    p = pool_onsets(matches)
    ms = lambda x: None if x is None else round(1000 * float(x), 1)  # noqa: E731
    score = lambda x: round(x or 0.0, 3)  # noqa: E731  (0 where undefined: no onsets on any clip)
    return {
        "clips": n, "size": f"{height}x{width}", "fps": fps, "frames": num_frames,
        "seeds": [start_seed, start_seed + n - 1],
        "onsets": {"reference": p["reference"], "predicted": p["onsets"], "matched": p["matched"]},
        "precision": score(p["precision"]), "recall": score(p["recall"]), "onset_f1": score(p["f1"]),
        "median_offset_ms": ms(p["median_offset"]), "median_abs_offset_ms": ms(p["median_abs_offset"]),
        "material": _material(np.array(heard_e), np.array(given_e)),
        "av_sync_mean_f1": round(float(np.mean(f1s)), 3) if f1s else None,
        "av_sync_median_offset_ms": ms(np.median(sync_offsets)) if sync_offsets else None,
        "av_align_learned": round(float(np.mean(align_learned)), 3) if align_learned else None,
        "av_align_ground_truth": round(float(np.mean(align_true)), 3) if align_true else None,
    }


def _material(heard: np.ndarray, given: np.ndarray) -> dict:
    """How well the matched impacts' restitution (the decay of their sound) follows the balls': bouncy
    vs dead agreement, the dead ones heard dead, the mean absolute error, and the agreement of always
    saying 0.75 (the synthesis' default) for comparison."""
    if not len(heard):
        return {"impacts": 0, "accuracy": None, "dead": 0, "dead_heard_dead": 0, "restitution_mae": None,
                "accuracy_of_default": None}
    dead = heard < MATERIAL_DEAD_BELOW
    return {"impacts": len(heard), "accuracy": round(float(np.mean(dead == (given < MATERIAL_DEAD_BELOW))), 3),
            "dead": int(dead.sum()), "dead_heard_dead": int((given[dead] < MATERIAL_DEAD_BELOW).sum()),
            "restitution_mae": round(float(np.abs(heard - given).mean()), 3),
            "accuracy_of_default": round(float(np.mean(~dead)), 3)}


def main(argv=None) -> None:
    from .sound_cli import add_sound_arguments, measure

    parser = argparse.ArgumentParser(description="Sync of the learned soundtrack on unseen world clips")
    add_sound_arguments(parser)
    print(json.dumps(measure(parser.parse_args(argv)), indent=1))


if __name__ == "__main__":
    main()
