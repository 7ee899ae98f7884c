"""The `sorakit` command. Each subcommand imports its module lazily and calls one function.

Functions this file calls in other modules (their contract with the CLI):
  generate  sorakit.load(model_or_None) -> pipe;
            pipe(prompt, generator=..., num_inference_steps=..., guidance_scale=...,
                 output_type="np").frames[0] -> (F, H, W, 3) float array;
            sorakit.loading.model_hash(pipe) names the weights in the clip's metadata.
  probe     sorakit.probes.run(video, prompt=str|None, fps=float|None) -> report with .to_dict() (.summary() if any)
  train     sorakit.training.cli_main(argv: list[str]) -> dict (parses its own options)
  world     sorakit.world.preview(out_path, n=int, seed=int) -> path | None
  eval      physics: sorakit.probes.evaluate_physics(n=int, pipe=pipe|None, steps=int) -> object with .to_dict() (.table() if any)
            quality: sorakit.training.monitor.evaluate_quality(pipe, n=int, steps=int, guidance=float) -> dict (printed as JSON)
  demo      sorakit.demo.launch(host=str, port=int|None, share=bool, auth=(user, pass)|None)
Bad input (ValueError, missing files) prints one line to stderr and exits 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Sequence

from . import __version__


def _auth(text: str) -> tuple[str, str]:
    user, sep, password = text.partition(":")
    if not sep or not user or not password:
        raise argparse.ArgumentTypeError("expected USER:PASSWORD")
    return user, password


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sorakit", description="Text-to-video spacetime diffusion toolkit.")
    parser.add_argument("--version", action="version", version=f"sorakit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    gen = sub.add_parser("generate", help="generate a clip from a prompt and export it")
    gen.add_argument("prompt")
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--steps", type=int, default=20, help="number of inference steps")
    gen.add_argument("--guidance", type=float, default=4.0, help="classifier-free guidance scale")
    gen.add_argument("--out", default="clip.mp4", help="output .mp4 or .gif")
    gen.add_argument("--fps", type=float, default=8)
    gen.add_argument("--model", default=None, help="model path or id (default: the shipped model)")

    probe = sub.add_parser("probe", help="run the physics probes on a clip")
    probe.add_argument("clip")
    probe.add_argument("--prompt", default=None, help="default: the prompt stored in the clip")
    probe.add_argument("--json", action="store_true", help="print the report as JSON")

    # Options are parsed by sorakit.training itself; main() forwards everything after `train`.
    sub.add_parser("train", help="train the model on world clips (see `sorakit train --help`)", add_help=False)

    world = sub.add_parser("world", help="sample clips from the physics world")
    world.add_argument("--preview", required=True, metavar="OUT", help="output .gif/.mp4 contact sheet")
    world.add_argument("--n", type=int, default=16, help="number of clips")
    world.add_argument("--seed", type=int, default=0)

    ev = sub.add_parser("eval", help="evaluate the model")
    ev_sub = ev.add_subparsers(dest="suite", metavar="SUITE", required=True)
    phys = ev_sub.add_parser("physics", help="physics-consistency evaluation against the world")
    phys.add_argument("--n", type=int, default=32, help="held-out scenes, split over id/ood/combinatorial")
    phys.add_argument("--steps", type=int, default=20, help="number of inference steps")
    phys.add_argument("--model", default=None, help="model path or id (default: the shipped model)")
    phys.add_argument("--json", action="store_true", help="print every number as JSON instead of the table")
    qual = ev_sub.add_parser("quality", help="colour, persistence and direction on clips from held-out captions")
    qual.add_argument("--n", type=int, default=64, help="number of generated clips")
    qual.add_argument("--steps", type=int, default=20, help="number of inference steps")
    qual.add_argument("--guidance", type=float, default=4.0, help="classifier-free guidance scale")
    qual.add_argument("--model", default=None, help="model path or id (default: the shipped model)")

    demo = sub.add_parser("demo", help="start the Gradio demo")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=None)
    demo.add_argument("--share", action="store_true", help="create a public share link")
    demo.add_argument("--auth", type=_auth, default=None, metavar="USER:PASS")
    return parser


def _to_jsonable(obj: Any) -> Any:
    return obj.to_dict() if hasattr(obj, "to_dict") else obj


def cmd_generate(args: argparse.Namespace) -> int:
    import torch

    import sorakit
    from sorakit.loading import model_hash

    pipe = sorakit.load(args.model) if args.model else sorakit.load()
    out = pipe(args.prompt, generator=torch.Generator().manual_seed(args.seed),
               num_inference_steps=args.steps, guidance_scale=args.guidance, output_type="np")
    video = out.frames[0]
    frames, height, width = video.shape[:3]
    metadata = {
        "prompt": args.prompt, "seed": args.seed, "steps": args.steps, "guidance": args.guidance,
        "model": args.model or "sorakit-shipped", "model_hash": model_hash(pipe),
        "frames": frames, "height": height, "width": width, "fps": args.fps,
        "sorakit_version": __version__,
    }
    path = sorakit.export(video, args.out, fps=args.fps, metadata=metadata)
    print(path)
    return 0


def cmd_probe(args: argparse.Namespace) -> int:
    from sorakit import media

    meta = media.read_metadata(args.clip)
    # Exports are upscaled for viewing; probe at the model's resolution when the clip says it.
    size = (meta["height"], meta["width"]) if "height" in meta and "width" in meta else None
    video = media.read_video(args.clip, size=size)
    from sorakit import probes

    report = probes.run(video, prompt=args.prompt or meta.get("prompt"), fps=meta.get("fps"))
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

    result = world.preview(args.preview, n=args.n, seed=args.seed)
    print(result or args.preview)
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    import sorakit
    from sorakit import probes

    if args.suite == "quality":
        from sorakit.training.monitor import evaluate_quality

        pipe = sorakit.load(args.model) if args.model else sorakit.load()
        pipe.set_progress_bar_config(disable=True)
        print(json.dumps(evaluate_quality(pipe, n=args.n, steps=args.steps, guidance=args.guidance), indent=1))
        return 0
    pipe = sorakit.load(args.model) if args.model else None
    result = probes.evaluate_physics(n=args.n, pipe=pipe, steps=args.steps)
    if args.json or not hasattr(result, "table"):
        print(json.dumps(_to_jsonable(result), indent=2, default=str))
    else:
        print(result.table())
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from sorakit import demo

    demo.launch(host=args.host, port=args.port, share=args.share, auth=args.auth)
    return 0


def cmd_train(argv: list[str]) -> int:
    from sorakit import training

    training.cli_main(argv)  # returns the run's summary dict; errors exit through argparse or raise
    return 0


COMMANDS = {"generate": cmd_generate, "probe": cmd_probe, "world": cmd_world, "eval": cmd_eval, "demo": cmd_demo}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] == "train":
            return cmd_train(argv[1:])
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except (ValueError, FileNotFoundError) as exc:  # bad input: one clear line, no traceback
        print(f"sorakit: error: {exc}", file=sys.stderr)
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
