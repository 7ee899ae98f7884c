"""Sweeps: prompts x seeds x settings through a pipeline, every clip probed, results as a table.

    from sorakit.sweep import sweep, read_table
    table = sweep(pipe, ["a red ball bounces twice", "a blue ball rolls left"], seeds=range(4),
                  guidance=[1.0, 4.0, 7.0], out="runs/sweep")          # a pandas DataFrame
    table.sort_values("adherence_score")

Resumable (a rerun skips finished cells) and distributed with accelerate:
`accelerate launch --num_processes N -m sorakit sweep ...` splits the cells between N processes.
Names load on first use, so the `sorakit` command's parser can import sorakit.sweep.cli cheaply.
"""
from __future__ import annotations

from .._lazy import lazy_exports

_LAZY = {"sweep": "run", "read_table": "table", "SETTINGS": "grid", "CELL_KEYS": "grid"}

__all__ = [*_LAZY]


__getattr__, __dir__ = lazy_exports(__name__, {name: (f"{__name__}.{module}", name) for name, module in _LAZY.items()})
