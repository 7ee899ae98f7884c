"""`sorakit eval sound`: its options and its command, beside the measure. Imports stay light, so the
`sorakit` parser builds this sub-command without loading the world or the sound model.

    sorakit eval sound --n 64                  # the learned soundtrack on 64 unseen world clips, as a table
    sorakit eval sound --n 8 --json            # every number as JSON
    sorakit eval sound --generated --n 64      # on 64 clips the shipped video model generates
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from .. import cli_args as types
from ..limits import LIMITS


def add_sound_arguments(parser: argparse.ArgumentParser) -> None:
    """The measurement's options (shared with `python -m sorakit.eval.sound`)."""
    parser.add_argument("--n", type=types.count, default=64, help="unseen world clips (default 64)")
    parser.add_argument("--size", type=types.side, default=None, help="clip height and width in pixels (default 32)")
    parser.add_argument("--fps", type=types.number(*LIMITS.fps), default=None,
                        help="frames per second (default 8, what the sound model was trained on)")
    parser.add_argument("--frames", type=types.frames, default=None, help="frames per clip (default 16)")
    parser.add_argument("--generated", nargs="?", const="", default=None, metavar="MODEL_PATH",
                        help="score clips a video model generates (MODEL_PATH, a saved model folder; default the "
                             "shipped model) from the captions of the unseen seeds, against the contacts visible "
                             "in each, beside the true soundtracks of the world clips with those seeds")
    parser.add_argument("--steps", type=types.steps, default=None,
                        help="with --generated: denoising steps (default: the sampler's own)")


def add_sound_parser(ev_sub) -> None:
    ev = ev_sub.add_parser("sound", help="does the learned soundtrack (sorakit.add_sound) follow the picture",
                           description="Give unseen world clips a learned soundtrack and score its onsets against "
                                       "the simulator's events (onset F1 at 50 ms, offsets, A/V-sync probe, "
                                       "AV-Align beside the ground truth's); with --generated, score the "
                                       "soundtrack of generated clips against the contacts visible in each.")
    add_sound_arguments(ev)
    ev.add_argument("--json", action="store_true", help="print every number as JSON instead of the table")


def cmd_sound(args: argparse.Namespace) -> int:
    result = measure(args)
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        print(table_generated(result) if args.generated is not None else table(result))
    return 0


def measure(args: argparse.Namespace) -> dict:
    if args.generated is not None:
        return measure_generated(args)
    if args.steps is not None:
        raise ValueError("--steps sets the video model's denoising steps and needs --generated")
    from ..audio import MIN_SAMPLES
    from ..world.sound import SAMPLE_RATE

    size, fps, frames = args.size or 32, args.fps or 8.0, args.frames or 16
    shortest = MIN_SAMPLES / SAMPLE_RATE  # the onset detector's window: a shorter soundtrack cannot be scored
    if frames / fps < shortest:
        raise ValueError(f"--frames / --fps must make clips of at least {shortest * 1000:.0f} ms of sound, "
                         f"got {frames} frames at {fps:g} fps")
    import torch

    from .sound import evaluate_sound

    torch.set_num_threads(1)  # ImpactNet is tiny: more threads only add overhead (and share the machine)
    return evaluate_sound(args.n, height=size, width=size, fps=fps, num_frames=frames)


def measure_generated(args: argparse.Namespace) -> dict:
    """The learned soundtrack on generated clips (sound_generated.py); options checked before a model loads."""
    given = [name for name in ("size", "fps", "frames") if getattr(args, name) is not None]
    if given:
        raise ValueError(f"--{'/--'.join(given)} set the world clips' size and cannot go with --generated: "
                         "a model's clips have the model's size")
    if args.generated and not (Path(args.generated) / "transformer").is_dir() \
            and not (Path(args.generated) / "model_index.json").is_file():
        raise ValueError(f"--generated MODEL_PATH must be a model folder (save_pretrained or a training export); "
                         f"{args.generated!r} is not one")
    import sorakit

    from .sound_generated import evaluate_generated_sound

    pipe = sorakit.load(args.generated) if args.generated else sorakit.load()
    pipe.set_progress_bar_config(disable=True)
    return evaluate_generated_sound(pipe, args.n, steps=args.steps)


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


def table_generated(r: dict) -> str:
    """The generated-clip measure as a markdown table: the learned soundtrack and the true one's ceiling."""
    def row(name: str, m: dict) -> str:
        def num(value, form: str) -> str:
            return "n/a" if value is None else f"{value:{form}}"
        return (f"| {name} | {m['contacts']} | {m['onsets']} | {m['matched']} | {num(m['precision'], '.3f')} / "
                f"{num(m['recall'], '.3f')} / {num(m['f1'], '.3f')} | {num(m['mean_f1'], '.3f')} ({m['clips_scored']}) "
                f"| {num(m['median_offset_ms'], '+.1f')} |")
    steps = "the sampler's default steps" if r["steps"] is None else f"{r['steps']} steps"
    head = (f"{r['clips']} clips of {r['model']} ({r['size']}, {r['frames']} frames, {r['fps']:g} fps, {steps}) "
            f"from the captions of seeds {r['seeds'][0]}-{r['seeds'][1]}; onsets within 50 ms of a contact match; "
            f"half a frame is {r['half_frame_ms']:g} ms")
    return "\n".join([head, "", "| soundtrack vs reference | contacts | onsets | matched | P / R / F1 (pooled) | "
                                 "mean F1 per clip (clips) | median offset ms |", "|---|---|---|---|---|---|---|",
                      row("add_sound on the generated clip vs its visible contacts", r["learned_vs_visible"]),
                      row("true soundtrack of the world clip vs its visible contacts (ceiling)", r["true_vs_visible"]),
                      row("true soundtrack of the world clip vs the simulator's onsets", r["true_vs_simulator"])])
