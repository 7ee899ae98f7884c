"""The invisible mark's batched block loop (sorakit.provenance.invisible) writes the bytes the
invisible-watermark library's own encoder writes, on clip-like and noise frames of any size."""
from __future__ import annotations

import cv2
import numpy as np
from imwatermark import WatermarkEncoder

from sorakit import world
from sorakit.provenance import invisible

MARK = "89abcdef"


def _library_marked(frames: np.ndarray) -> np.ndarray:
    """What MarkedFrames gives when the library's WatermarkEncoder marks each frame."""
    encoder = WatermarkEncoder()
    encoder.set_watermark("bits", invisible.payload_bits(MARK).tolist())
    out = []
    for frame in frames:
        bgr = invisible._bgr(frame)
        marked = encoder.encode(bgr, invisible.METHOD, scales=invisible._SCALES).astype(np.int16)
        plain = cv2.cvtColor(cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV), cv2.COLOR_YUV2BGR).astype(np.int16)
        out.append(np.clip(bgr.astype(np.int16) + marked - plain, 0, 255).astype(np.uint8)[..., ::-1])
    return np.stack(out)


def test_batched_mark_is_byte_for_byte_the_librarys():
    clip = (world.sample(3).video[::8] * 255).round().astype(np.uint8)
    upscaled = np.repeat(np.repeat(clip, 8, axis=1), 8, axis=2)  # 256x256, as an export upscales
    noise = np.random.default_rng(0).integers(0, 256, (1, 262, 334, 3), dtype=np.uint8)  # not a multiple of 4
    for frames in (upscaled, noise):
        marked = invisible.embed_invisible_mark(frames, MARK)
        assert np.array_equal(marked, _library_marked(frames))
        assert not np.array_equal(marked, frames)  # the mark changed pixels
    assert invisible.read_invisible_mark(invisible.embed_invisible_mark(upscaled, MARK)).mark_id == MARK
