"""Work split between 🤗 accelerate's processes: the one engine under sweeps and evaluation.

In a notebook or a plain `python` run there is one process and these are no-ops. Under
`accelerate launch --num_processes N` (torchrun underneath) each process takes a contiguous share
of a list (`PartialState().split_between_processes`, as diffusers documents for distributed
inference), and `map_shared` gathers the results back in list order on every process.
"""
from __future__ import annotations

import atexit
import os
from typing import Callable, Sequence, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def process_state():
    """accelerate's PartialState. Where torch sees no GPU, processes started by `accelerate launch`
    join one gloo group on the CPU: accelerate only forms a CPU group when asked for the CPU."""
    import torch
    from accelerate import PartialState

    return release_group_at_exit(PartialState(cpu=not torch.cuda.is_available()))


_release_registered = False


def release_group_at_exit(state):
    """Destroy the process group when the process ends. Without it, a process may exit with gloo's
    threads still running, and their destructor aborts it ("terminate called without an active
    exception", SIGABRT): a run that did all its work is then reported failed."""
    global _release_registered
    if state.num_processes > 1 and not _release_registered:
        atexit.register(state.destroy_process_group)
        _release_registered = True
    return state


def default_threads(state) -> int | None:
    """Torch threads per process: the cores shared out between this machine's processes, unless
    OMP_NUM_THREADS (which `accelerate launch` sets) already says; None on a GPU."""
    if state.device.type != "cpu" or os.environ.get("OMP_NUM_THREADS"):
        return None
    local = int(os.environ.get("LOCAL_WORLD_SIZE", 1))
    return max(1, (os.cpu_count() or 1) // local)


def share_label(desc: str | None, state) -> str | None:
    """A progress bar's label: which process's share it counts, when there are several."""
    if state.num_processes == 1:
        return desc
    return f"{desc} (process {state.process_index + 1}/{state.num_processes})"


def map_shared(fn: Callable[[T], R], items: Sequence[T], *, desc: str | None = None, progress: bool = True,
               state=None) -> list[R]:
    """[fn(x) for x in items], each process computing its own contiguous share; every process gets
    the whole list back, in item order. Results travel between processes pickled (keep them small:
    numbers and dicts, not videos). A progress bar over the share shows on each machine's main process."""
    from tqdm.auto import tqdm

    state = state or process_state()
    items = list(items)
    with state.split_between_processes(items) as mine:
        shown = bool(progress and desc and state.is_local_main_process)
        results = [fn(x) for x in tqdm(mine, desc=share_label(desc, state), disable=not shown)]
    if state.num_processes == 1:
        return results
    from accelerate.utils import gather_object

    return gather_object(results)  # shares are contiguous and in process order: concatenated, in item order
