"""Generated-clip evaluations as seeded batches shared between 🤗 accelerate's processes.

Batch b is generated with its own seed, so its clips do not depend on which process makes it or on
how many there are; `map_batches` hands each process a contiguous share of the batches and gives
every process all the results back in batch order (see sorakit.distributed).
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, TypeVar

from ..distributed import map_shared

R = TypeVar("R")


@contextmanager
def quiet(pipe):
    """The pipeline's own per-call progress bars off (one bar over the batches instead)."""
    saved = dict(getattr(pipe, "_progress_bar_config", {}))
    pipe.set_progress_bar_config(disable=True)
    try:
        yield pipe
    finally:
        pipe.set_progress_bar_config(**saved)


def map_batches(pipe, scored: Callable[[int], list[R]], n_batches: int, desc: str, progress: bool = True) -> list[R]:
    """scored(b) for b in range(n_batches), shared between the processes, flattened in batch order.
    Results travel between processes pickled: keep them to numbers (and videos only when asked)."""
    with quiet(pipe):
        parts = map_shared(scored, range(n_batches), desc=desc, progress=progress)
    return [item for part in parts for item in part]
