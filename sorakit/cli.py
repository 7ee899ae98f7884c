"""The `sorakit` command. Each subcommand imports its module lazily and calls one function.

Functions this file calls in other modules (their contract with the CLI):
  generate  sorakit.load(model_or_None) -> pipe; sorakit.recipe.Recipe(...).run_by(pipe) -> recipe;
            sorakit.families.defaults.call_kwargs(pipe, recipe) -> the call's keyword arguments (ValueError
            naming the allowed values when a diffusers pipeline cannot make those frames/sizes/steps);
            sorakit.safety.default_moderation() -> .check_recipe(recipe) before loading, .check_clip(video, recipe)
            before exporting (a refusal is a ValueError naming the category);
            pipe(**kwargs).frames[0] -> (F, H, W, 3) float array;
            sorakit.export(video, out, recipe=recipe) stores the recipe in the clip.
  probe     sorakit.media.read_clip(path) -> (video at the recipe's size, recipe | None);
            sorakit.probes.run(video, prompt=str|None, fps=float|None) -> report with .to_dict() (.summary() if any)
  train     sorakit.training.cli_main(argv: list[str]) -> dict (parses its own options)
  world     sorakit.world.preview(out_path, n=int, seed=int) -> path | None
  lineage   sorakit.lineage.read(paths) -> tree with .text() (ValueError: not a clip, or no recipe)
  eval      one module of sorakit.eval per suite:
            quality: sorakit.eval.quality.evaluate_quality(pipe, n=int, steps=int, guidance=float, batch_size=int)
                     -> dict (as JSON); its batches are split between `accelerate launch` processes
            physics: sorakit.eval.physics.evaluate_physics(n=int, pipe=pipe|None, steps=int) -> .to_dict(), .table()
            attention: sorakit.eval.attention.localization(pipe, n=int, n_generated=int, num_inference_steps=int)
                       -> dict; .tables(dict) -> str
            hidden: sorakit.eval.hidden.run(pipe, n_clips=int) -> object with .to_dict(), .targets, .table(target)
            events: sorakit.eval.events_cli: add_events_parser(subparsers) and cmd_events(args) -> int
            sound: sorakit.eval.sound_cli: add_sound_parser(subparsers) and cmd_sound(args) -> int
            remix: sorakit.eval.remix_cli: add_remix_parser(subparsers) and cmd_remix(args) -> int
            autoencoder: diffusers.AutoencoderKL.from_pretrained(folder, use_safetensors=True) -> vae;
                         sorakit.eval.autoencoder.evaluate_autoencoder(vae, n=int, height=int, width=int,
                         num_frames=int) -> dict (as JSON)
  demo      sorakit.demo.launch(host=str, port=int|None, share=bool, auth=(user, pass)|None, moderation=bool|path)
            (with --model: also pipe=sorakit.load(model), and size=(height, width) when given)
  sweep     sorakit.sweep.cli: add_sweep_parser(subparsers) and cmd_sweep(args) -> int (its own options)
  verify    sorakit.provenance.cli: add_verify_parser(subparsers) and cmd_verify(args) -> int (0 valid, 1 not)
Bad input (ValueError, missing or unwritable files, bad arguments) prints one line to stderr and exits 2,
before any model loads (arguments: sorakit/cli_args.py).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Sequence

from . import __version__
from . import cli_args as types
from .cli_args import OneLineParser, one_line, writable_output
from .limits import LIMITS

AUTH_ENV = "SORAKIT_DEMO_AUTH"


def _auth(text: str) -> tuple[str, str]:
    """USER:PASSWORD -> (user, password)."""
    user, sep, password = text.strip().partition(":")
    if not sep or not user or not password:
        raise ValueError("a login must be USER:PASSWORD")
    return user, password


def _auth_on_command_line(text: str):
    raise argparse.ArgumentTypeError(f"a password on the command line is visible to every user of this machine "
                                     f"(ps); put USER:PASSWORD in a file (--auth-file FILE) or in ${AUTH_ENV}")


def demo_auth(auth_file: str | None) -> tuple[str, str] | None:
    """The demo's login: from --auth-file (its first line), else $SORAKIT_DEMO_AUTH, else none."""
    import os
    from pathlib import Path

    if auth_file is not None:
        path = Path(auth_file)
        if not path.is_file() or path.stat().st_size > 4096:
            raise ValueError(f"--auth-file {auth_file}: not a small file holding USER:PASSWORD")
        lines = path.read_text(encoding="utf-8").splitlines()
        return _auth(lines[0] if lines else "")
    text = os.environ.get(AUTH_ENV)
    return _auth(text) if text else None


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="sorakit", description="Text-to-video spacetime diffusion toolkit.")
    parser.add_argument("--version", action="version", version=f"sorakit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    gen = sub.add_parser("generate", help="generate a clip from a prompt and export it")
    gen.add_argument("prompt")
    # Ranges are the Recipe's to check (cmd_generate), so its message names the field as everywhere else.
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--steps", type=int, default=20, help="number of inference steps")
    gen.add_argument("--guidance", type=float, default=4.0, help="classifier-free guidance scale")
    gen.add_argument("--out", default="clip.mp4", help="output .mp4 or .gif")
    gen.add_argument("--fps", type=float, default=None, help="frames per second (default: the model's)")
    gen.add_argument("--model", default=None, help="model path or id (default: the shipped model); a diffusers "
                     "video pipeline folder (Wan, LTX-Video, CogVideoX, HunyuanVideo, Mochi...) works too")
    gen.add_argument("--frames", type=int, default=None, help="frames (default: the model's)")
    gen.add_argument("--height", type=int, default=None, help="clip height in pixels (default: the model's)")
    gen.add_argument("--width", type=int, default=None, help="clip width in pixels (default: the model's)")

    probe = sub.add_parser("probe", help="run the physics probes on a clip")
    probe.add_argument("clip")
    probe.add_argument("--prompt", default=None, help="default: the prompt stored in the clip")
    probe.add_argument("--json", action="store_true", help="print the report as JSON")

    # Options are parsed by sorakit.training itself; main() forwards everything after `train`.
    sub.add_parser("train", help="train the model on world clips (see `sorakit train --help`)", add_help=False)

    lineage = sub.add_parser("lineage", help="print the tree of clips (remixes, extensions, shots) behind files")
    lineage.add_argument("clips", nargs="+", metavar="CLIP", help="exported .mp4/.gif files")
    lineage.add_argument("--from-c2pa", action="store_true", help="read each clip's recipe from its C2PA manifest")

    world = sub.add_parser("world", help="sample clips from the physics world")
    world.add_argument("--preview", required=True, metavar="OUT", help="output .gif contact sheet")
    world.add_argument("--n", type=types.whole(*LIMITS.preview_clips), default=16, help="number of clips")
    world.add_argument("--seed", type=types.whole(0, 2**63 - 1), default=0)
    world.add_argument("--sound-words", action="store_true",
                       help="end each caption with what the clip sounds like (\"... with a loud bang\")")

    add_eval_parser(sub)
    _add_sweep_parser(sub)
    _add_verify_parser(sub)

    demo = sub.add_parser("demo", help="start the Gradio demo")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=types.port, default=None)
    demo.add_argument("--share", action="store_true", help="create a public share link")
    demo.add_argument("--auth", type=_auth_on_command_line, default=None, help=argparse.SUPPRESS)
    demo.add_argument("--auth-file", default=None, metavar="FILE",
                      help=f"a login in front of the demo: a file holding USER:PASSWORD (or set ${AUTH_ENV})")
    demo.add_argument("--policy", default=None, metavar="FILE", help="a moderation policy file (default: the shipped "
                      "policy.toml, or $SORAKIT_POLICY); see docs/moderation.md")
    demo.add_argument("--no-moderation", action="store_true",
                      help="turn moderation off (refused with --share or a non-loopback --host)")
    demo.add_argument("--model", default=None, help="model path or id (default: the shipped model)")
    demo.add_argument("--height", type=int, default=None, help="clip height in pixels (default: the model's)")
    demo.add_argument("--width", type=int, default=None, help="clip width in pixels (default: the model's)")
    return parser


