"""SweepExplorer: a sweep's results table, sortable by any column and filterable by prompt; a row plays its clip.

    from sorakit import ui
    ui.SweepExplorer("runs/sweep")                       # open a finished (or half-finished) sweep folder
    explorer = ui.SweepExplorer("runs/new", pipe=pipe)   # or run one, with a progress bar
    explorer.run(["a red ball bounces twice"], seeds=range(4), guidance=[1.0, 4.0])

The table is the one `sorakit.sweep.sweep` returns and writes (read back with `read_table`). Sorting
and filtering are pandas' (sweep_rows.py); the browser draws the rows it is sent and reports clicks.
A clicked row's clip is read from the sweep's folder at its recipe's size and played by the shared
`Player`.
"""
from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Callable, Sequence

import anywidget
import ipywidgets as W
import traitlets as t

from .assets import css, esm
from .fallback import StaticFallback, clip_html
from .messages import error_html
from .player import Player
from .sweep_rows import browser_rows, check_columns, default_columns, ordered

MAX_ROWS = 500  # rows sent to the browser at once; the filter and sort reach the others


class SweepTableView(anywidget.AnyWidget):
    """The browser table alone: `rows` in display order, each {key, cells}; clicks come back as messages."""

    _esm = esm("sweep_table.js")
    _css = css()
    columns = t.List(t.Unicode(), []).tag(sync=True)
    rows = t.List([]).tag(sync=True)
    sort_by = t.Unicode("").tag(sync=True)     # "" = the sweep's own order
    ascending = t.Bool(True).tag(sync=True)
    selected = t.Unicode("").tag(sync=True)    # key of the row whose clip is playing


