"""Sweeps on this machine: clips per second with 1 and 2 processes, and the per-cell cost beyond sampling.

One grid at the default settings (20 steps, guidance 4, the model's 16 frames), run twice on the same
cores: in this process with 2 torch threads (--threads), then by `accelerate launch --multi_gpu --num_processes 2
-m sorakit sweep` with 1 thread each (on a machine without GPUs, --multi_gpu is how accelerate starts
N local processes). Throughput is measured over the sweep phase (first cell start to last cell end,
from the rows' clocks), so process start and model load, paid once per run, are reported apart.
Target: everything a cell does beyond the pipeline call (probes, export, row), plus the sweep's own
planning, folder checks and table, <= 5 % of sampling time. Prints JSON.
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

import sorakit
from sorakit.sweep import read_table, sweep

PROMPTS = ["a red ball is thrown to the right and bounces twice", "a blue ball rolls to the left"]
TARGET = 0.05


def phase_clips_per_s(table) -> float:
    """Cells over the span from the first cell's start to the last cell's end (any process)."""
    span = float((table["started"] + table["cell_s"]).max() - table["started"].min())
    return len(table) / span


def launched(out: Path, seeds: int, steps: int) -> float:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
               "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port",
               str(port), "-m", "sorakit", "sweep", *PROMPTS, "--seeds", f"0-{seeds - 1}", "--steps", str(steps),
               "--out", str(out), "--quiet"]
    t0 = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=4, help="seeds per prompt (2 prompts)")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2, help="torch threads of the 1-process run")
    args = parser.parse_args()
    pipe = sorakit.load()
    pipe.set_progress_bar_config(disable=True)
    pipe(PROMPTS[0], num_inference_steps=1)  # warm-up
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        one = sweep(pipe, PROMPTS, range(args.seeds), steps=args.steps, out=Path(tmp) / "one", threads=args.threads,
                    progress=False)
        one_wall = time.perf_counter() - t0
        two_wall = launched(Path(tmp) / "two", args.seeds, args.steps)
        two = read_table(Path(tmp) / "two")
    sampling = float(one["sample_s"].sum())
    in_cell = float((one["cell_s"] - one["sample_s"]).sum()) / sampling
    whole = (one_wall - sampling) / sampling
    one_rate, two_rate = phase_clips_per_s(one), phase_clips_per_s(two)
    print(json.dumps({
        "cells": len(one), "steps": args.steps, "frames": int(one["frames"].iloc[0]), "cores": os.cpu_count(),
        "clips_per_s_1_process": round(one_rate, 4), "clips_per_s_2_processes": round(two_rate, 4),
        "speedup_2_over_1": round(two_rate / one_rate, 3),
        "two_process_wall_s_with_start_and_load": round(two_wall, 1),
        "sample_s_median": round(float(one["sample_s"].median()), 3),
        "cell_overhead_beyond_sampling": round(in_cell, 4),
        "sweep_overhead_beyond_sampling": round(whole, 4), "overhead_target": TARGET,
        "same_clips_1_and_2_processes": bool(sorted(one["output_sha256"]) == sorted(two["output_sha256"])),
        "threads": {"1_process": args.threads, "2_processes": 1}, "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
