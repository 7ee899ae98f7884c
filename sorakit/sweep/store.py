"""A sweep's folder: its manifest, one row file per finished cell, the clips, and the gathered table.

    out/sweep.json              which sweep this folder holds (model, cell keys): a rerun must match it
    out/clips/<key>.mp4(.json)  each clip with its recipe (sorakit.export)
    out/rows/<key>.p<N>.json    the row of a finished cell, written by process N (atomically: a kill
                                loses at most the cell in flight, never leaves half a row)
    out/results.csv             the table gathered from the rows (or .parquet, with pyarrow)

A cell is finished when its row file exists (its clip is written before it). Rows name the process
that wrote them, so a cell done twice (two runs sharing the folder at once) shows as two files.
"""
from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Iterable

from ..recipe import Recipe

logger = logging.getLogger(__name__)

MANIFEST = "sweep.json"
KIND = "sorakit-sweep"
TABLES = (".csv", ".parquet")


def clip_path(out: Path, key: str) -> Path:
    return out / "clips" / f"{key}.mp4"


def _row_key(path: Path) -> str:
    return path.name.split(".", 1)[0]


def manifest(cells: list[Recipe]) -> dict:
    first = cells[0]
    return {"kind": KIND, "version": 1, "model": first.model, "model_hash": first.model_hash,
            "cells": len(cells), "keys": sorted(r.settings_id for r in cells)}


def check_folder(out: Path, cells: list[Recipe]) -> None:
    """Raise ValueError unless `out` is new, empty, or holds this same sweep (reads only)."""
    if out.exists() and not out.is_dir():
        raise ValueError(f"out={str(out)!r} is a file; give a folder for the sweep's clips and table")
    path = out / MANIFEST
    if not path.is_file():
        if out.is_dir() and any(out.iterdir()):
            raise ValueError(f"{out} is not empty and holds no sweep ({MANIFEST} is missing): "
                             "give a new or empty folder")
        return
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path} is not a sweep manifest ({exc}): give a new folder") from None
    if not isinstance(stored, dict) or stored.get("kind") != KIND:
        raise ValueError(f"{path} is not a sorakit sweep manifest: give a new folder")
    wanted = manifest(cells)
    if stored.get("keys") != wanted["keys"]:
        ours, theirs = set(wanted["keys"]), set(stored.get("keys") or [])
        raise ValueError(
            f"{out} holds another sweep ({stored.get('cells')} cells of model {stored.get('model')!r}; "
            f"{len(theirs & ours)} shared with this one, {len(ours - theirs)} new, {len(theirs - ours)} missing): "
            "rerun the same grid to resume it, or give a new folder")


def write_manifest(out: Path, cells: list[Recipe]) -> None:
    if not (out / MANIFEST).is_file():
        write_json(out / MANIFEST, manifest(cells))


def write_json(path: Path, data: dict) -> None:
    """Write a JSON file atomically: a temporary file in the same folder, then one rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, default=str)  # in the caller's order: the table's columns
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_row(out: Path, key: str, process: int, row: dict) -> Path:
    path = out / "rows" / f"{key}.p{process}.json"
    write_json(path, row)
    return path


def row_files(out: Path) -> list[Path]:
    folder = out / "rows"
    return sorted(p for p in folder.glob("*.json") if not p.name.startswith(".")) if folder.is_dir() else []


def finished(out: Path) -> set[str]:
    """Keys of the cells whose row is written and whose clip is still there."""
    return {_row_key(p) for p in row_files(out) if clip_path(out, _row_key(p)).is_file()}


def remove_stale_rows(out: Path, done: set[str]) -> None:
    """Rows whose clip is gone: the cell runs again, so its old row must not stand beside the new one."""
    for path in row_files(out):
        if _row_key(path) not in done:
            path.unlink(missing_ok=True)


def read_rows(out: Path, keys: Iterable[str]) -> list[dict]:
    """The rows of `keys` in that order (one per key: a second copy is logged and left out)."""
    by_key: dict[str, dict] = {}
    for path in row_files(out):
        key = _row_key(path)
        if key in by_key:
            logger.warning("cell %s has more than one row (%s); keeping the first", key, path.name)
            continue
        by_key[key] = json.loads(path.read_text(encoding="utf-8"))
    return [by_key[k] for k in keys if k in by_key]


def table_path(out: Path, table: str) -> Path:
    path = out / table
    if path.suffix.lower() not in TABLES or path.parent != out:
        raise ValueError(f"table must be a file name ending in {' or '.join(TABLES)}; got {table!r}")
    if path.suffix.lower() == ".parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise ValueError("a .parquet table needs pyarrow (pip install pyarrow); "
                             "or use table='results.csv'") from None
    return path


def write_table(frame, path: Path) -> None:
    """The gathered table, replaced atomically (a reader never sees half of it)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        if path.suffix.lower() == ".parquet":
            frame.to_parquet(tmp, index=False)
        else:
            frame.to_csv(tmp, index=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
