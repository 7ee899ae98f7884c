"""The invisible mark: a 32-bit clip id hidden in every frame with `invisible-watermark` (DWT-DCT-SVD).

It survives what strips metadata (re-encoding, remuxing, screen-grab-free re-uploads), so a clip that
lost its C2PA manifest can still be recognised. The payload is 48 bits: the 32-bit id (the first 8 hex
digits of the clip's recipe id, which the manifest records) and a 16-bit check (sha256 of the id), so
`read_invisible_mark` can tell a marked clip from an unmarked one instead of reading noise as an id.
Each frame carries the whole payload (repeated over its 8x8 blocks, in the chroma channel); reading
votes bit by bit across frames. The library needs frames of at least 256x256, which the export's
upscale gives. Measured robustness (bit accuracy after H.264 at several CRFs): docs/provenance.md.

The library is an optional extra (`pip install "sorakit[provenance]"`); without it clips are exported
without this mark and the manifest says so.
"""
from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass

import numpy as np

__all__ = ["InvisibleMark", "MarkedFrames", "available", "embed_invisible_mark", "payload_bits", "read_invisible_mark"]

METHOD = "dwtDctSvd"  # of the library's methods, the one that survived CRF 28 (docs/provenance.md)
# Quantisation step on the chroma (U) channel. The library's default, 36, shifted a flat grey floor far
# enough for the probes' colour explanation to see a hoop in it after export; 28 does not and still
# survives CRF 28 (docs/provenance.md has both measured).
STRENGTH = 28
_SCALES = [0, STRENGTH, 0]  # Y, U (V is never used by the library)
ID_BITS, CHECK_BITS = 32, 16
MIN_PIXELS = 256 * 256  # the library refuses smaller frames
READ_FRAMES = 16  # frames read back and voted over, spread over the clip


def available() -> bool:
    """Whether the invisible-watermark library is installed."""
    return importlib.util.find_spec("imwatermark") is not None


def _check_id(mark_id: str) -> bytes:
    try:
        raw = bytes.fromhex(mark_id)
    except (TypeError, ValueError):
        raw = b""
    if len(raw) * 8 != ID_BITS:
        raise ValueError(f"a mark id is {ID_BITS // 4} hex digits; got {mark_id!r}")
    return raw


