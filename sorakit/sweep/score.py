"""One cell's row: its recipe's settings, the probes' verdicts, adherence and a few physics measures.

The row holds flat values only (a table column each); the full probe report stays in the row file
under "report" for anyone who wants every number.
"""
from __future__ import annotations

import hashlib
import math

import numpy as np

from ..probes.report import jsonable
from ..probes.runner import PROBES
from ..recipe import Recipe

SETTING_COLUMNS = ("prompt", "negative_prompt", "seed", "guidance", "steps", "frames", "height", "width", "fps",
                   "model", "model_hash")
VERDICTS = tuple(p for p in PROBES if p != "tracking")  # tracking has no verdict
# Physics measures: column -> (probe, metric). NaN where the probe could not measure it on the clip.
MEASURES = {
    "gravity_error": ("gravity", "relative_error"),  # fitted g vs the world's, relative
    "velocity_error": ("consistency", "velocity_error"),  # units/s against the simulated continuation
    "restitution": ("bounces", "restitution_median"),
    "flicker": ("temporal", "flicker"),
    "motion_px": ("temporal", "dynamic_degree_px"),
}


def output_digest(video) -> str:
    """Short sha256 of the pipeline's float output: equal only for bit-identical frames."""
    arr = np.ascontiguousarray(np.asarray(video, np.float32))
    return hashlib.sha256(str(arr.shape).encode() + arr.tobytes()).hexdigest()[:16]


def adherence_score(report) -> float:
    """Share of the prompt's checkable facts the clip shows (NaN when none could be judged)."""
    result = report.results.get("adherence")
    checks = [c for c in (result.metrics.get("checks", []) if result else []) if c["passed"] is not None]
    return sum(bool(c["passed"]) for c in checks) / len(checks) if checks else math.nan


def _measure(report, probe: str, metric: str) -> float:
    result = report.results.get(probe)
    value = None if result is None else result.metrics.get(metric)
    return float(value) if isinstance(value, (int, float, np.number)) and not isinstance(value, bool) else math.nan


def row(recipe: Recipe, report, *, clip: str, process: int, started: float, sample_s: float, cell_s: float,
        output: str, refused: str | None = None) -> dict:
    """The table row of a finished cell (`recipe` is the clip's: `with_video` already applied); `refused`
    names the moderation category of a clip that was not exported."""
    verdicts = {name: (report.results[name].passed if name in report.results else None) for name in VERDICTS}
    ran = [v for v in verdicts.values() if v is not None]
    out = {"key": recipe.settings_id, "id": recipe.id, **{k: getattr(recipe, k) for k in SETTING_COLUMNS},
           "clip": clip, "refused": refused or "", "passed": all(ran) if ran else None, "probes_passed": sum(ran),
           "probes_ran": len(ran),
           **verdicts, "adherence_score": adherence_score(report),
           **{col: _measure(report, probe, metric) for col, (probe, metric) in MEASURES.items()},
           "objects": len(report.context.tracks) if report.context is not None else 0,
           "process": process, "started": started, "sample_s": sample_s, "cell_s": cell_s, "output_sha256": output}
    return out


def row_file(row_data: dict, report) -> dict:
    """What a row file stores: the row plus the full probe report (NaN written as null)."""
    return {"row": jsonable(row_data), "report": report.to_dict()}
