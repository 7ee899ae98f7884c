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

import importlib

_LAZY = {"sweep": "run", "read_table": "table", "SETTINGS": "grid", "CELL_KEYS": "grid"}

__all__ = [*_LAZY]


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'sorakit.sweep' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    globals()[name] = value
    return value