def payload_bits(mark_id: str) -> np.ndarray:
    """The 48 bits a clip carries: the id's 32 bits, then the first 16 bits of its sha256."""
    raw = _check_id(mark_id)
    check = hashlib.sha256(raw).digest()[: CHECK_BITS // 8]
    return np.unpackbits(np.frombuffer(raw + check, np.uint8)).astype(np.uint8)


def _bgr(frame: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(frame[..., ::-1])  # the library works on OpenCV's BGR order


def _dct_matrix(n: int) -> np.ndarray:
    """C with cv2.dct(block) == C @ block @ C.T for an n x n float block (the orthonormal DCT-II cv2 computes)."""
    import cv2

    return cv2.dct(np.eye(n), flags=cv2.DCT_ROWS).T


def _tiles(frame: np.ndarray, block: int) -> tuple[np.ndarray, np.ndarray]:
    """(the frame's whole-block area (a view), its block x block tiles in row-major order (n, block, block))."""
    rows, cols = frame.shape[0] // block, frame.shape[1] // block
    area = frame[: rows * block, : cols * block]
    return area, area.reshape(rows, block, cols, block).swapaxes(1, 2).reshape(-1, block, block)


def _diffuse_blocks(frame: np.ndarray, scale: float, bits: list[int], block: int) -> None:
    """The library's `EmbedDwtDctSvd.encode_frame`, in place, for all blocks in one batched computation: block k
    (row-major) carries bit k mod len(bits) as the top singular value of its DCT, quantised to
    (s // scale + 0.25 + 0.5 * bit) * scale. The library loops over the blocks in Python (4096 SVDs per 256x256
    frame, most of an export's time); this gives the same output bytes several times faster."""
    area, tiles = _tiles(frame, block)
    dct = _dct_matrix(block)
    u, s, vt = np.linalg.svd(dct @ tiles @ dct.T)
    wanted = np.asarray(bits, np.float64)[np.arange(len(tiles)) % len(bits)]
    s[:, 0] = (s[:, 0] // scale + 0.25 + 0.5 * wanted) * scale
    tiles = dct.T @ (u @ (s[..., None] * vt)) @ dct
    rows, cols = area.shape[0] // block, area.shape[1] // block
    area[...] = tiles.reshape(rows, cols, block, block).swapaxes(1, 2).reshape(area.shape)


def _score_blocks(frame: np.ndarray, scale: float, scores: list[list], block: int) -> list[list]:
    """The library's `EmbedDwtDctSvd.decode_frame` in one batched computation: block k's vote, whether its DCT's
    top singular value sits in the upper half of its quantisation step, is added to scores[k mod len(scores)]."""
    _, tiles = _tiles(frame, block)
    dct = _dct_matrix(block)
    _, s, _ = np.linalg.svd(dct @ tiles @ dct.T)  # full SVD, as the library's: the same singular values
    votes = (s[:, 0] % scale > scale * 0.5).astype(int)
    for k, bit_scores in enumerate(scores):
        bit_scores.extend(votes[k::len(scores)].tolist())
    return scores


def _embedder(bits: list[int] | None = None, n_bits: int | None = None):
    """The library's DWT-DCT-SVD embedder, marking `bits` or reading `n_bits`, its per-block loops replaced by
    `_diffuse_blocks` and `_score_blocks`."""
    from imwatermark.dwtDctSvd import EmbedDwtDctSvd

    bits = list(bits or [])
    embed = EmbedDwtDctSvd(bits, wmLen=n_bits or len(bits), scales=_SCALES)
    embed.encode_frame = lambda frame, scale: _diffuse_blocks(frame, scale, bits, embed._block)
    embed.decode_frame = lambda frame, scale, scores: _score_blocks(frame, scale, scores, embed._block)
    return embed


class MarkedFrames:
    """uint8 frames (F, H, W, 3) with `mark_id` (8 hex digits) hidden in each, marked one at a time as
    they are iterated: an encoder starts writing at once and memory holds one marked frame."""

    def __init__(self, frames: np.ndarray, mark_id: str):
        _, height, width, _ = frames.shape
        if height * width < MIN_PIXELS:
            raise ValueError(f"the invisible mark needs frames of at least 256x256 pixels; got {width}x{height}")
        self.frames, self.shape, self.dtype = frames, frames.shape, frames.dtype
        self._embed = _embedder(payload_bits(mark_id).tolist())

    def __len__(self) -> int:
        return len(self.frames)

    def __iter__(self):
        import cv2

        for frame in self.frames:
            bgr = _bgr(frame)
            marked = self._embed.encode(bgr).astype(np.int16)
            # The library converts to YUV and back in uint8, which clips saturated colours (pure red loses
            # 34 levels) in every pixel, marked or not. Keep only what the mark changed: its output minus
            # the same round trip unmarked, added to the frame as it was.
            plain = cv2.cvtColor(cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV), cv2.COLOR_YUV2BGR).astype(np.int16)
            out = np.clip(bgr.astype(np.int16) + marked - plain, 0, 255).astype(np.uint8)
            yield np.ascontiguousarray(out[..., ::-1])


def embed_invisible_mark(frames: np.ndarray, mark_id: str) -> np.ndarray:
    """A copy of uint8 frames (F, H, W, 3) with `mark_id` (8 hex digits) hidden in each frame."""
    return np.stack(list(MarkedFrames(frames, mark_id)))


@dataclass(frozen=True)
class InvisibleMark:
    """What reading found: the id (None when the check bits do not match: no mark, or a broken one),
    the voted payload, and for each bit the share of frames that agreed with the vote."""

    mark_id: str | None
    bits: np.ndarray
    agreement: float  # mean over bits of the share of frames voting with the majority (0.5: noise, 1: unanimous)
    frames_read: int

    @property
    def found(self) -> bool:
        return self.mark_id is not None

    def bit_accuracy(self, mark_id: str) -> float:
        """The share of the 48 payload bits read correctly, against the id the clip should carry."""
        return float((self.bits == payload_bits(mark_id)).mean())

    def to_dict(self) -> dict:
        return {"found": self.found, "id": self.mark_id, "agreement": round(self.agreement, 3),
                "frames_read": self.frames_read}


def read_invisible_mark(frames: np.ndarray) -> InvisibleMark:
    """Read the mark from uint8 frames (F, H, W, 3) at the file's stored size (not downscaled)."""
    _, height, width, _ = frames.shape
    if height * width < MIN_PIXELS:
        raise ValueError(f"the invisible mark is read from frames of at least 256x256 pixels; got {width}x{height}")
    n_bits = ID_BITS + CHECK_BITS
    reader = _embedder(n_bits=n_bits)
    picks = np.unique(np.linspace(0, len(frames) - 1, min(READ_FRAMES, len(frames))).round().astype(int))
    votes = np.stack([np.asarray(reader.decode(_bgr(frames[i])), np.uint8) for i in picks])
    share = votes.mean(axis=0)
    bits = (share > 0.5).astype(np.uint8)
    agreement = float(np.maximum(share, 1 - share).mean())
    packed = np.packbits(bits).tobytes()
    raw, check = packed[: ID_BITS // 8], packed[ID_BITS // 8:]
    found = hashlib.sha256(raw).digest()[: CHECK_BITS // 8] == check
    return InvisibleMark(raw.hex() if found else None, bits, agreement, len(picks))
