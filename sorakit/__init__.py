"""sorakit: a Jupyter-first toolkit for text-to-video spacetime diffusion transformers.

Everything is imported lazily so `import sorakit` stays fast (no torch/diffusers until needed)
and a missing optional part only fails when it is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy_exports

__version__ = "0.1.0"

# name -> (module, attribute); attribute None means "the module itself".
_LAZY = {
    "load": ("sorakit.loading", "load"),
    "show": ("sorakit.media", "show"),
    "export": ("sorakit.media", "export"),
    "Recipe": ("sorakit.recipe", "Recipe"),
    "remix": ("sorakit.remix", "remix"),
    "extend": ("sorakit.remix", "extend"),
    "storyboard": ("sorakit.storyboard", "storyboard"),
    "Storyboard": ("sorakit.storyboard", "Storyboard"),
    "media": ("sorakit.media", None),
    "world": ("sorakit.world", None),
    "probes": ("sorakit.probes", None),
    "attention": ("sorakit.attention", None),
    "eval": ("sorakit.eval", None),
    "ui": ("sorakit.ui", None),
    "demo": ("sorakit.demo", None),
    "pipeline": ("sorakit.pipeline", None),
    "training": ("sorakit.training", None),
    "safety": ("sorakit.safety", None),
    "SpacetimePipeline": ("sorakit.pipeline", "SpacetimePipeline"),
    "add_sound": ("sorakit.sound", "add_sound"),
    "sound": ("sorakit.sound", None),
}

__all__ = ["__version__", *_LAZY]

if TYPE_CHECKING:  # let editors and type checkers see the real objects
    from . import attention, demo, eval, media, pipeline, probes, safety, training, ui, world
    from .loading import load
    from .media import export, show
    from .recipe import Recipe
    from .remix import extend, remix
    from .sound import add_sound
    from .storyboard import Storyboard, storyboard


__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
