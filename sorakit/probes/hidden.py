"""Moved to `sorakit.eval.hidden` (`sorakit eval hidden`); this name keeps old imports working."""
from ..eval.hidden import ALPHAS, SCENARIOS, SEED, TARGETS, HiddenProbeResult, fit_probe, record, run

__all__ = ["ALPHAS", "SCENARIOS", "SEED", "TARGETS", "HiddenProbeResult", "fit_probe", "record", "run"]
