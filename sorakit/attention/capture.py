"""`attention.capture(pipe)`: record attention while sampling, then read word maps, query maps and
the frame-to-frame matrix at pixel resolution.

Aggregation (DAAM, Tang et al. 2023): a word's map sums its tokens' attention mass, averages the
chosen layers (heads are averaged while recording) and sums the chosen steps; min-max normalized
to [0, 1] over the whole clip so the heat can be compared across frames. Passing a few late layers
(`layers=[4, 5]`) gives the ConceptAttention-style selection. The defaults (`DEFAULT_LAYERS`,
`DEFAULT_STEPS`) are what localized best on the shipped model (docs/attention.md).
"""
from __future__ import annotations

import math
from contextlib import contextmanager

import numpy as np
import torch
import torch.nn.functional as F

from .budget import DEFAULT_BUDGET
from .recorder import Recorder, check_indices
from .words import normalize

# Chosen by measurement on the shipped model (sorakit/eval/attention.py, `sorakit eval attention`;
# docs/attention.md), as fractions so they carry over to other depths and step counts: the middle
# third of the blocks and the last third of the denoising steps.
DEFAULT_LAYERS = (1 / 3, 2 / 3)
DEFAULT_STEPS = (2 / 3, 1.0)


def fraction_range(total: int, fraction: tuple[float, float]) -> list[int]:
    """Indices in [total * lo, total * hi), never empty."""
    lo = min(int(math.floor(total * fraction[0] + 1e-9)), total - 1)
    hi = max(int(math.ceil(total * fraction[1] - 1e-9)), lo + 1)
    return list(range(lo, hi))


