"""`sweep()`: every cell sampled, probed, exported and written as a row, split between accelerate's processes.

The same call runs in a notebook (one process) and under `accelerate launch` (N processes, on one
machine or several; see sorakit.distributed): `PartialState().split_between_processes` hands each
process its share of the cells still to do, each process writes its own rows, and the main process
gathers one table. A
cell's noise comes from a CPU generator seeded by the cell (`Recipe.pipeline_kwargs`), so which
process makes a clip does not change it.
"""
from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from ..distributed import default_threads, process_state, share_label
from ..recipe import Recipe
from ..safety import Moderation, PolicyRefusal, resolve
from . import grid, store
from .score import output_digest, row, row_file
from .table import gather, read_table

logger = logging.getLogger(__name__)


def plan(prompts, seeds, cells, settings: Mapping[str, Any], moderation=True) -> list[Recipe]:
    """The sweep's cells as Recipes, every value checked (and every prompt moderated), before any model is needed."""
    if cells is not None and prompts is not None:
        raise ValueError("give prompts (a grid with seeds and settings) or cells= (an explicit list), not both")
    if cells is None and prompts is None:
        raise ValueError("the sweep has no cells: give prompts (and seeds), or cells=[{'prompt': ..., 'seed': ...}]")
    listed = grid.list_cells(cells, settings) if cells is not None else grid.grid_cells(prompts, seeds, settings)
    recipes = grid.plan(listed)
    moderation = resolve(moderation)
    if moderation is not None:  # a refused prompt stops the sweep before any cell runs
        moderation.check_prompt(list(dict.fromkeys(r.prompt for r in recipes)))
    return recipes


def run_cell(pipe, recipe: Recipe, out: Path, process: int, moderation: Moderation | None = None) -> dict:
    """Sample one cell, probe it, export the clip with its recipe, then write its row (in that order:
    a row on disk means a finished clip). A clip the output moderation refuses is not exported: its row
    names the category under "refused" and has no clip."""
    from ..media import export
    from ..probes import run as run_probes

    key = recipe.settings_id
    started = time.time()  # wall clock, comparable between processes
    start = time.perf_counter()
    video = pipe(**recipe.pipeline_kwargs()).frames[0]
    sampled = time.perf_counter()
    report = run_probes(video, prompt=recipe.prompt, fps=recipe.fps)
    refused = _refusal(moderation, video, recipe)
    clip = store.clip_path(out, key)
    if refused is None:
        export(video, clip, recipe=recipe)
    data = row(recipe.with_video(video), report, clip="" if refused else clip.relative_to(out).as_posix(),
               process=process, started=started, sample_s=sampled - start, cell_s=time.perf_counter() - start,
               output=output_digest(video), refused=refused)
    store.write_row(out, key, process, row_file(data, report))
    return data


def _refusal(moderation: Moderation | None, video, recipe: Recipe) -> str | None:
    """The category the output moderation refuses the clip for, or None."""
    if moderation is None:
        return None
    try:
        moderation.check_clip(video, recipe)
    except PolicyRefusal as refusal:
        return refusal.category
    return None


def sweep(pipe, prompts: str | Sequence[str] | None = None, seeds: int | Sequence[int] = 0, *,
          out: str | os.PathLike, cells: Sequence[Mapping[str, Any]] | None = None, table: str = "results.csv",
          threads: int | None = None, progress: bool = True, moderation=True,
          on_cell: Callable[[dict, int, int], None] | None = None, **settings):
    """Run prompts x seeds x settings through `pipe`, probe every clip, and return the results table.

    settings: guidance, steps, frames, height, width, negative_prompt; each a value or a list (an
    axis of the grid). cells: an explicit list of dicts instead of a grid (settings then fill in
    what a cell leaves out). out: the folder for clips/, rows/ and the table (results.csv, or
    table="results.parquet" with pyarrow). A rerun with the same grid skips finished cells.
    threads: torch threads per process (default: the cores shared between this machine's processes).
    Under `accelerate launch` each process takes a share of the cells; every process returns the table.
    Bad input (an empty grid, an unknown setting, a value out of sorakit.limits, a folder holding
    another sweep) raises ValueError before any cell runs; so does a prompt the moderation policy refuses
    (PolicyRefusal). moderation: True (the policy in use), a sorakit.safety.Moderation, or False (off);
    clips its output checks refuse are not exported (their rows say why under "refused").
    on_cell(row, done, total): called after each cell this process finishes, `done` of its `total`
    (a widget's progress; finished cells of an earlier run are not counted).
    """
    from tqdm.auto import tqdm

    from ..training.process_state import restored_process_state

    state = process_state()
    moderation = resolve(moderation)
    recipes = grid.for_pipe(pipe, plan(prompts, seeds, cells, settings, moderation or False))
    out = Path(out)
    table_file = store.table_path(out, table)
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise ValueError(f"threads must be a positive whole number or None; got {threads!r}")
    store.check_folder(out, recipes)
    done = store.finished(out)
    todo = [r for r in recipes if r.settings_id not in done]
    state.wait_for_everyone()  # every process has read the folder before any writes to it
    if state.is_main_process:
        out.mkdir(parents=True, exist_ok=True)
        store.write_manifest(out, recipes)
        store.remove_stale_rows(out, done)
    state.wait_for_everyone()
    saved_bar = dict(getattr(pipe, "_progress_bar_config", {}))
    pipe.set_progress_bar_config(disable=True)  # one bar over cells, not one per clip
    try:
        with state.split_between_processes(todo) as mine, \
                restored_process_state(threads or default_threads(state), seed=None):
            shown = progress and state.is_local_main_process
            bar = tqdm(mine, desc=share_label("sweep", state), unit="clip", disable=not shown)
            for made, recipe in enumerate(bar, 1):
                data = run_cell(pipe, recipe, out, state.process_index, moderation)
                if on_cell is not None:
                    on_cell(data, made, len(mine))
    finally:
        pipe.set_progress_bar_config(**saved_bar)
    state.wait_for_everyone()
    if state.is_main_process:
        store.write_table(gather(out, recipes), table_file)
        logger.info("sweep %s: %d cells, %d done before, %d now", out, len(recipes), len(done), len(todo))
    state.wait_for_everyone()
    return read_table(table_file)
