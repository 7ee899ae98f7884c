"""The sweep's results as a pandas DataFrame: gathered from the row files, read back from CSV or Parquet."""
from __future__ import annotations

import os
from pathlib import Path

from ..recipe import Recipe
from . import store
from .score import VERDICTS


def _typed(frame):
    """Verdicts as pandas' nullable booleans (True / False / <NA> for a probe that could not judge)."""
    for column in ("passed", *VERDICTS):
        if column in frame:
            frame[column] = frame[column].astype("boolean")
    return frame


def gather(out: Path, cells: list[Recipe]):
    """One row per finished cell of the sweep, in the sweep's cell order."""
    import pandas as pd

    rows = [r["row"] for r in store.read_rows(out, [c.settings_id for c in cells])]
    return _typed(pd.DataFrame(rows))


def read_table(path: str | os.PathLike):
    """A sweep's table (results.csv or results.parquet, or the sweep folder holding one) as a DataFrame."""
    import pandas as pd

    path = Path(path)
    if path.is_dir():
        found = [path / f"results{ext}" for ext in store.TABLES if (path / f"results{ext}").is_file()]
        if not found:
            raise ValueError(f"{path} holds no results.csv or results.parquet")
        path = found[0]
    if not path.is_file():
        raise ValueError(f"no sweep table at {path}")
    if path.suffix.lower() == ".parquet":
        return _typed(pd.read_parquet(path))
    text = ("key", "id", "prompt", "negative_prompt", "model", "model_hash", "clip", "refused", "output_sha256")
    frame = pd.read_csv(path, keep_default_na=False, na_values=[""], dtype={c: str for c in text})
    for column in text:  # an empty text field is "", not a missing value
        if column in frame:
            frame[column] = frame[column].fillna("")
    return _typed(frame)
