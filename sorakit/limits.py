"""The one set of input limits, defined once and read by the pipeline, widgets, CLI, demo and probes.

Each range protects something: memory and time on a 2-core CPU (frames, sizes, steps, tokens), a
seed that every generator accepts (torch.Generator.manual_seed takes up to 2**64 - 1; numpy up to
2**32 - 1, and a seed shown in a widget or typed in a form must round-trip through both), and a
shared demo that strangers can reach (prompt characters, image sides). The pipeline itself does
not limit prompt length: like diffusers' pipelines it truncates to the tokenizer's length with a
warning.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_FPS = 8.0  # the world's frame rate: a clip that does not say how fast it plays plays at this


@dataclass(frozen=True)
class Limits:
    prompt_chars: int = 1000  # demo, widgets, probes: a long paste is refused with its length, not queued
    seed: tuple[int, int] = (0, 2**32 - 1)
    steps: tuple[int, int] = (1, 1000)  # the pipeline (a Python caller can ask for many)
    demo_steps: tuple[int, int] = (1, 50)  # the shared demo and the widgets: one job must stay seconds
    guidance: tuple[float, float] = (0.0, 50.0)
    demo_guidance: tuple[float, float] = (0.0, 12.0)
    frames: tuple[int, int] = (2, 128)
    demo_frames: tuple[int, int] = (2, 32)
    side: tuple[int, int] = (8, 512)  # pixels, height and width
    # A clip's recorded frames and sides: real video models make e.g. 129 frames at 720x1280 (on a GPU).
    clip_frames: tuple[int, int] = (2, 1024)
    clip_side: tuple[int, int] = (8, 2048)
    fps: tuple[float, float] = (1.0, 120.0)
    video_tokens: int = 16384  # per clip; beyond this a CPU sample takes minutes and GBs
    videos_per_prompt: tuple[int, int] = (1, 64)
    sweep_cells: int = 1_000_000  # one sweep's grid: its cell list and table stay well under a GB
    image_side: tuple[int, int] = (16, 4096)  # an uploaded first frame, before resizing to the model's size
    image_aspect: float = 4 / 3  # longest / shortest side; the model's frames are square
    read_pixels: int = 2**24  # frames x height x width of a clip read from a file (float32 RGB: 200 MB)
    preview_clips: tuple[int, int] = (1, 64)  # clips in one `sorakit world --preview` grid
    storyboard_shots: tuple[int, int] = (1, 16)  # shots in one storyboard; its joined film obeys `frames`


LIMITS = Limits()


def text_error(name: str, text: str) -> str | None:
    """What is wrong with `text` as a prompt (or other text stored in a clip), or None.

    A lone surrogate (e.g. "\\ud800" from a broken JSON client) is not Unicode text: tokenizers raise
    a TypeError about their own types on it and it cannot be written to a file; a NUL byte cannot
    be passed to ffmpeg.
    """
    found = _NOT_TEXT.search(text)
    if found is None:
        return None
    ch = found.group()
    what = "a NUL character" if ch == "\x00" else f"a lone surrogate ({ch!r})"
    return f"{name} contains {what} at position {found.start()}: it is not valid text"


_NOT_TEXT = re.compile("[\ud800-\udfff\x00]")
