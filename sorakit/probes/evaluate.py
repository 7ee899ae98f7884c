"""Moved to `sorakit.eval.physics` (`sorakit eval physics`); this name keeps old imports working."""
from ..eval.physics import (
    EVAL_SEED,
    GIVEN,
    MODES,
    OOD_RADII,
    OOD_SPEED,
    SPLITS,
    PhysicsEval,
    evaluate_physics,
    score,
    split_clips,
    summarize,
)

__all__ = ["EVAL_SEED", "GIVEN", "MODES", "OOD_RADII", "OOD_SPEED", "SPLITS", "PhysicsEval", "evaluate_physics",
           "score", "split_clips", "summarize"]