class SweepExplorer(StaticFallback, W.VBox):
    def __init__(self, folder: str | os.PathLike | None = None, pipe=None, columns: Sequence[str] | None = None,
                 max_rows: int = MAX_ROWS):
        if isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 1:
            raise ValueError(f"max_rows must be a positive whole number; got {max_rows!r}")
        self.pipe, self.max_rows, self._wanted_columns = pipe, max_rows, columns
        self.folder: Path | None = Path(folder) if folder is not None else None
        self.table = None
        self.video = None  # the clip of the selected row
        self._handlers: list[Callable[[dict, object], None]] = []
        self.prompt_filter = W.Text("", description="prompt", placeholder="words the prompt contains",
                                    continuous_update=True, layout=W.Layout(width="320px"))
        self.prompt_filter.add_class("sorakit-sweep-filter")
        self.prompt_filter.observe(lambda _: self._refresh(), "value")
        self.progress = W.IntProgress(0, min=0, max=1, layout=W.Layout(width="160px", visibility="hidden"))
        self.status = W.HTML("")
        self.view = SweepTableView()
        self.view.on_msg(self._on_browser_msg)
        self.player = Player(size=192)
        super().__init__([W.HBox([self.prompt_filter, self.progress, self.status]),
                          W.HBox([self.view, self.player])])
        self.add_class("sorakit-sweep")
        if self.folder is not None and self.folder.is_dir() and any(self.folder.glob("results.*")):
            self.open_sweep(self.folder)

    # --- the table ----------------------------------------------------------------------------
    def open_sweep(self, folder: str | os.PathLike):
        """Show the sweep in `folder` (its results.csv or results.parquet); returns its table."""
        from ..sweep import read_table

        table = read_table(folder)
        self.folder = Path(folder) if Path(folder).is_dir() else Path(folder).parent
        self.show_table(table)
        return table

    def show_table(self, table) -> None:
        """Show a sweep's table (its clips are read from `self.folder`); sorting and filter are kept."""
        columns = check_columns(table, self._wanted_columns) if self._wanted_columns else default_columns(table)
        self.table, self.video = table, None
        with self.view.hold_sync():
            self.view.columns = columns
            if self.view.sort_by not in table:
                self.view.sort_by = ""
            self.view.selected = ""
            self._refresh()

    @property
    def shown(self):
        """The rows as the browser orders them (filtered by prompt, sorted), all of them (not only max_rows)."""
        if self.table is None:
            return None
        return ordered(self.table, self.view.sort_by or None, self.view.ascending, self.prompt_filter.value)

    def sort(self, column: str, ascending: bool | None = None) -> None:
        """Sort by `column` (any column of the table); ascending=None turns the direction round when
        it is already the sort column, and sorts ascending otherwise."""
        if self.table is None:
            raise ValueError("no sweep to sort: open a sweep folder or run a sweep first")
        check_columns(self.table, [column])
        if ascending is None:
            ascending = not self.view.ascending if column == self.view.sort_by else True
        with self.view.hold_sync():
            self.view.sort_by, self.view.ascending = column, bool(ascending)
            self._refresh()

    def _refresh(self) -> None:
        rows = self.shown
        if rows is None:
            return
        self.view.rows = browser_rows(rows, self.view.columns, self.max_rows)
        more = f" (the first {self.max_rows} shown)" if len(rows) > self.max_rows else ""
        self.status.value = html.escape(f"{len(rows)} of {len(self.table)} cells{more}")

    # --- a row's clip -------------------------------------------------------------------------
    def pick(self, key: str):
        """Play the clip of the row with this key (the table's `key` column); returns the clip."""
        from ..media import read_clip

        if self.table is None or key not in set(self.table["key"]):
            raise ValueError(f"no cell with key {key!r} in this sweep")
        row = self.table[self.table["key"] == key].iloc[0].to_dict()
        if not row.get("clip"):
            raise ValueError(f"cell {key} has no clip: moderation refused it ({row.get('refused') or 'no reason'})")
        video, recipe = read_clip(self.folder / row["clip"])
        fps = recipe.fps if recipe is not None else row.get("fps")
        self.video = video
        self.player.show_video(video, fps=fps, label=f"{row['prompt']} · seed {row['seed']}"
                                                     f" · guidance {row.get('guidance', '–')}")
        self.view.selected = key
        for handler in self._handlers:
            handler(row, video)
        return video

    def on_pick(self, handler: Callable[[dict, object], None]) -> None:
        """Call handler(row as a dict, clip) when a row is clicked."""
        self._handlers.append(handler)

    # --- running a sweep ----------------------------------------------------------------------
    def run(self, prompts=None, seeds=0, *, out: str | os.PathLike | None = None, cells=None, **settings):
        """Run `sorakit.sweep.sweep(pipe, prompts, seeds, **settings)` into `out` (default: the folder
        this explorer was made with), a progress bar counting the cells, then show its table.
        Errors are shown in the widget (and None returned), as the other widgets do."""
        from ..sweep import sweep

        self.progress.layout.visibility = "visible"
        self.progress.value, self.progress.max, self.progress.bar_style = 0, 1, ""
        try:
            if self.pipe is None:
                raise ValueError("this explorer has no pipeline: make it with SweepExplorer(folder, pipe=pipe)")
            out = Path(out) if out is not None else self.folder
            if out is None:
                raise ValueError("give out= (a folder for the sweep's clips and table)")
            self.status.value = "planning the sweep…"
            table = sweep(self.pipe, prompts, seeds, out=out, cells=cells, progress=False, on_cell=self._cell_done,
                          **settings)
        except Exception as exc:
            self.status.value = error_html(exc)
            self.progress.bar_style = "danger"
            return None
        self.folder = out
        self.show_table(table)
        self.progress.value, self.progress.bar_style = self.progress.max, "success"
        return table

    def _cell_done(self, _row: dict, done: int, total: int) -> None:
        self.progress.max, self.progress.value = max(total, 1), done
        self.status.value = f"{done}/{total} cells sampled and probed"

    # --- the browser and saved notebooks ------------------------------------------------------
    def _on_browser_msg(self, _widget, content, _buffers) -> None:
        if not isinstance(content, dict):
            return
        try:
            if content.get("event") == "sort":
                self.sort(str(content.get("column", "")))
            elif content.get("event") == "pick":
                self.pick(str(content.get("key", "")))
        except (ValueError, OSError) as exc:
            self.status.value = error_html(exc)

    def _fallback(self):
        rows = self.shown
        if rows is None:
            return None, None
        table = rows.head(self.max_rows)[self.view.columns].to_html(index=False, na_rep="–", classes="sorakit-sweep")
        clip = clip_html(self.video, self.player.fps, self.player.label) if self.video is not None else ""
        return f"<div>{table}{clip}</div>", self.video
