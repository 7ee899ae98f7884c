"""Attention processors that record attention probabilities while leaving the output untouched.

Both subclass diffusers' `WanAttnProcessor` and call it for the real output, so a video sampled
under capture is bit-identical to one sampled without. Fused SDPA never exposes the probabilities,
so they are computed beside it from the very query and key tensors the parent made (handed over by
forward hooks on `attn.norm_q` / `attn.norm_k`; RoPE re-applied for self-attention), in query chunks,
heads averaged on the fly, for the conditional rows of the batch only. Nothing N x N is ever held:
cross-attention keeps (N, text tokens) per layer and step, self-attention keeps the requested query
rows (Q, N) and, if asked, the frame-to-frame matrix (F', F') (from a fused attention pass whose
values are one-hot key-frame indicators).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from diffusers.models.transformers.transformer_wan import WanAttnProcessor

CHUNK_ELEMENTS = 1 << 21  # scores held at once per chunk (8 MB in float32)


@dataclass
class CallContext:
    """What the processors need to know about the transformer call in flight."""

    rows: torch.Tensor  # batch rows of the conditional branch
    text_len: list[int]  # real (non-padding) text tokens of each conditional row
    grid: tuple[int, int, int]  # (F', H', W') tokens
    queries: torch.Tensor | None  # flat token indices whose self-attention rows are recorded
    temporal: bool
    record: dict = field(default_factory=dict)  # filled: ("cross"|"rows"|"temporal", layer) -> tensor


def rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
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


def _chunk_size(keys: int, heads: int) -> int:
    return max(1, CHUNK_ELEMENTS // max(1, keys * heads))


def split_heads(x: torch.Tensor, attn) -> torch.Tensor:
    return x.unflatten(-1, (attn.heads, -1))  # (B, S, h, d)


class _Recording(WanAttnProcessor):
    """Calls WanAttnProcessor for the output; hooks on attn.norm_q / attn.norm_k hand over the very
    query and key tensors it computed (normed, before RoPE), so nothing is projected twice."""

    def __init__(self, recorder, layer: int, original: WanAttnProcessor, heads: list[int] | None):
        super().__init__()
        self.recorder, self.layer, self.original, self.heads = recorder, layer, original, heads
        self.grabbed: dict[str, torch.Tensor] = {}
        # Keep whatever attention backend / parallel config the user set on the original.
        self._attention_backend = original._attention_backend
        self._parallel_config = original._parallel_config

    def hooks(self, attn) -> list:
        def grab(name):
            def hook(module, args, output):
                if self.recorder.active is not None:
                    self.grabbed[name] = output
            return hook
        return [attn.norm_q.register_forward_hook(grab("q")), attn.norm_k.register_forward_hook(grab("k"))]

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, rotary_emb=None):
        self.grabbed = {}
        out = super().__call__(attn, hidden_states, encoder_hidden_states, attention_mask, rotary_emb)
        ctx, grabbed, self.grabbed = self.recorder.active, self.grabbed, {}
        if ctx is not None and "q" in grabbed and "k" in grabbed:
            with torch.no_grad():
                q, k = grabbed["q"][ctx.rows], grabbed["k"][ctx.rows]
                self.record(attn, split_heads(q, attn), split_heads(k, attn), rotary_emb, ctx)
        return out


class CrossAttentionCapture(_Recording):
    """On attn2: records the text-attention distribution of every video token (padding excluded)."""

    def record(self, attn, q, k, rotary_emb, ctx):
        if self.heads is not None:
            q, k = q[:, :, self.heads], k[:, :, self.heads]
        width = max(ctx.text_len)
        out = torch.zeros(q.shape[0], q.shape[1], width)
        step = _chunk_size(k.shape[1], q.shape[2])
        for start in range(0, q.shape[1], step):
            p = softmax_chunk(q[:, start:start + step], k).mean(1)  # heads averaged: (B, c, T)
            for b, n in enumerate(ctx.text_len):  # padding excluded, the real tokens renormalized
                real = p[b, :, :n]
                out[b, start:start + step, :n] = real / real.sum(-1, keepdim=True)
        ctx.record[("cross", self.layer)] = out


class SelfAttentionCapture(_Recording):
    """On attn1: records the requested query rows (Q, N) and/or the frame-to-frame matrix (F', F')."""

    def record(self, attn, q, k, rotary_emb, ctx):
        cos, sin = rotary_emb
        k = rope(k, cos, sin)
        if self.heads is not None:
            q, k = q[:, :, self.heads], k[:, :, self.heads]
        if ctx.queries is not None:
            rows = rope(q[:, ctx.queries], cos[:, ctx.queries], sin[:, ctx.queries])
            ctx.record[("rows", self.layer)] = softmax_chunk(rows, k).mean(1).cpu()  # (B, Q, N)
        if ctx.temporal:
            ctx.record[("temporal", self.layer)] = self._temporal(rope(q, cos, sin), k, ctx.grid)

    @staticmethod
    def _temporal(q, k, grid) -> torch.Tensor:
        """Attention mass on each key frame = attention with one-hot key-frame indicators as values:
        exact, and the fused SDPA kernel never materializes the N x N scores. The CPU flash kernel
        wants values as wide as the head, so frames go in groups of head_dim, zero-padded."""
        frames, h, w = grid
        batch, _, heads, dim = q.shape
        q, k = q.float().transpose(1, 2), k.float().transpose(1, 2)  # (B, heads, N, d)
        key_frame = torch.arange(k.shape[2], device=q.device) // (h * w)
        mass = []
        for first in range(0, frames, dim):
            values = (key_frame[:, None] == torch.arange(first, first + dim, device=q.device)).float()
            values = values.expand(batch, heads, -1, -1).contiguous()  # (B, heads, N, d)
            mass.append(F.scaled_dot_product_attention(q, k, values)[..., : min(dim, frames - first)])
        mass = torch.cat(mass, -1).mean(1)  # heads averaged: (B, N, F')
        return mass.unflatten(1, (frames, h * w)).mean(2).cpu()  # averaged over each frame's queries
