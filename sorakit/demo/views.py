"""Turn results into what the page shows: verdict tables, figures as images, gallery items."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np

PASS, FAIL = "✅", "❌"


def _cell(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return PASS if value else FAIL
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.3g}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def _rows(verdicts: Any) -> Iterable[tuple[str, Any]]:
    if isinstance(verdicts, Mapping):
        yield from verdicts.items()
        return
    for i, v in enumerate(verdicts or []):
        name = getattr(v, "name", None) or (v.get("name") if isinstance(v, Mapping) else None) or f"#{i + 1}"
        yield str(name), v


def _describe(value: Any) -> str:
    """A verdict may be a bool, a word, or an object/dict with passed/ok + a message or value."""
    if isinstance(value, Mapping):
        get = value.get
    else:
        def get(k, default=None):
            return getattr(value, k, default)
    passed = next((get(k) for k in ("passed", "ok", "pass_", "verdict") if get(k) is not None), None)
    detail = next((get(k) for k in ("message", "detail", "reason", "value") if get(k) is not None), None)
    if passed is None and detail is None:
        return _cell(value)
    parts = [_cell(passed)] if passed is not None else []
    if detail is not None:
        parts.append(_cell(detail))
    return " ".join(parts)


def verdict_markdown(verdicts: Any) -> str:
    rows = [(str(name), _describe(v)) for name, v in _rows(verdicts)]
    if not rows:
        return "_No verdicts: the probes found nothing to check in this clip._"
    lines = ["| check | verdict |", "|---|---|"]
    lines += [f"| {_cell(name)} | {text} |" for name, text in rows]
    return "\n".join(lines)


def figure_to_image(fig) -> np.ndarray:
    """A matplotlib figure as an RGB uint8 array (then closed, so a long-running server does not leak)."""
    import matplotlib.pyplot as plt

    try:
        fig.canvas.draw()
        return np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    finally:
        plt.close(fig)


def gallery_items(entries: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The session's clips that still exist on disk (old files are pruned), newest first."""
    return [(path, caption) for path, caption in entries or [] if Path(path).is_file()]
