"""Physics probes: measure whether a clip obeys physics, and where the network keeps it.

    report = probes.run(video, prompt="a red ball bounces twice")   # ProbeReport
    report.verdicts, report.to_dict(), report.plot()
    probes.gravity(video)                                           # any probe alone -> ProbeResult
    probes.evaluate_physics(n=96)                                   # the benchmark table (needs a model)
    probes.hidden.run(pipe)                                         # linear probes on hidden states

Everything is in world units (`world.Camera`: the image is 10 units wide, y up, floor at 0).
"""
from __future__ import annotations

import importlib

from .adherence import adherence
from .bounces import bounces
from .collisions import collisions
from .consistency import PARSE_FLOOR, consistency, measure_parse_floor
from .context import Context, prepare
from .gravity import gravity
from .inputs import DEFAULT_FPS
from .persistence import persistence
from .report import ProbeReport, ProbeResult
from .runner import PROBES, run, tracking
from .temporal import temporal
from .tracking import PointTrack, find_hoop, track, track_generic, track_point

_LAZY = {"evaluate_physics": ("sorakit.probes.evaluate", "evaluate_physics"),
         "PhysicsEval": ("sorakit.probes.evaluate", "PhysicsEval"),
         "hidden": ("sorakit.probes.hidden", None)}

__all__ = ["DEFAULT_FPS", "PARSE_FLOOR", "PROBES", "Context", "PointTrack", "ProbeReport", "ProbeResult", "adherence",
           "bounces", "collisions", "consistency", "find_hoop", "gravity", "measure_parse_floor", "persistence",
           "prepare", "run", "temporal", "track", "track_generic", "track_point", "tracking", *_LAZY]


def __getattr__(name: str):  # torch-heavy parts load on first use
    if name not in _LAZY:
        raise AttributeError(f"module 'sorakit.probes' has no attribute {name!r}")
    module, attr = _LAZY[name]
    value = importlib.import_module(module)
    value = value if attr is None else getattr(value, attr)
    globals()[name] = value
    return value