def add_eval_parser(sub) -> None:
    """`sorakit eval SUITE`: one suite per module of sorakit.eval."""
    ev = sub.add_parser("eval", help="evaluate the model (the measurements behind the docs' tables)")
    ev_sub = ev.add_subparsers(dest="suite", metavar="SUITE", required=True)
    qual = ev_sub.add_parser("quality", help="colour, persistence and direction on clips from held-out captions")
    qual.add_argument("--n", type=types.count, default=64, help="number of generated clips")
    qual.add_argument("--steps", type=types.steps, default=20, help="number of inference steps")
    qual.add_argument("--guidance", type=types.guidance, default=4.0, help="classifier-free guidance scale")
    qual.add_argument("--batch-size", type=types.whole(*LIMITS.videos_per_prompt), default=16,
                      help="clips per pipeline call (batch b is seeded b; under accelerate launch, batches are split)")
    phys = ev_sub.add_parser("physics", help="physics-consistency evaluation against the world")
    phys.add_argument("--n", type=types.count, default=32, help="held-out scenes, split over id/ood/combinatorial")
    phys.add_argument("--steps", type=types.steps, default=20, help="number of inference steps")
    att = ev_sub.add_parser("attention", help="how well colour-word attention maps find the ball")
    att.add_argument("--n", type=types.count, default=32, help="world clips for the teacher-forced setting")
    att.add_argument("--generated", type=types.count, default=8, help="sampled clips for the generated setting")
    att.add_argument("--steps", type=types.steps, default=20, help="inference steps of each sampled clip")
    hid = ev_sub.add_parser("hidden", help="linear probes: which blocks hold the ball's position and velocity")
    hid.add_argument("--n", type=types.count, default=64, help="world clips (a quarter held out)")
    for suite in (qual, phys, att, hid):
        suite.add_argument("--model", default=None, help="model path or id (default: the shipped model)")
        tables = "" if suite is qual else " instead of the tables"  # quality has no table form
        suite.add_argument("--json", action="store_true", help=f"print every number as JSON{tables}")
    from sorakit.eval.autoencoder_cli import add_autoencoder_parser  # light: argparse only
    from sorakit.eval.events_cli import add_events_parser  # light: argparse only
    from sorakit.eval.remix_cli import add_remix_parser  # light: argparse only
    from sorakit.eval.sound_cli import add_sound_parser  # light: argparse only

    add_events_parser(ev_sub)
    add_sound_parser(ev_sub)
    add_remix_parser(ev_sub)
    add_autoencoder_parser(ev_sub)

