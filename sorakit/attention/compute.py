"""Attention probabilities from the query, key and mask an attention call received (intercept.py).

For each conditional batch row, in query chunks (nothing N x N is held), heads averaged on the fly:
  cross     (N', T) the video queries' softmax over all the keys the model used, text-key block kept and
            renormalized over the prompt's real tokens (the word -> video map); N' = the subsampled
            video tokens, T = real text tokens
  mass      (N',)   the share of each video query's attention that went to those real text tokens
  rows      (Q, N)  the named query tokens' attention over the video keys, renormalized to sum to 1
  temporal  (F', F') the share of frame i's queries' video attention that lands on each key frame (an
            exact fused pass whose values are one-hot key-frame indicators)
  text_rows (T, N') joint families: the real text tokens' attention over the video keys (renormalized)
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

CHUNK_ELEMENTS = 1 << 21  # scores held at once per chunk (8 MB in float32)


@dataclass
class CallContext:
    """What the recording needs to know about the transformer call in flight."""

    rows: list[int]  # batch rows of the conditional branch
    real: list[torch.Tensor]  # per conditional row: positions of its real text tokens in the model's text
    video: int  # video tokens N
    text: int  # text tokens L the transformer was given
    grid: tuple[int, int, int]  # (F', H', W') tokens
    sub: torch.Tensor  # video tokens whose word maps are kept (query subsampling)
    queries: torch.Tensor | None  # video tokens whose rows are kept
    temporal: bool
    heads: list[int] | None
    record: dict = field(default_factory=dict)  # filled: (kind, layer) -> tensor (rows, ...)


@dataclass
class Positions:
    """Token indices inside one attention call."""

    video_q: torch.Tensor
    video_k: torch.Tensor | None
    text_k: torch.Tensor | None
    text_q: torch.Tensor | None


def positions(layout: str, ctx: CallContext, i: int, q_len: int, k_len: int, device) -> Positions:
    n, text, real = ctx.video, ctx.text, ctx.real[i].to(device)
    video = torch.arange(n, device=device)
    if layout == "self":
        found, want = (q_len, k_len), (n, n)
        pos = Positions(video, video, None, None)
    elif layout == "cross":
        found, want = (q_len, k_len), (n, text)
        pos = Positions(video, None, real, None)
    elif layout == "text_first":
        found, want = (k_len,), (text + n,)
        pos = Positions(text + video, text + video, real, real)
    elif layout == "text_last":
        found, want = (k_len,), (n + text,)
        pos = Positions(video, video, n + real, n + real)
    else:  # per_row: the call holds only this row's real text tokens
        found, want = (k_len,), (n + len(real),)
        own = n + torch.arange(len(real), device=device)
        pos = Positions(video, video, own, own)
    if found != want:
        raise RuntimeError(f"attention.capture: a {layout} attention call has {found} tokens where {want} were "
                           "expected; this model version lays its tokens out differently")
    return pos


def _row(call, b: int, heads):
    """q (h, Sq, d), k (h, Sk, d), additive float bias (h|1, Sq|1, Sk) or None, for batch row b."""
    q, k = call.q[b], call.k[b]
    if k.shape[0] != q.shape[0]:  # grouped-query attention
        k = k.repeat_interleave(q.shape[0] // k.shape[0], 0)
    bias = call.mask
    if bias is not None:
        while bias.dim() < 4:
            bias = bias[None]
        bias = bias[b if bias.shape[0] > 1 else 0]
        if bias.dtype == torch.bool:
            bias = torch.zeros(bias.shape, device=bias.device).masked_fill(~bias, float("-inf"))
        bias = bias.float()
    if heads is not None:
        q, k = q[heads], k[heads]
        bias = bias[heads] if bias is not None and bias.shape[0] > 1 else bias
    return q.float(), k.float(), bias


def probabilities(q, k, bias, scale: float, queries: torch.Tensor):
    """Yields (start, (c, Sk) head-averaged softmax) over chunks of `queries`."""
    step = max(1, CHUNK_ELEMENTS // max(1, k.shape[1] * k.shape[0]))
    for start in range(0, len(queries), step):
        chosen = queries[start:start + step]
        scores = torch.einsum("hcd,hsd->hcs", q[:, chosen], k) * scale
        if bias is not None:
            scores = scores + (bias[:, chosen] if bias.shape[1] > 1 else bias)
        yield start, scores.softmax(-1).mean(0)


def _share(q, k, bias, scale, queries, keys) -> torch.Tensor:
    """(len(queries), len(keys)): attention on `keys`, renormalized to sum to 1 over them."""
    out = torch.empty(len(queries), len(keys))
    for start, p in probabilities(q, k, bias, scale, queries):
        part = p[:, keys]
        out[start:start + len(part)] = (part / part.sum(-1, keepdim=True)).cpu()
    return out


def _words(q, k, bias, scale, queries, text_keys) -> tuple[torch.Tensor, torch.Tensor]:
    word, mass = torch.empty(len(queries), len(text_keys)), torch.empty(len(queries))
    for start, p in probabilities(q, k, bias, scale, queries):
        part = p[:, text_keys]
        total = part.sum(-1)
        word[start:start + len(part)] = (part / total[:, None]).cpu()
        mass[start:start + len(part)] = total.cpu()
    return word, mass


def _temporal(q, k, bias, scale, pos: Positions, grid) -> torch.Tensor:
    """(F', F'): attention with one-hot key-frame indicators as values is exact and fused (never N x N).
    The CPU flash kernel wants values as wide as the head, so frames go in groups of head_dim."""
    frames, h, w = grid
    heads, _, dim = q.shape
    key_frame = torch.full((k.shape[1],), -1, device=q.device)
    key_frame[pos.video_k] = torch.arange(len(pos.video_k), device=q.device) // (h * w)
    queries = q[:, pos.video_q]
    row_bias = bias[:, pos.video_q] if bias is not None and bias.shape[1] > 1 else bias
    mass = []
    for first in range(0, frames, dim):
        values = (key_frame[:, None] == torch.arange(first, first + dim, device=q.device)).float()
        values = values.expand(heads, -1, -1).contiguous()
        # 4-D (batch of one) so the CPU flash kernel takes it; 3-D inputs fall back to the N x N math path.
        out = F.scaled_dot_product_attention(queries[None], k[None], values[None], scale=scale,
                                             attn_mask=None if row_bias is None else row_bias[None])[0]
        mass.append(out[..., : min(dim, frames - first)])
    mass = torch.cat(mass, -1).mean(0)  # (N, F')
    mass = mass / mass.sum(-1, keepdim=True)  # the video share only (joint models also attend to text)
    return mass.unflatten(0, (frames, h * w)).mean(1).cpu()


def record_site(layout: str, layer: int, calls: list, ctx: CallContext, words: bool, video: bool) -> None:
    """Adds this site's records to ctx.record. words: cross/mass (and text_rows for joint layouts);
    video: query rows and the temporal matrix, when asked for."""
    found: dict[str, list] = {}
    for i, b in enumerate(ctx.rows):
        call, row = (calls[b], 0) if layout == "per_row" else (calls[-1], b)
        q, k, bias = _row(call, row, ctx.heads)
        pos = positions(layout, ctx, i, q.shape[1], k.shape[1], q.device)
        sub = pos.video_q[ctx.sub.to(q.device)]
        if words and pos.text_k is not None:
            word, mass = _words(q, k, bias, call.scale, sub, pos.text_k)
            found.setdefault("cross", []).append(word)
            found.setdefault("mass", []).append(mass)
            if pos.text_q is not None:
                rows = _share(q, k, bias, call.scale, pos.text_q, pos.video_k)
                found.setdefault("text_rows", []).append(rows[:, ctx.sub])
        if video and pos.video_k is not None:
            if ctx.queries is not None:
                chosen = pos.video_q[ctx.queries.to(q.device)]
                found.setdefault("rows", []).append(_share(q, k, bias, call.scale, chosen, pos.video_k))
            if ctx.temporal:
                found.setdefault("temporal", []).append(_temporal(q, k, bias, call.scale, pos, ctx.grid))
    for kind, per_row in found.items():
        ctx.record[(kind, layer)] = _stack(per_row)


def _stack(per_row: list[torch.Tensor]) -> torch.Tensor:
    """Rows of different text lengths are zero-padded to the longest."""
    shape = [max(t.shape[d] for t in per_row) for d in range(per_row[0].dim())]
    padded = []
    for t in per_row:
        pad = [x for d in reversed(range(t.dim())) for x in (0, shape[d] - t.shape[d])]
        padded.append(F.pad(t, pad))
    return torch.stack(padded)
