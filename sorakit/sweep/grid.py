"""The cells of a sweep: a grid (prompts x seeds x settings) or an explicit list, each one `Recipe`.

Every cell is built and checked before anything runs: values against sorakit.limits (through
`Recipe`), sizes against the pipeline's own `check_inputs`, names against the settings a cell may
vary. A cell is keyed by its recipe's `settings_id` (the hash of everything that decides its frames,
model weights included), so the same cell has the same key in every run and every process.
"""
from __future__ import annotations

import itertools
from numbers import Integral
from typing import Any, Iterable, Mapping, Sequence

from ..limits import LIMITS
from ..recipe import Recipe

# What a cell may set besides prompt and seed: the axes of a grid (scalar or list) and the keys of
# an explicit cell. Recipe field names; `pipeline_kwargs` maps them to the pipeline's argument names.
SETTINGS = ("guidance", "steps", "frames", "height", "width", "negative_prompt")
CELL_KEYS = ("prompt", "seed", *SETTINGS)


def _unknown(names: Iterable[str], where: str) -> None:
    bad = sorted(set(names) - set(CELL_KEYS if where == "cell" else SETTINGS))
    if bad:
        allowed = CELL_KEYS if where == "cell" else SETTINGS
        raise ValueError(f"unknown {where} setting(s) {bad}; allowed: {', '.join(allowed)}")


def _axis(name: str, value: Any) -> list:
    """One axis of the grid: a scalar is a one-value axis; a list or tuple must not be empty."""
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        return [value]
    values = list(itertools.islice(value, LIMITS.sweep_cells + 1))  # e.g. range(2**32): refused, not listed
    if len(values) > LIMITS.sweep_cells:
        raise ValueError(f"{name} has over {LIMITS.sweep_cells} values; at most {LIMITS.sweep_cells} cells are "
                         "allowed in one sweep")
    if not values:
        raise ValueError(f"{name} is empty: give at least one value")
    return values


def grid_cells(prompts: str | Sequence[str], seeds: int | Sequence[int], settings: Mapping[str, Any]) -> list[dict]:
    """prompts x seeds x every setting axis, as cell dicts (prompt-major, then seed, then settings)."""
    _unknown(settings, "sweep")
    names = ["prompt", "seed", *settings]
    axes = [_axis("prompts", prompts), _axis("seeds", seeds), *(_axis(k, v) for k, v in settings.items())]
    count = 1
    for axis in axes:
        count *= len(axis)
    if count > LIMITS.sweep_cells:
        raise ValueError(f"the grid has {count} cells; at most {LIMITS.sweep_cells} are allowed in one sweep")
    return [dict(zip(names, values)) for values in itertools.product(*axes)]


def list_cells(cells: Sequence[Mapping[str, Any]], settings: Mapping[str, Any]) -> list[dict]:
    """An explicit list of cells; `settings` (scalars only) fill what a cell leaves out."""
    _unknown(settings, "sweep")
    if isinstance(cells, Mapping) or not isinstance(cells, Sequence) or isinstance(cells, str):
        raise ValueError(f"cells must be a list of dicts with keys from {', '.join(CELL_KEYS)}")
    if len(cells) > LIMITS.sweep_cells:
        raise ValueError(f"{len(cells)} cells; at most {LIMITS.sweep_cells} are allowed in one sweep")
    listed = [k for k, v in settings.items() if len(_axis(k, v)) != 1]
    if listed:
        raise ValueError(f"with cells=, settings are defaults for every cell and take one value; {listed} have several")
    out = []
    for i, cell in enumerate(cells):
        if not isinstance(cell, Mapping):
            raise ValueError(f"cell {i} must be a dict with keys from {', '.join(CELL_KEYS)}; "
                             f"got {type(cell).__name__}")
        _unknown(cell, "cell")
        if "prompt" not in cell:
            raise ValueError(f"cell {i} has no prompt")
        out.append({**{k: _axis(k, v)[0] for k, v in settings.items()}, **cell})
    return out


def plan(cells: list[dict]) -> list[Recipe]:
    """Each cell as a Recipe, checked without a model: ValueError on a bad value, an empty grid or a repeat."""
    if not cells:
        raise ValueError("the sweep has no cells: give at least one prompt and one seed (or a non-empty cells=)")
    built, seen = [], {}
    for i, cell in enumerate(cells):
        prompt = cell.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            raise ValueError(f"cell {i}: prompt must be non-empty text; got {prompt!r:.80}")
        seed = cell.get("seed", 0)
        if isinstance(seed, bool) or not isinstance(seed, Integral):
            raise ValueError(f"cell {i}: seed must be a whole number from {LIMITS.seed[0]} to {LIMITS.seed[1]}; "
                             f"got {seed!r}")
        settings = {k: cell[k] for k in SETTINGS if cell.get(k) is not None}
        try:
            recipe = Recipe(prompt, seed=seed, **settings)
        except ValueError as exc:
            raise ValueError(f"cell {i}: {exc}") from None
        key = recipe.settings_id
        if key in seen:
            raise ValueError(f"cells {seen[key]} and {i} are the same cell (prompt {prompt!r:.60}, seed {seed}): "
                             "each cell must differ in some setting")
        seen[key] = i
        built.append(recipe)
    return built


def for_pipe(pipe, planned: list[Recipe]) -> list[Recipe]:
    """The planned cells as `pipe` runs them (its model, weights hash and default sizes), checked by the
    pipeline's own input checks; cells that become equal once the defaults are filled in are refused."""
    cells = [r.run_by(pipe) for r in planned]
    keys = [r.settings_id for r in cells]
    if len(set(keys)) != len(keys):
        raise ValueError("two cells are the same once the model's defaults are filled in (e.g. frames=None and "
                         f"frames={pipe.config.get('num_frames')}): each cell must differ in some setting")
    _check_sizes(pipe, cells)
    return cells


def _check_sizes(pipe, cells: list[Recipe]) -> None:
    """The pipeline's own input checks, once per distinct size and sampling setting (no model runs)."""
    check = getattr(pipe, "check_inputs", None)
    from ..pipeline import SpacetimePipeline

    if not isinstance(pipe, SpacetimePipeline) or check is None:
        return  # another diffusers pipeline checks its inputs when called
    for frames, height, width, steps, guidance in sorted({(r.frames, r.height, r.width, r.steps, r.guidance)
                                                          for r in cells}):
        check("x", None, None, frames, height, width, steps, guidance, 1, "np", ["latents"])