def _to_jsonable(obj: Any) -> Any:
    return obj.to_dict() if hasattr(obj, "to_dict") else obj


def cmd_generate(args: argparse.Namespace) -> int:
    import sorakit
    from sorakit.families.defaults import call_kwargs
    from sorakit.recipe import Recipe
    from sorakit.safety import default_moderation

    # Checked (against sorakit.limits and the moderation policy) before the model loads: bad input fails in a moment.
    recipe = Recipe(args.prompt, seed=args.seed, steps=args.steps, guidance=args.guidance, fps=args.fps,
                    frames=args.frames, height=args.height, width=args.width)
    writable_output(args.out, (".mp4", ".gif"))
    moderation = default_moderation()
    moderation.check_recipe(recipe)
    pipe = sorakit.load(args.model) if args.model else sorakit.load()
    recipe = recipe.run_by(pipe, model=args.model)
    video = pipe(**call_kwargs(pipe, recipe)).frames[0]  # checks what a diffusers pipeline accepts
    moderation.check_clip(video, recipe)  # before the clip is written anywhere
    path = sorakit.export(video, args.out, recipe=recipe)
    print(path)
    return 0


def cmd_probe(args: argparse.Namespace) -> int:
    from sorakit import media, probes

    # At the recipe's size and fps: the same clip gives the same numbers however it was exported.
    video, recipe = media.read_clip(args.clip)
    report = probes.run(video, prompt=args.prompt or (recipe.prompt if recipe else None),
                        fps=recipe.fps if recipe else None)
    data = _to_jsonable(report)
    if args.json:
        print(json.dumps(data, indent=2, default=str))
    elif hasattr(report, "summary"):
        print(report.summary())
    else:
        for key, value in data.items():
            print(f"{key}: {value}")
    return 0


def cmd_world(args: argparse.Namespace) -> int:
    from sorakit import world

    writable_output(args.preview, (".gif",))
    result = world.preview(args.preview, n=args.n, seed=args.seed, sound_phrase=args.sound_words)
    print(result or args.preview)
    return 0


# the eval suites whose work `accelerate launch` splits between processes
SPLIT_SUITES = ("quality", "physics", "events", "attention", "hidden", "remix")


def _one_process_unless_split(suite: str) -> None:
    """Refuse to run a suite N times over: under `accelerate launch`, only SPLIT_SUITES share their work."""
    if suite in SPLIT_SUITES:
        return
    from sorakit.distributed import process_state

    processes = process_state().num_processes
    if processes > 1:
        raise ValueError(f"eval {suite} runs in one process ({processes} were launched); "
                         f"accelerate launch splits only: {', '.join(SPLIT_SUITES)}")


