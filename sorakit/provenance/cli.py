"""`sorakit verify CLIP [--trust ROOT.pem] [--json]`: exit 0 when the clip's manifest is valid, 1 when it
is not (or has none), 2 on bad input. Trust is reported, not required: an untrusted but valid clip exits 0."""
from __future__ import annotations

import argparse
import json

__all__ = ["add_verify_parser", "cmd_verify"]


def add_verify_parser(sub) -> None:
    ver = sub.add_parser("verify", help="check a clip's C2PA manifest, signature, trust and watermarks")
    ver.add_argument("clip", help="an .mp4 exported by sorakit (or any C2PA-signed mp4)")
    ver.add_argument("--trust", default=None, metavar="ROOT.pem",
                     help="PEM file of the root certificates to trust (default: this machine's development CA, "
                          "if it has one)")
    ver.add_argument("--json", action="store_true", help="print the full report as JSON")


def cmd_verify(args: argparse.Namespace) -> int:
    from .verify import verify

    report = verify(args.clip, trust=args.trust)
    print(json.dumps(report.to_dict(), indent=2, default=str) if args.json else report.summary())
    return 0 if report.valid else 1
