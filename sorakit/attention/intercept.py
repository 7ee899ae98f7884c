"""Seeing the attention a model computes without changing it.

A recording processor wraps the module's own processor, whatever its family, and calls it unchanged,
so the output is bit-identical. While it runs, a TorchFunctionMode watches the calls to
`torch.nn.functional.scaled_dot_product_attention` (what diffusers' native attention backend and the
older processors end in) and keeps the very query, key and mask tensors each call received: RoPE,
text/video concatenation, padding masks and per-sample slicing are exactly the model's own. The
probabilities are computed from them afterwards (compute.py), never inside the fused kernel.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode


@dataclass
class SDPACall:
    """One attention kernel call: q (B, h, Sq, d), k (B, h_kv, Sk, d), mask broadcastable to (B, h, Sq, Sk)."""

    q: torch.Tensor
    k: torch.Tensor
    mask: torch.Tensor | None
    scale: float


SDPA_PARAMETERS = ("query", "key", "value", "attn_mask", "dropout_p", "is_causal", "scale", "enable_gqa")


class _Watch(TorchFunctionMode):
    """Collects the scaled_dot_product_attention calls made inside it; every call runs as it would."""

    def __init__(self):
        super().__init__()
        self.calls: list[SDPACall] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func is F.scaled_dot_product_attention:
            given = {**dict(zip(SDPA_PARAMETERS, args)), **kwargs}
            q, k, mask, scale = given["query"], given["key"], given.get("attn_mask"), given.get("scale")
            if given.get("is_causal"):  # no video DiT uses it; a causal call would need its own mask here
                raise NotImplementedError("attention.capture does not support causal attention calls")
            self.calls.append(SDPACall(q, k, mask, q.shape[-1] ** -0.5 if scale is None else float(scale)))
        return func(*args, **kwargs)


class RecordingProcessor:
    """Wraps `original`; while `site.active()` it hands the attention calls of each forward to `site.record`.

    Attributes it does not have (the original's attention backend, parallel config, ...) are the original's.
    """

    def __init__(self, original, site):
        self.original, self.site = original, site

    def __getattr__(self, name):
        if name in ("original", "site"):  # not set yet (copy/pickle): no recursion
            raise AttributeError(name)
        return getattr(self.original, name)

    def _run(self, attn, args, kwargs):
        if not self.site.active():
            return self.original(attn, *args, **kwargs)
        with _Watch() as watch:
            out = self.original(attn, *args, **kwargs)
        if not watch.calls:
            raise RuntimeError(f"attention.capture saw no torch scaled_dot_product_attention call in "
                               f"{type(self.original).__name__}: the model runs a non-native attention backend "
                               "(flash, sage, xformers); switch to diffusers' native backend while capturing")
        with torch.no_grad():
            self.site.record(watch.calls)
        return out


_CLASSES: dict[type, type] = {}


def recording_processor(original, site) -> RecordingProcessor:
    """A RecordingProcessor whose __call__ has the original's signature: diffusers' Attention.forward
    passes a processor only the keyword arguments its signature names."""
    cls = type(original)
    if cls not in _CLASSES:
        def __call__(self, attn, *args, **kwargs):
            return self._run(attn, args, kwargs)

        try:
            __call__.__signature__ = inspect.signature(cls.__call__)
        except (TypeError, ValueError):
            pass
        _CLASSES[cls] = type(f"Recording{cls.__name__}", (RecordingProcessor,), {"__call__": __call__})
    return _CLASSES[cls](original, site)
