"""`sorakit eval remix`: its options, its command and the result's forms (table, figure). Imports stay
light, so the `sorakit` parser builds this sub-command without loading the world or a model.

    sorakit eval remix --n 32 --plot docs/remix_strength.png   # the shipped model: table + figure
    sorakit eval remix --n 4 --strengths 0 0.5 1 --json        # every number, every clip
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from .. import cli_args as types


def add_remix_parser(ev_sub) -> None:
    ev = ev_sub.add_parser("remix", help="remix (SDEdit) against strength: path departure and new-colour adherence",
                           description="Make clips from held-out captions, remix each with another colour at "
                                       "every strength and measure how far the ball's path departs and whether "
                                       "the new colour shows.")
    ev.add_argument("--n", type=types.count, default=32, help="source clips (default 32)")
    ev.add_argument("--strengths", type=types.number(0, 1), nargs="+", default=None,
                    metavar="S", help="strengths from 0 to 1 (default: 0 0.2 0.4 0.5 0.6 0.7 0.8 1)")
    ev.add_argument("--steps", type=types.steps, default=None,
                    help="Euler steps of the schedule; a remix runs the last strength fraction (default 10)")
    ev.add_argument("--guidance", type=types.guidance, default=4.0, help="classifier-free guidance scale")
    ev.add_argument("--model", default=None, help="model path or id (default: the shipped model)")
    ev.add_argument("--plot", default=None, metavar="PNG", help="also save the figure of departure and adherence")
    ev.add_argument("--json", action="store_true", help="print every number (and every clip's) as JSON")


def cmd_remix(args: argparse.Namespace) -> int:
    from ..distributed import process_state
    from . import remix

    strengths = remix.STRENGTHS if args.strengths is None else args.strengths
    steps = remix.STEPS if args.steps is None else args.steps
    remix.check_arguments(args.n, steps, strengths)  # before a model loads
    if args.plot is not None:
        types.writable_output(args.plot, (".png",))
    import sorakit

    device = process_state().device  # under `accelerate launch`: each process makes a share of the clips
    pipe = sorakit.load(args.model, device=device) if args.model else sorakit.load(device=device)
    result = remix.evaluate_remix(pipe, n=args.n, strengths=strengths, steps=steps, guidance=args.guidance)
    if process_state().is_main_process:  # one report
        if args.plot is not None:
            plot(result, args.plot)
        if not args.json:
            result.pop("rows")
        print(json.dumps(result, indent=1, default=str) if args.json else table(result))
    return 0


def _pct(share: float | None) -> str:
    return "—" if share is None else f"{100 * share:.0f} %"


def _px(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def table(result: dict) -> str:
    """The markdown table, and the answer to the question it was made for, in words."""
    lines = ["| strength | steps run | mean departure (px) | max departure (px) | path within one radius | "
             "new colour shown | old colour still shown |", "|---|---|---|---|---|---|---|"]
    for r in result["table"]:
        lines.append(f"| {r['strength']:g} | {r['steps_run']} | {_px(r['mean_px'])} | {_px(r['max_px'])} | "
                     f"{_pct(r['within_radius'])} ({r['paths']}) | {_pct(r['new_colour'])} ({r['clips']}) | "
                     f"{_pct(r['old_colour'])} |")
    return "\n".join(lines + ["", sentence(result["answer"])])


def sentence(a: dict) -> str:
    """The answer in one sentence."""
    goal = (f"colour follows in >= {a['colour_target']:.0%} and the path stays within one radius in "
            f">= {a['path_target']:.0%}")
    if a["strength"] is not None:
        return f"Smallest strength where {goal}: {a['strength']:g}."
    colour = "no strength" if a["colour_follows_from"] is None else f"strength >= {a['colour_follows_from']:g}"
    path = "no strength" if a["path_kept_up_to"] is None else f"strength <= {a['path_kept_up_to']:g}"
    return f"No strength has {goal}: colour follows from {colour}, the path is kept up to {path}."


def plot(result: dict, path: str | Path) -> Path:
    """Departure (pixels, left) and the shares (right) against strength, as a small PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = result["table"]
    s = [r["strength"] for r in rows]

    def col(key, scale=1.0):
        return [float("nan") if r[key] is None else scale * r[key] for r in rows]

    fig, (left, right) = plt.subplots(1, 2, figsize=(7, 2.8), dpi=90)
    left.plot(s, col("mean_px"), "o-", label="mean")
    left.plot(s, col("max_px"), "s--", label="max")
    radius = [r["radius_px"] for row in result.get("rows", []) for r in row["remixes"][:1] if "radius_px" in r]
    if radius:
        left.axhline(sum(radius) / len(radius), color="grey", lw=0.8, ls=":", label="mean ball radius")
    left.set(xlabel="strength", ylabel="path departure (px)", title="departure from the source's path")
    left.legend(fontsize=7)
    right.plot(s, col("within_radius", 100), "o-", label="path within one radius")
    right.plot(s, col("new_colour", 100), "s-", label="new colour shown")
    right.plot(s, col("old_colour", 100), "^:", label="old colour still shown")
    for target in (result["answer"]["colour_target"], result["answer"]["path_target"]):  # the question's bars
        right.axhline(100 * target, color="grey", lw=0.6, ls=":")
    right.set(xlabel="strength", ylabel="% of clips", ylim=(-3, 103), title="kept vs changed")
    right.legend(fontsize=7, loc="center right")
    fig.suptitle(f"remix (SDEdit), {result['config']['n']} clips, {result['config']['steps']} steps", fontsize=9)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
