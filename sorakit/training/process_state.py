"""Training changes process-wide state (thread count, global RNG); give it back when training ends.

A notebook that trains a model and then samples must find its kernel as it was.
"""
from __future__ import annotations

import contextlib
import random

import numpy as np
import torch


@contextlib.contextmanager
def restored_process_state(threads: int | None, seed: int | None):
    """Run the body with `threads` torch threads and seeded global RNGs; restore both afterwards."""
    saved_threads = torch.get_num_threads()
    saved_rng = (torch.get_rng_state(), np.random.get_state(), random.getstate())
    try:
        if threads:
            torch.set_num_threads(threads)
        if seed is not None:
            torch.manual_seed(seed)
        yield
    finally:
        torch.set_num_threads(saved_threads)
        torch.set_rng_state(saved_rng[0])
        np.random.set_state(saved_rng[1])
        random.setstate(saved_rng[2])
