"""Time to sample one default clip (20 steps, CFG) with the shipped model on 2 threads.

Target (issue 3): <= 3 s per clip on a 2-core CPU. Prints JSON.
"""
import json
import statistics
import time

import torch

import sorakit

torch.set_num_threads(2)
t0 = time.perf_counter()
pipe = sorakit.load()
load_s = time.perf_counter() - t0
pipe.set_progress_bar_config(disable=True)
prompt = "a red ball is thrown to the right and bounces twice"
pipe(prompt, num_inference_steps=2)  # warm-up
times = []
for seed in range(5):
    t0 = time.perf_counter()
    pipe(prompt, generator=torch.Generator().manual_seed(seed), num_inference_steps=20, guidance_scale=4.0)
    times.append(time.perf_counter() - t0)
median = statistics.median(times)
print(json.dumps({"load_s": round(load_s, 3), "sample_s_median": round(median, 3),
                  "sample_s_all": [round(t, 3) for t in times], "target_s": 3.0,
                  "ratio_to_target": round(median / 3.0, 3),
                  "params_M": round(sum(p.numel() for p in pipe.transformer.parameters()) / 1e6, 3)}))
