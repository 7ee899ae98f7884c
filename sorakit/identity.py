"""Which model made a clip: the name it was loaded by and a hash of its weights.

Recipes, storyboards and exports record this pair; hashing a model's weights is costly, so the hash
is remembered per pipeline until the weights change in place (as they do between training steps).
"""
from __future__ import annotations

import weakref

SHIPPED_MODEL = "sorakit-shipped"  # the model name of a pipeline that was not loaded from a path or id
_IDENTITIES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _unnamed(pipe) -> str:
    """The name of a pipeline not loaded from a path: a supported diffusers pipeline's class name, else
    sorakit's shipped model."""
    from .families import family_of_pipeline

    return type(pipe).__name__ if family_of_pipeline(type(pipe).__name__) else SHIPPED_MODEL


def _weights_stamp(pipe) -> tuple | None:
    """Changes whenever the hashed models' weights change in place (torch counts in-place writes)."""
    from .loading import hashed_models

    models = hashed_models(pipe)
    if not models:
        return None
    return tuple((id(p), p._version) for _, model in models for p in model.parameters())


def model_identity(pipe) -> tuple[str, str]:
    """(model name, weights hash) of the model behind `pipe`.

    The name is the path or hub id the pipeline was loaded from (otherwise `sorakit-shipped` for
    sorakit's own pipeline, the class name, e.g. `WanPipeline`, for another); the
    hash is `sorakit.loading.model_hash`, remembered per pipeline until its weights change, so
    recipes cost no re-hashing between training steps.
    """
    config = getattr(pipe, "config", None) or {}
    name = str(config.get("_name_or_path") or _unnamed(pipe))
    stamp = _weights_stamp(pipe)
    try:
        known = _IDENTITIES.get(pipe)
    except TypeError:  # not weak-referenceable: hash every time
        known = None
    if stamp is not None and known is not None and known[0] == stamp:
        return name, known[1]
    from .loading import model_hash

    weights = model_hash(pipe) or ""
    if stamp is not None:
        try:
            _IDENTITIES[pipe] = (stamp, weights)
        except TypeError:
            pass
    return name, weights
