"""`sorakit eval events`: its options and its command, beside the measure. Imports stay light, so the
`sorakit` parser builds this sub-command without loading the world or a model.

    sorakit eval events --n 64                                       # the shipped model, 64 clips per set
    sorakit eval events --truth --height 64 --width 64 --frames 24   # what a perfect model scores
"""
from __future__ import annotations

import argparse
import json


def add_events_parser(ev_sub) -> None:
    ev = ev_sub.add_parser("events", help="drops, throws, bounce counts, restitution, hoop shots and collisions",
                           description="Generate clips for held-out captions that name events and score each "
                                       "event measure, beside what the true clips score.")
    ev.add_argument("--n", type=int, default=64, help="clips per event set (default 64)")
    ev.add_argument("--steps", type=int, default=20, help="number of inference steps")
    ev.add_argument("--guidance", type=float, default=4.0, help="classifier-free guidance scale")
    ev.add_argument("--sets", nargs="+", default=None, metavar="SET",
                    help="event sets to run: drop throw bounces hoop collision (default: all)")
    ev.add_argument("--model", default=None, help="model path or id (default: the shipped model)")
    ev.add_argument("--truth", action="store_true", help="score only the true clips (no model is loaded)")
    ev.add_argument("--height", type=int, default=None, help="with --truth: clip height (default 32)")
    ev.add_argument("--width", type=int, default=None, help="with --truth: clip width (default 32)")
    ev.add_argument("--frames", type=int, default=None, help="with --truth: frames per clip (default 16)")
    ev.add_argument("--json", action="store_true", help="print every number as JSON instead of the table")


def cmd_events(args: argparse.Namespace) -> int:
    from ..distributed import process_state
    from . import events

    sets = tuple(args.sets) if args.sets else events.SETS
    events.check_arguments(args.n, args.steps, args.guidance, 16, sets)  # before a model loads
    if not args.truth and any(v is not None for v in (args.height, args.width, args.frames)):
        raise ValueError("--height/--width/--frames set the true clips' size and need --truth; "
                         "a model's clips have the model's size")
    size, pipe = None, None
    if args.truth:
        size = (args.height or 32, args.width or 32, args.frames or 16, 8.0)
    else:  # under `accelerate launch` each process loads the model on its own device and makes a share
        import sorakit

        device = process_state().device
        pipe = sorakit.load(args.model, device=device) if args.model else sorakit.load(device=device)
    result = events.evaluate_events(n=args.n, pipe=pipe, steps=args.steps, guidance=args.guidance, sets=sets,
                                    truth_only=args.truth, size=size)
    if process_state().is_main_process:  # one report
        print(json.dumps(result.to_dict(), indent=2, default=str) if args.json else result.table())
    return 0