class Capture(Recorder):
    """What `capture` yields. Maps are available once the pipeline has run inside the `with` block."""

    # --- bookkeeping ------------------------------------------------------------------------------
    def _check_ready(self):
        if not self.records:
            raise RuntimeError("nothing captured yet: run the pipeline with a text prompt (not prompt_embeds) "
                               "inside `with attention.capture(pipe) as cap:` (or the steps= you asked for were "
                               "never reached)")

    @property
    def words(self) -> list[str]:
        """The prompt's words (first occurrence order; sub-words merged, special tokens dropped)."""
        return self.words_for(0)

    def words_for(self, index: int = 0) -> list[str]:
        self._check_ready()
        self._check_index(index)
        return list(dict.fromkeys(w for w, _ in self.words_of(index)))

    @property
    def nbytes(self) -> int:
        """Bytes held by the recorded tensors."""
        return sum(t.numel() * t.element_size() for rec in self.records.values() for t in rec.values())

    @property
    def estimated_bytes(self) -> int | None:
        """What the capture planned to store (from the config and the call's size, before sampling)."""
        return None if self.plan is None else self.plan.nbytes

    def _check_index(self, index):
        if not isinstance(index, int) or not 0 <= index < len(self.row_prompts):
            raise ValueError(f"index must be in [0, {len(self.row_prompts)}) (one per generated video), got {index!r}")

    def _layers(self, layers, kind: str) -> list[int]:
        have = sorted({layer for rec in self.records.values() for k, layer in rec if k == kind})
        if not have:
            what = {"rows": "pass query=(frame, y, x) to attention.capture",
                    "temporal": "pass temporal=True to attention.capture",
                    "text_rows": f"{self.family.name} has no text queries (text->video rows exist only for "
                                 "joint-attention families: CogVideoX, HunyuanVideo, Mochi)"}.get(kind, "")
            raise ValueError(f"no {kind} attention was recorded: {what}")
        if layers is None:
            if kind not in ("cross", "mass", "text_rows"):
                return have
            return [layer for layer in fraction_range(self.num_layers, DEFAULT_LAYERS) if layer in have] or have
        chosen = check_indices(layers, self.num_layers, "layers")
        missing = [layer for layer in chosen if layer not in have]
        if missing:
            raise ValueError(f"layers {missing} were not captured; captured layers: {have}")
        return chosen

    def _steps(self, steps) -> list[int]:
        have = sorted(self.records)
        if steps is None:
            return [s for s in fraction_range(self.num_steps, DEFAULT_STEPS) if s in have] or have
        if isinstance(steps, slice):
            steps = list(range(self.num_steps))[steps]
        chosen = check_indices(steps, self.num_steps, "steps")
        missing = [s for s in chosen if s not in have]
        if missing:
            raise ValueError(f"steps {missing} were not recorded; recorded steps: {have}")
        return chosen

    def _aggregate(self, kind, layers, steps, pick) -> torch.Tensor:
        """Sum over steps of the mean over layers of pick(record tensor)."""
        self._check_ready()
        layers, steps = self._layers(layers, kind), self._steps(steps)
        return sum(sum(pick(self.records[s][(kind, layer)]) for layer in layers) / len(layers) for s in steps)

    # --- maps -------------------------------------------------------------------------------------
    def word_map(self, word: str, layers=None, steps=None, index: int = 0) -> np.ndarray:
        """(F, H, W) float32 in [0, 1]: where `word` draws attention in video `index`, at pixel resolution."""
        self._check_ready()
        self._check_index(index)
        positions = self._positions(word, index)
        heat = self._aggregate("cross", layers, steps, lambda r: r[index, :, positions].sum(-1))
        return self._to_pixels(heat, kept=True)

    def _positions(self, word: str, index: int) -> list[int]:
        key = normalize(str(word))
        positions = [p for w, pos in self.words_of(index) if w == key for p in pos]
        if not positions:
            raise ValueError(f"{word!r} is not a word of the prompt; words: {self.words_for(index)}")
        return positions

    def text_to_video_map(self, word: str, layers=None, steps=None, index: int = 0) -> np.ndarray:
        """(F, H, W) in [0, 1]: where `word`'s own queries look in the video (joint-attention families)."""
        self._check_ready()
        self._check_index(index)
        positions = self._positions(word, index)
        heat = self._aggregate("text_rows", layers, steps, lambda r: r[index, positions].sum(0))
        return self._to_pixels(heat, kept=True)

    def text_mass(self, layers=None, steps=None, index: int = 0) -> float:
        """Mean share of the video queries' attention that went to the prompt's real text tokens (the rest
        went to video tokens in joint attention, or to padding in cross-attention), averaged over layers
        and steps; the word maps are renormalized over those tokens."""
        self._check_ready()
        self._check_index(index)
        total = self._aggregate("mass", layers, steps, lambda r: r[index].mean())
        return float(total) / len(self._steps(steps))

    def token_maps(self, layers=None, steps=None, index: int = 0) -> dict[str, np.ndarray]:
        """{word: map} for every word of the prompt."""
        return {w: self.word_map(w, layers, steps, index) for w in self.words_for(index)}

    def query_map(self, frame: int, y: int, x: int, layers=None, steps=None, index: int = 0) -> np.ndarray:
        """(F, H, W) in [0, 1]: where the patch holding pixel (y, x) of `frame` attends, over all frames.

        Only patches named with `query=` at capture time were computed (never the full N x N).
        """
        self._check_ready()
        self._check_index(index)
        token = self.token_of(frame, y, x)
        if token not in self.query_tokens:
            raise ValueError(f"the patch of (frame={frame}, y={y}, x={x}) was not captured; captured query "
                             f"points: {self.points}. Pass query=(frame, y, x) to attention.capture")
        row = self.query_tokens.index(token)
        return self._to_pixels(self._aggregate("rows", layers, steps, lambda r: r[index, row]))

    def temporal_matrix(self, layers=None, steps=None, index: int = 0) -> np.ndarray:
        """(F', F') float32: row i = share of attention that tokens of token-frame i give each key frame.

        Rows sum to 1 (averaged over steps, layers, heads and the frame's query tokens).
        """
        self._check_ready()
        self._check_index(index)
        total = self._aggregate("temporal", layers, steps, lambda r: r[index])
        return (total / len(self._steps(steps))).numpy().astype(np.float32)

    def _to_pixels(self, heat: torch.Tensor, kept: bool = False) -> np.ndarray:
        """Token values -> (F, H, W) at pixel resolution: frames by the VAE's causal mapping, space bilinear.
        kept: values of the subsampled tokens (stride=) rather than of every token."""
        frames, h, w = self.kept_grid if kept else self.grid
        step, space = self.stride if kept else (1, 1)
        F_, H, W = self.pixel_shape
        volume = heat.float().reshape(frames, 1, h, w)
        volume = volume[[min(self.token_frame(f) // step, frames - 1) for f in range(F_)]]
        if space == 1:
            up = F.interpolate(volume, size=(H, W), mode="bilinear", align_corners=False)[:, 0]
        else:
            up = _strided_to_pixels(volume, self.grid[1:], space, (H, W))
        lo, hi = up.min(), up.max()
        up = (up - lo) / (hi - lo) if hi > lo else torch.zeros_like(up)
        return up.numpy().astype(np.float32)


def _strided_to_pixels(volume: torch.Tensor, grid: tuple[int, int], stride: int, size: tuple[int, int]) -> torch.Tensor:
    """(F, 1, h, w) values of every stride-th token of a (rows, cols) token grid -> (F, H, W), bilinear between
    the kept tokens' own centres (token k*stride sits at pixel (k*stride + 0.5) * token side), clamped at the
    edges. Spreading the kept grid over the frame instead would shift the map by (stride - 1) / 2 tokens:
    8 pixels of a 64-pixel frame with 16-pixel tokens at stride 2."""
    def kept_coordinate(pixels: int, tokens: int, kept: int) -> torch.Tensor:
        token = (torch.arange(pixels, dtype=torch.float32) + 0.5) * tokens / pixels - 0.5  # in token centres
        return 2 * (token / stride) / (kept - 1) - 1 if kept > 1 else torch.zeros(pixels)  # grid_sample's [-1, 1]

    (H, W), (rows, cols) = size, grid
    y = kept_coordinate(H, rows, volume.shape[2])
    x = kept_coordinate(W, cols, volume.shape[3])
    where = torch.stack(torch.meshgrid(x, y, indexing="xy"), -1).expand(len(volume), H, W, 2)
    return F.grid_sample(volume, where, mode="bilinear", padding_mode="border", align_corners=True)[:, 0]


@contextmanager
def capture(pipe, layers=None, steps=None, heads=None, query=None, temporal: bool = False, stride=1,
            budget=DEFAULT_BUDGET):
    """Record attention of a supported pipeline while it samples; restores its processors on exit.

    Families: Wan 2.1/2.2 (both transformers), WanVACE, SkyReels-V2, LTX-Video (cross-attention);
    CogVideoX, HunyuanVideo, Mochi (joint attention: word maps renormalized over the real text tokens,
    `text_mass()` says how much went to text, `text_to_video_map()` reads the text queries' rows).
    layers: block indices to record (default all; HunyuanVideo counts dual-stream then single-stream
    blocks); steps: denoising step indices to record (default all); heads: heads to average (default
    all); query: (frame, y, x) pixel or a list of them whose spacetime self-attention rows are recorded
    (for `query_map`); temporal: also record the frame-to-frame matrix; stride: keep word maps of every
    stride-th video token in space, or (frames, space); budget: refuse (ValueError, before the first
    step's attention) when the planned storage exceeds this many bytes (None: no limit). Each pipeline
    call inside the block starts a new recording; the maps describe the last one.
    """
    cap = Capture(pipe, layers=layers, steps=steps, heads=heads, query=query, temporal=temporal, stride=stride,
                  budget=budget)
    cap.install()
    try:
        yield cap
    finally:
        cap.remove()
