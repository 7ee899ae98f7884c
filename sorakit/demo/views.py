"""Turn results into what the page shows: verdict tables, figures as images, gallery items."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

import numpy as np

MARKS = {True: "pass", False: "**FAIL**", None: "n/a"}  # plain text: no emoji font needed


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def report_markdown(report: Any) -> str:
    """A ProbeReport as a table: probe, verdict, reason (probes that could not run say why)."""
    results = getattr(report, "results", None)
    if results is None:  # a report with verdicts only
        rows = [(name, MARKS[bool(v)], "") for name, v in dict(report.verdicts).items()]
    else:
        rows = [(name, MARKS[r.passed], r.reason) for name, r in results.items()]
    if not rows:
        return "_No probe could judge this clip._"
    passed = getattr(report, "passed", None)
    head = {True: "**All probes that ran passed.**", False: "**Some probes failed.**",
            None: "**No probe could run on this clip.**"}[passed]
    lines = [head, "", "| probe | verdict | why |", "|---|---|---|"]
    lines += [f"| {_cell(name)} | {mark} | {_cell(reason)} |" for name, mark, reason in rows]
    return "\n".join(lines)


def figure_to_image(fig) -> np.ndarray:
    """A matplotlib figure as an RGB uint8 array, drawn with Agg whatever the notebook's backend
    (and closed, so a long-running server does not keep figures)."""
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    try:
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        return np.asarray(canvas.buffer_rgba())[..., :3].copy()
    finally:
        plt.close(fig)


def gallery_items(entries: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The session's clips that still exist on disk (old files are pruned), newest first."""
    return [(path, caption) for path, caption in entries or [] if Path(path).is_file()]