def cmd_eval(args: argparse.Namespace) -> int:
    _one_process_unless_split(args.suite)
    if args.suite == "autoencoder":  # no pipeline: its own loader and table
        from sorakit.eval.autoencoder_cli import cmd_autoencoder

        return cmd_autoencoder(args)
    if args.suite == "events":  # its options and command live beside it
        from sorakit.eval.events_cli import cmd_events

        return cmd_events(args)
    if args.suite == "sound":  # the sound model on world clips (with --generated, on a video model's clips)
        from sorakit.eval.sound_cli import cmd_sound

        return cmd_sound(args)
    if args.suite == "remix":  # its options and command live beside it
        from sorakit.eval.remix_cli import cmd_remix

        return cmd_remix(args)
    from sorakit.eval import attention, hidden, physics, quality

    if args.suite == "quality":  # a dict of shares; JSON is its only form
        result = quality.evaluate_quality(_eval_pipe(args.model), n=args.n, steps=args.steps, guidance=args.guidance,
                                          batch_size=args.batch_size)
        text = None
    elif args.suite == "physics":
        result = physics.evaluate_physics(n=args.n, pipe=_eval_pipe(args.model), steps=args.steps)
        text = result.table() if hasattr(result, "table") else None
    elif args.suite == "attention":
        result = attention.localization(_eval_pipe(args.model), n=args.n, n_generated=args.generated,
                                        num_inference_steps=args.steps)
        text = attention.tables(result)
    else:
        result = hidden.run(_eval_pipe(args.model), n_clips=args.n)
        text = "\n\n".join(f"held-out R², ball {t}\n{result.table(t)}" for t in result.targets)
    from sorakit.distributed import process_state

    if process_state().is_main_process:  # under `accelerate launch`: one report, from the main process
        print(json.dumps(_to_jsonable(result), indent=2, default=str) if text is None or args.json else text)
    return 0


def _eval_pipe(model: str | None):
    """The pipeline to evaluate (default: the shipped model), its per-call progress bars off."""
    import sorakit
    from sorakit.distributed import process_state

    device = process_state().device  # under `accelerate launch`: this process's own GPU (or the CPU)
    pipe = sorakit.load(model, device=device) if model else sorakit.load(device=device)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def _add_sweep_parser(sub) -> None:  # its options live beside the sweep (sorakit/sweep/cli.py)
    from sorakit.sweep.cli import add_sweep_parser

    add_sweep_parser(sub)


def cmd_sweep(args: argparse.Namespace) -> int:
    from sorakit.sweep.cli import cmd_sweep as run

    return run(args)


def _add_verify_parser(sub) -> None:  # its options live beside provenance (sorakit/provenance/cli.py)
    from sorakit.provenance.cli import add_verify_parser

    add_verify_parser(sub)


def cmd_verify(args: argparse.Namespace) -> int:
    from sorakit.provenance.cli import cmd_verify as run

    return run(args)


def cmd_demo(args: argparse.Namespace) -> int:
    from sorakit import demo

    moderation = False if args.no_moderation else (args.policy or True)
    options = dict(host=args.host, port=args.port, share=args.share, auth=demo_auth(args.auth_file),
                   moderation=moderation)
    if (args.height is None) != (args.width is None):
        raise ValueError("--height and --width go together (the demo's clip size)")
    if args.model is not None:  # the default (the shipped model) is launch's own to load
        import sorakit

        options["pipe"] = sorakit.load(args.model)
    if args.height is not None:
        options["size"] = (args.height, args.width)
    demo.launch(**options)
    return 0


def cmd_lineage(args: argparse.Namespace) -> int:
    from sorakit import lineage

    print(lineage.read(args.clips, source="c2pa" if args.from_c2pa else "recipe").text())
    return 0


def cmd_train(argv: list[str]) -> int:
    from sorakit import training

    training.cli_main(argv)  # returns the run's summary dict; errors exit through argparse or raise
    return 0


COMMANDS = {"generate": cmd_generate, "lineage": cmd_lineage,
            "probe": cmd_probe, "world": cmd_world, "eval": cmd_eval, "demo": cmd_demo,
            "sweep": cmd_sweep, "verify": cmd_verify}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] == "train":
            return cmd_train(argv[1:])
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except (ValueError, OSError) as exc:  # bad input, a missing or unwritable file: one clear line, no traceback
        print(f"sorakit: error: {one_line(exc)}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith("sorakit."):
            raise  # a real missing dependency: keep the traceback
        print(f"sorakit: error: {exc.name} is not available in this install", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
