"""Attention processors that record attention probabilities while leaving the output untouched.

Both subclass diffusers' `WanAttnProcessor` and call it for the real output, so a video sampled
under capture is bit-identical to one sampled without. The probabilities are recomputed beside it
(fused SDPA never exposes them) from the same projections, norms and RoPE, in query chunks, heads
averaged on the fly, for the conditional rows of the batch only. Nothing N x N is ever held:
cross-attention keeps (N, text tokens) per layer and step, self-attention keeps the requested query
rows (Q, N) and, if asked, the frame-to-frame matrix (F', F').
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
from diffusers.models.transformers.transformer_wan import WanAttnProcessor

CHUNK_ELEMENTS = 1 << 21  # scores held at once per chunk (8 MB in float32)
TEXT_CONTEXT = 512  # Wan I2V: image tokens come first, the last 512 are text (as WanAttnProcessor assumes)


@dataclass
class CallContext:
    """What the processors need to know about the transformer call in flight."""

    rows: torch.Tensor  # batch rows of the conditional branch
    text_len: list[int]  # real (non-padding) text tokens of each conditional row
    grid: tuple[int, int, int]  # (F', H', W') tokens
    queries: torch.Tensor | None  # flat token indices whose self-attention rows are recorded
    temporal: bool
    record: dict = field(default_factory=dict)  # filled: ("cross"|"rows"|"temporal", layer) -> tensor


def _heads(x: torch.Tensor, attn, heads: list[int] | None) -> torch.Tensor:
    x = x.unflatten(-1, (attn.heads, -1))  # (B, S, h, d)
    return x if heads is None else x[:, :, heads]


def _rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Wan's interleaved rotary embedding (the closure inside WanAttnProcessor.__call__)."""
    x1, x2 = x.unflatten(-1, (-1, 2)).unbind(-1)
    cos, sin = cos[..., 0::2], sin[..., 1::2]
    out = torch.empty_like(x)
    out[..., 0::2] = x1 * cos - x2 * sin
    out[..., 1::2] = x1 * sin + x2 * cos
    return out.type_as(x)


def softmax_chunk(q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """q (B, c, h, d), k (B, S, h, d) -> per-head probabilities (B, h, c, S) in float32."""
    scores = torch.einsum("bchd,bshd->bhcs", q.float(), k.float()) * q.shape[-1] ** -0.5
    return scores.softmax(-1)


def _chunk_size(keys: int, heads: int, multiple: int = 1) -> int:
    size = max(1, CHUNK_ELEMENTS // max(1, keys * heads))
    return max(multiple, size // multiple * multiple)


def cross_qk(attn, hidden_states, encoder_hidden_states, heads=None):
    """Queries (B, N, h, d) and text keys (B, T, h, d) of cross-attention, normed as the model does."""
    if attn.add_k_proj is not None:  # I2V: the text part is attended separately from the image part
        encoder_hidden_states = encoder_hidden_states[:, encoder_hidden_states.shape[1] - TEXT_CONTEXT:]
    q = _heads(attn.norm_q(attn.to_q(hidden_states)), attn, heads)
    k = _heads(attn.norm_k(attn.to_k(encoder_hidden_states)), attn, heads)
    return q, k


def self_qk(attn, hidden_states, rotary_emb, heads=None, queries=None):
    """Queries (B, Q or N, h, d) and keys (B, N, h, d) of self-attention, normed and rotated."""
    cos, sin = rotary_emb
    q_in, q_cos, q_sin = hidden_states, cos, sin
    if queries is not None:
        q_in, q_cos, q_sin = hidden_states[:, queries], cos[:, queries], sin[:, queries]
    q = _rope(attn.norm_q(attn.to_q(q_in)).unflatten(-1, (attn.heads, -1)), q_cos, q_sin)
    k = _rope(attn.norm_k(attn.to_k(hidden_states)).unflatten(-1, (attn.heads, -1)), cos, sin)
    if heads is not None:
        q, k = q[:, :, heads], k[:, :, heads]
    return q, k


class _Recording(WanAttnProcessor):
    def __init__(self, recorder, layer: int, original: WanAttnProcessor, heads: list[int] | None):
        super().__init__()
        self.recorder, self.layer, self.original, self.heads = recorder, layer, original, heads
        # Keep whatever attention backend / parallel config the user set on the original.
        self._attention_backend = original._attention_backend
        self._parallel_config = original._parallel_config


class CrossAttentionCapture(_Recording):
    """On attn2: records the text-attention distribution of every video token (padding excluded)."""

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, rotary_emb=None):
        out = super().__call__(attn, hidden_states, encoder_hidden_states, attention_mask, rotary_emb)
        ctx = self.recorder.active
        if ctx is not None:
            with torch.no_grad():
                ctx.record[("cross", self.layer)] = self._probs(attn, hidden_states, encoder_hidden_states, ctx)
        return out

    def _probs(self, attn, hidden_states, encoder_hidden_states, ctx) -> torch.Tensor:
        q, k = cross_qk(attn, hidden_states[ctx.rows], encoder_hidden_states[ctx.rows], self.heads)
        width = max(ctx.text_len)
        out = torch.zeros(q.shape[0], q.shape[1], width)
        step = _chunk_size(k.shape[1], q.shape[2])
        for start in range(0, q.shape[1], step):
            p = softmax_chunk(q[:, start:start + step], k).mean(1)  # heads averaged: (B, c, T)
            for b, n in enumerate(ctx.text_len):  # padding excluded, the real tokens renormalized
                real = p[b, :, :n]
                out[b, start:start + step, :n] = real / real.sum(-1, keepdim=True)
        return out


class SelfAttentionCapture(_Recording):
    """On attn1: records the requested query rows (Q, N) and/or the frame-to-frame matrix (F', F')."""

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, rotary_emb=None):
        out = super().__call__(attn, hidden_states, encoder_hidden_states, attention_mask, rotary_emb)
        ctx = self.recorder.active
        if ctx is not None and (ctx.queries is not None or ctx.temporal):
            with torch.no_grad():
                self._record(attn, hidden_states[ctx.rows], rotary_emb, ctx)
        return out

    def _record(self, attn, hidden_states, rotary_emb, ctx):
        frames, h, w = ctx.grid
        if ctx.queries is not None:
            q, k = self_qk(attn, hidden_states, rotary_emb, self.heads, ctx.queries)
            ctx.record[("rows", self.layer)] = softmax_chunk(q, k).mean(1)  # (B, Q, N)
        if ctx.temporal:
            q, k = self_qk(attn, hidden_states, rotary_emb, self.heads)
            matrix = torch.zeros(q.shape[0], frames, frames)
            step = _chunk_size(k.shape[1], q.shape[2], multiple=h * w)  # whole query frames per chunk
            for start in range(0, q.shape[1], step):
                p = softmax_chunk(q[:, start:start + step], k).mean(1)  # (B, c, N)
                mass = p.unflatten(-1, (frames, h * w)).sum(-1)  # (B, c, F') mass on each key frame
                mass = mass.unflatten(1, (-1, h * w)).mean(2)  # (B, frames in chunk, F')
                f0 = start // (h * w)
                matrix[:, f0:f0 + mass.shape[1]] = mass
            ctx.record[("temporal", self.layer)] = matrix
