"""What every `sorakit` command line shares: one-line errors and argument types with their ranges.

A bad argument fails while parsing, before any model loads or any clip is sampled, as one line on
stderr with exit status 2 (argparse's own error prints its usage first: several lines).
"""
from __future__ import annotations

import argparse
import math
import os
from pathlib import Path
from typing import Callable

from .limits import LIMITS


class OneLineParser(argparse.ArgumentParser):
    """argparse with one-line errors (`prog: error: message`, exit 2); subcommands inherit it."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {one_line(message)}\n")


def one_line(text: object, limit: int = 500) -> str:
    """A message on one line (ffmpeg and friends write several), cut at `limit` characters."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def whole(lo: int, hi: int) -> Callable[[str], int]:
    """An argparse type: a whole number from lo to hi."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"must be a whole number from {lo} to {hi}; got {text!r}")
        return value
    parse.__name__ = "whole number"
    return parse


def number(lo: float, hi: float) -> Callable[[str], float]:
    """An argparse type: a finite number from lo to hi."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"must be a number from {lo:g} to {hi:g}; got {text!r}")
        return value
    parse.__name__ = "number"
    return parse


port = whole(1, 65535)
steps = whole(*LIMITS.steps)
guidance = number(*LIMITS.guidance)
side = whole(*LIMITS.side)
frames = whole(*LIMITS.frames)
count = whole(1, 100_000)  # clips in an evaluation: hours, but bounded


def writable_output(path: str | os.PathLike, suffixes: tuple[str, ...]) -> Path:
    """`path` if a file of one of `suffixes` can be written there (its folder may not exist yet).

    Checked before any work, so a typo in --out does not cost a sampled clip.
    """
    path = Path(path)
    if path.suffix.lower() not in suffixes:
        raise ValueError(f"the output must end in {' or '.join(suffixes)}; got {path.name!r}")
    if path.is_dir():
        raise ValueError(f"{path} is a folder; give a file name ending in {' or '.join(suffixes)}")
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise ValueError(f"cannot write {path}: {folder} is not a writable folder")
    if path.exists() and not os.access(path, os.W_OK):
        raise ValueError(f"cannot write {path}: the file is read-only")
    return path
