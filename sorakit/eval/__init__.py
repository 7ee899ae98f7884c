"""`sorakit eval`: the measurements behind the docs' tables, one module per sub-command.

    from sorakit import eval as evaluation
    evaluation.quality.evaluate_quality(pipe, n=64)       # `sorakit eval quality`: colour, count, direction, gravity
    evaluation.physics.evaluate_physics(n=96)             # `sorakit eval physics`: id / ood / combinatorial scenes
    evaluation.attention.localization(pipe)               # `sorakit eval attention`: do word maps find the ball?
    evaluation.hidden.run(pipe)                           # `sorakit eval hidden`: linear probes on hidden states
    evaluation.autoencoder.evaluate_autoencoder(vae)      # does the video autoencoder keep physics measurable?
    evaluation.events.evaluate_events(n=64)               # `sorakit eval events`: drops, bounces, hoops, collisions
    evaluation.remix.evaluate_remix(pipe, n=32)          # `sorakit eval remix`: path and colour against strength

Evaluation sits above the packages it measures with (world, probes, attention, training's monitor):
it may import them, they never import it.
"""
from __future__ import annotations

from .._lazy import lazy_exports

SUITES = ("quality", "physics", "attention", "hidden", "autoencoder", "events", "remix")

__all__ = [*SUITES]


# each suite pulls in torch and the model code; it loads on first use
__getattr__, __dir__ = lazy_exports(__name__, {suite: (f"{__name__}.{suite}", None) for suite in SUITES})
