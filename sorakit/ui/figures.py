"""Small matplotlib figures for widgets, returned as PNG bytes (for ipywidgets.Image)."""
from __future__ import annotations

import io

import numpy as np


def figure_png(fig, dpi: int = 100) -> bytes:
    """Render a matplotlib figure to PNG bytes and close it."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def matrix_png(matrix, title: str = "frame-to-frame attention") -> bytes:
    """(F, F) matrix as a labelled heat map: rows = query frame, columns = key frame."""
    from matplotlib.figure import Figure

    m = np.asarray(matrix, dtype=np.float32)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(f"matrix must be square (F, F); got shape {m.shape}")
    fig = Figure(figsize=(2.8, 2.5))
    ax = fig.add_subplot()
    im = ax.imshow(m, cmap="inferno", interpolation="nearest")
    ax.set_xlabel("key frame", fontsize=8)
    ax.set_ylabel("query frame", fontsize=8)
    ax.set_title(title, fontsize=8)
    ax.tick_params(labelsize=7)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04).ax.tick_params(labelsize=7)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return buf.getvalue()
