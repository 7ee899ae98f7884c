"""Attention maps of spacetime DiTs: which pixels a word lights up, and what a patch looks back at.

    from sorakit import attention
    with attention.capture(pipe, query=(12, 16, 16)) as cap:
        out = pipe("a red ball is thrown to the right", generator=torch.Generator().manual_seed(0))
    heat = cap.word_map("red")                  # (F, H, W) in [0, 1]
    sorakit.show(attention.overlay(out.frames[0], heat))
    cap.query_map(12, 16, 16)                   # where that patch attends, over all frames

Works on Wan 2.1/2.2, WanVACE, SkyReels-V2, LTX-Video, CogVideoX, HunyuanVideo and Mochi pipelines (and sorakit's own).
"""
from .._lazy import lazy_exports
from .budget import DEFAULT_BUDGET, estimate
from .capture import DEFAULT_LAYERS, DEFAULT_STEPS, Capture, capture
from .render import overlay, plot_word_maps

__all__ = ["Capture", "DEFAULT_BUDGET", "DEFAULT_LAYERS", "DEFAULT_STEPS", "capture", "estimate", "localization",
           "overlay", "plot_word_maps"]


# moved to sorakit.eval.attention; the old name resolves on first use
__getattr__, __dir__ = lazy_exports(__name__, {"localization": ("sorakit.eval.attention", "localization")})
