"""`sorakit sweep`: the command-line face of `sorakit.sweep.sweep`, the same under `accelerate launch`.

    sorakit sweep "a red ball bounces twice" --seeds 0-15 --guidance 1 4 7 --out runs/sweep
    accelerate launch --multi_gpu --num_processes 2 -m sorakit sweep --prompts prompts.txt --out runs/sweep
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .. import cli_args as types
from ..limits import LIMITS


def seed_list(text: str) -> list[int]:
    """"7" -> [7]; "0-15" -> 0..15 (inclusive)."""
    first, sep, last = text.partition("-")
    try:
        if not sep:
            return [int(text)]
        lo, hi = int(first), int(last)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a seed (7) or an inclusive range (0-15); got {text!r}") from None
    if hi < lo:
        raise argparse.ArgumentTypeError(f"empty seed range {text!r}: the end must not be below the start")
    if hi - lo >= LIMITS.sweep_cells:
        raise argparse.ArgumentTypeError(f"seed range {text!r} holds {hi - lo + 1} seeds; "
                                         f"at most {LIMITS.sweep_cells} cells are allowed in one sweep")
    return list(range(lo, hi + 1))


def add_sweep_parser(sub) -> None:
    sw = sub.add_parser("sweep", help="prompts x seeds x settings: sample, probe and tabulate every clip",
                        description="Sample every cell of a grid, probe each clip, and write the clips, their "
                                    "recipes and one table to --out. Rerun the same command to resume. Under "
                                    "`accelerate launch --num_processes N` the cells are split between N processes.")
    sw.add_argument("prompt", nargs="*", help="prompts (or --prompts FILE, or --cells FILE)")
    sw.add_argument("--prompts", metavar="FILE", help="a text file with one prompt per line (# starts a comment)")
    sw.add_argument("--cells", metavar="FILE", help="a JSON list of cells, e.g. [{\"prompt\": \"...\", \"seed\": 3}]")
    sw.add_argument("--seeds", nargs="+", type=seed_list, default=[[0]], metavar="SEED",
                    help="seeds or inclusive ranges, e.g. 0 1 2 or 0-15 (default 0)")
    sw.add_argument("--guidance", nargs="+", type=types.guidance, help="classifier-free guidance scales (default 4)")
    sw.add_argument("--steps", nargs="+", type=types.steps, help="numbers of inference steps (default 20)")
    sw.add_argument("--frames", nargs="+", type=types.frames, help="frames per clip (default: the model's)")
    sw.add_argument("--height", nargs="+", type=types.side, help="clip heights in pixels (default: the model's)")
    sw.add_argument("--width", nargs="+", type=types.side, help="clip widths in pixels (default: the model's)")
    sw.add_argument("--negative-prompt", default=None, help="one negative prompt for every cell")
    sw.add_argument("--out", required=True, metavar="FOLDER", help="folder for clips/, rows/ and the table")
    sw.add_argument("--table", default="results.csv", help="results.csv or results.parquet (needs pyarrow)")
    sw.add_argument("--model", default=None, help="model path or id (default: the shipped model)")
    sw.add_argument("--threads", type=types.whole(1, 1024), default=None,
                    help="torch threads per process (default: OMP_NUM_THREADS, else the cores per local process)")
    sw.add_argument("--quiet", action="store_true", help="no progress bar")


def _prompts(args) -> list[str] | None:
    prompts = list(args.prompt)
    if args.prompts:
        path = Path(args.prompts)
        if not path.is_file():
            raise ValueError(f"no prompt file at {path}")
        lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
        prompts += [line for line in lines if line and not line.startswith("#")]
    return prompts or None


def _cells(args) -> list | None:
    if not args.cells:
        return None
    path = Path(args.cells)
    if not path.is_file():
        raise ValueError(f"no cells file at {path}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not JSON: {exc}") from None


def _settings(args) -> dict:
    names = {"guidance": args.guidance, "steps": args.steps, "frames": args.frames, "height": args.height,
             "width": args.width, "negative_prompt": args.negative_prompt}
    return {k: v for k, v in names.items() if v is not None}


def _warn_one_process(state) -> None:
    """`accelerate launch --num_processes N` without GPUs starts one process (its simple launcher)."""
    launched = "ACCELERATE_MIXED_PRECISION" in os.environ and "MASTER_ADDR" in os.environ
    if launched and state.num_processes == 1 and state.is_main_process:
        print("sorakit: note: accelerate started one process; on a machine without GPUs add --multi_gpu to "
              "`accelerate launch` to start --num_processes local processes", file=sys.stderr)


def cmd_sweep(args: argparse.Namespace) -> int:
    import sorakit

    from ..distributed import process_state
    from .run import plan, sweep

    prompts, cells = _prompts(args), _cells(args)
    seeds = [s for group in args.seeds for s in group]
    plan(prompts, seeds, cells, _settings(args))  # bad input fails here, before the model loads
    state = process_state()
    _warn_one_process(state)
    pipe = sorakit.load(args.model, device=state.device)
    table = sweep(pipe, prompts, seeds, cells=cells, out=args.out, table=args.table, threads=args.threads,
                  progress=not args.quiet, **_settings(args))
    if state.is_main_process:
        passed = int(table["passed"].fillna(False).sum())
        adherence = table["adherence_score"].dropna()
        print(f"{Path(args.out) / args.table}: {len(table)} cells, {passed} passed every probe that could judge them"
              + (f", mean adherence {adherence.mean():.2f} over {len(adherence)}" if len(adherence) else ""))
    return 0
