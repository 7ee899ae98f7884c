"""A model on this CPU (the shipped one, or `--model PATH`): load time, sampling latency at its own clip size,
pipeline overhead, memory, training speed.

Targets (interactive on a laptop): sample <= 3 s per default clip (20 steps, CFG); load <= 5 s; pipeline time
<= 1.05x the transformer forwards it contains; peak RSS of load + sample <= 2 GiB. Prints JSON.
"""
import argparse
import json
import resource
import statistics
import time

import torch

import sorakit

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--model", default=None, help="a model folder (default: the shipped model)")
args = parser.parse_args()
torch.set_num_threads(2)
prompt = "a red ball is thrown to the right and bounces twice"

t0 = time.perf_counter()  # includes importing diffusers/transformers, as a user's first call does
pipe = sorakit.load(args.model)
load_s = time.perf_counter() - t0
pipe.set_progress_bar_config(disable=True)

forward_s = []  # time inside transformer.forward, to separate model time from pipeline overhead
pipe.transformer.register_forward_pre_hook(lambda m, a: forward_s.append(-time.perf_counter()))
pipe.transformer.register_forward_hook(lambda m, a, o: forward_s.__setitem__(-1, forward_s[-1] + time.perf_counter()))

pipe(prompt, num_inference_steps=2)  # warm-up
totals, overheads = [], []
for seed in range(5):
    forward_s.clear()
    t0 = time.perf_counter()
    pipe(prompt, generator=torch.Generator().manual_seed(seed), num_inference_steps=20, guidance_scale=4.0)
    total = time.perf_counter() - t0
    totals.append(total)
    overheads.append(total / sum(forward_s))
peak_rss_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20

# training throughput with the shipped recipe (batch 16, bf16 autocast), a few steps
from sorakit.training import TrainConfig  # noqa: E402  (after the load timing on purpose)
from sorakit.training.loop import training_loss, use_bf16  # noqa: E402

cfg = TrainConfig()
model = pipe.transformer.train()
opt = torch.optim.AdamW(model.parameters(), lr=1e-6)
size = (pipe.config.num_frames, pipe.config.height, pipe.config.width)
video = torch.randn(cfg.batch_size, *pipe.latent_shape(*size))  # what the transformer trains on: pixels or latents
context = pipe.encode_text([prompt] * cfg.batch_size)
step_s, bf16 = [], use_bf16(cfg.bf16, torch.device("cpu"))
for i in range(4):
    t0 = time.perf_counter()
    loss = training_loss(model, video, context, torch.Generator().manual_seed(i), cfg.prefix_prob, bf16)
    opt.zero_grad()
    loss.backward()
    opt.step()
    step_s.append(time.perf_counter() - t0)
train_step = statistics.median(step_s[1:])

median = statistics.median(totals)
print(json.dumps({
    "load_s": round(load_s, 3), "load_target_s": 5.0,
    "sample_s_median": round(median, 3), "sample_s_all": [round(t, 3) for t in totals], "sample_target_s": 3.0,
    "sample_ratio_to_target": round(median / 3.0, 3), "step_ms": round(1000 * median / 20, 1),
    "pipeline_over_forward": round(statistics.median(overheads), 4), "overhead_target": 1.05,
    "peak_rss_gib": round(peak_rss_gib, 3), "rss_target_gib": 2.0,
    "train_step_s": round(train_step, 3), "train_clips_per_s": round(cfg.batch_size / train_step, 2),
    "clip": list(size), "latent": pipe.vae is not None,
    "params_M": round(sum(p.numel() for p in pipe.transformer.parameters()) / 1e6, 3),
}))
