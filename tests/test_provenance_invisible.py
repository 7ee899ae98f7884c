"""The invisible mark's batched block loops (sorakit.provenance.invisible) write the bytes the
invisible-watermark library's own encoder writes, and read the votes its decoder reads, on clip-like and
noise frames of any size."""
from __future__ import annotations

import cv2
import numpy as np
from imwatermark import WatermarkDecoder, WatermarkEncoder

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


def test_batched_reading_votes_as_the_library_does():
    from imwatermark.dwtDctSvd import EmbedDwtDctSvd

    n_bits = invisible.ID_BITS + invisible.CHECK_BITS
    band = np.random.default_rng(1).uniform(0, 255, (130, 166))  # a DWT band of an unmarked frame: votes vary
    library = EmbedDwtDctSvd([], wmLen=n_bits).decode_frame(band, 28, [[] for _ in range(n_bits)])
    batched = invisible._embedder(n_bits=n_bits).decode_frame(band, 28, [[] for _ in range(n_bits)])
    assert batched == library and 0.3 < np.mean(sum(library, [])) < 0.7  # every block's vote, in order

    clip = (world.sample(5).video[::5] * 255).round().astype(np.uint8)
    marked = invisible.embed_invisible_mark(np.repeat(np.repeat(clip, 8, axis=1), 8, axis=2), MARK)
    decoder = WatermarkDecoder("bits", n_bits)
    expected = [decoder.decode(invisible._bgr(f), invisible.METHOD, scales=invisible._SCALES) for f in marked]
    read = invisible.read_invisible_mark(marked)
    assert np.array_equal(read.bits, np.mean(expected, axis=0) > 0.5) and read.mark_id == MARK
