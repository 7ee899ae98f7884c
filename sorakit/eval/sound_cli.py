"""`sorakit eval sound`: its options and its command, beside the measure. Imports stay light, so the
`sorakit` parser builds this sub-command without loading the world or the sound model.

    sorakit eval sound --n 64          # the learned soundtrack on 64 unseen world clips, as a table
    sorakit eval sound --n 8 --json    # every number as JSON
"""
from __future__ import annotations

import argparse
import json

from .. import cli_args as types
from ..limits import LIMITS


def add_sound_arguments(parser: argparse.ArgumentParser) -> None:
    """The measurement's options (shared with `python -m sorakit.eval.sound`)."""
    parser.add_argument("--n", type=types.count, default=64, help="unseen world clips (default 64)")
    parser.add_argument("--size", type=types.side, default=32, help="clip height and width in pixels (default 32)")
    parser.add_argument("--fps", type=types.number(*LIMITS.fps), default=8.0,
                        help="frames per second (default 8, what the sound model was trained on)")
    parser.add_argument("--frames", type=types.frames, default=16, help="frames per clip (default 16)")


def add_sound_parser(ev_sub) -> None:
    ev = ev_sub.add_parser("sound", help="does the learned soundtrack (sorakit.add_sound) follow the picture",
                           description="Give unseen world clips a learned soundtrack and score its onsets against "
                                       "the simulator's events (onset F1 at 50 ms, offsets, A/V-sync probe, "
                                       "AV-Align beside the ground truth's).")
    add_sound_arguments(ev)
    ev.add_argument("--json", action="store_true", help="print every number as JSON instead of the table")


def cmd_sound(args: argparse.Namespace) -> int:
    result = measure(args)
    print(json.dumps(result, indent=1) if args.json else table(result))
    return 0


def measure(args: argparse.Namespace) -> dict:
    from ..audio import MIN_SAMPLES
    from ..world.sound import SAMPLE_RATE

    shortest = MIN_SAMPLES / SAMPLE_RATE  # the onset detector's window: a shorter soundtrack cannot be scored
    if args.frames / args.fps < shortest:
        raise ValueError(f"--frames / --fps must make clips of at least {shortest * 1000:.0f} ms of sound, "
                         f"got {args.frames} frames at {args.fps:g} fps")
    import torch

    from .sound import evaluate_sound

    torch.set_num_threads(1)  # ImpactNet is tiny: more threads only add overhead (and share the machine)
    return evaluate_sound(args.n, height=args.size, width=args.size, fps=args.fps, num_frames=args.frames)


def table(r: dict) -> str:
    """The result as the markdown table docs/sound.md shows (n/a where no clip gave a number)."""
    def num(value, form: str, unit: str = "") -> str:
        return "n/a" if value is None else f"{value:{form}}{unit}"

    onsets, m = r["onsets"], r["material"]
    rows = [("clips", f"{r['clips']} (seeds {r['seeds'][0]}-{r['seeds'][1]}), {r['size']}, {r['fps']:g} fps, "
                      f"{r['frames']} frames"),
            ("onsets: simulator / predicted / matched",
             f"{onsets['reference']} / {onsets['predicted']} / {onsets['matched']}"),
            ("precision / recall / onset F1 at 50 ms",
             f"{r['precision']:.3f} / {r['recall']:.3f} / {r['onset_f1']:.3f}"),
            ("median offset (median absolute offset)",
             f"{num(r['median_offset_ms'], '+.1f', ' ms')} ({num(r['median_abs_offset_ms'], '.1f', ' ms')})"),
            ("material of matched impacts: bouncy/dead right (always 0.75) / dead heard dead / restitution MAE",
             f"{num(m['accuracy'], '.3f')} ({num(m['accuracy_of_default'], '.3f')}) / {m['dead_heard_dead']} of "
             f"{m['dead']} / {num(m['restitution_mae'], '.3f')}"),
            ("av_sync on the soundtrack: mean F1 / median offset",
             f"{num(r['av_sync_mean_f1'], '.3f')} / {num(r['av_sync_median_offset_ms'], '+.1f', ' ms')}"),
            ("AV-Align: learned / ground truth",
             f"{num(r['av_align_learned'], '.3f')} / {num(r['av_align_ground_truth'], '.3f')}")]
    return "\n".join(["| measure | value |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)])
