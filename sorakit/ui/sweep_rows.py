"""What the sweep explorer shows of a sweep's table: which columns, in which order, through which filter.

Pure pandas, no widget: the explorer keeps the state (sort column, direction, prompt filter) and asks
these functions for the rows to send to the browser, so sorting is pandas' own and testable alone.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from ..sweep.score import MEASURES

# Settings shown only where the sweep varies them (prompt and seed always are).
VARYING = ("negative_prompt", "guidance", "steps", "frames", "height", "width")
SCORES = ("passed", "probes_passed", "probes_ran", "adherence_score", *MEASURES)
MISSING = "–"


def default_columns(table) -> list[str]:
    """prompt, seed, the settings the sweep varies, then the verdict counts and probe scores."""
    varying = [c for c in VARYING if c in table and table[c].nunique(dropna=False) > 1]
    return [c for c in ("prompt", "seed", *varying, *SCORES) if c in table]


def check_columns(table, columns: Sequence[str]) -> list[str]:
    """`columns` as a list, each one a column of the table (ValueError naming those it has)."""
    columns = [columns] if isinstance(columns, str) else list(columns)
    unknown = [c for c in columns if c not in table]
    if unknown or not columns:
        raise ValueError(f"columns must name columns of the sweep's table; {unknown or 'none'} given, "
                         f"it has: {', '.join(table.columns)}")
    return columns


def ordered(table, sort_by: str | None = None, ascending: bool = True, prompt_filter: str = ""):
    """The rows whose prompt contains `prompt_filter` (any case), sorted by `sort_by` (missing values
    last; ties keep the sweep's order), or in the sweep's order when `sort_by` is None."""
    rows = table
    text = prompt_filter.strip()
    if text:
        rows = rows[rows["prompt"].astype(str).str.contains(text, case=False, regex=False)]
    if sort_by:
        rows = rows.sort_values(sort_by, ascending=ascending, na_position="last", kind="stable")
    return rows


def cell_text(value) -> str:
    """A table value as the browser shows it: numbers to 3 significant digits, verdicts as ✓ / ✗."""
    if pd.isna(value):  # None, NaN and pandas' NA (a probe that could not judge)
        return MISSING
    if isinstance(value, (bool, np.bool_)):
        return "✓" if value else "✗"
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.3g}"
    return str(value)


def browser_rows(rows, columns: Sequence[str], limit: int) -> list[dict]:
    """The first `limit` rows as [{"key", "cells": [text, ...]}] for the browser table."""
    return [{"key": str(key), "cells": [cell_text(v) for v in values]}
            for key, *values in rows[["key", *columns]].head(limit).itertuples(index=False, name=None)]
