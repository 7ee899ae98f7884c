"""The learned soundtrack on generated clips, scored against the contacts visible in each clip.

Clip k is the video model's answer to the caption of unseen world seed EVAL_SEEDS + k (generator seed
k, the sampler's default settings otherwise); `add_sound` gives it a soundtrack, and `probes.av_sync`'s
reference, the kinematic breakpoints of its own tracks, says when something visibly hit something.
The same is done for the true soundtrack of the world clip with that seed against *its* own video:
what a perfect soundtrack scores against this reference (its ceiling), beside what it scores against
the simulator's heard onsets.

    sorakit eval sound --generated --n 64          # the shipped video model, as a table
    sorakit eval sound --generated runs/x --json   # a trained model folder, every number as JSON
"""
from __future__ import annotations

import numpy as np
from tqdm.auto import tqdm

from .. import probes, world
from ..identity import model_identity
from ..probes.av_sync import OnsetMatch, match_onsets, pool_onsets
from ..probes.inputs import as_fps
from .sound import EVAL_SEEDS


def _clip_json(m: OnsetMatch) -> dict:
    """One clip's contact and onset times, how many match, the offsets (s), as the per-clip JSON holds them."""
    return {"contacts": [round(float(t), 4) for t in m.reference], "onsets": [round(float(t), 4) for t in m.onsets],
            "matched": m.matched, "offsets": [float(x) for x in m.offsets]}


def pooled(clips: list[OnsetMatch]) -> dict:
    """Counts, precision / recall / F1 over every clip's contacts and onsets together, the mean of the
    clips' own F1 (clips with neither contacts nor onsets have none and are left out), median offset."""
    p = pool_onsets(clips)
    rnd = lambda x: None if x is None else round(float(x), 3)  # noqa: E731
    return {"contacts": p["reference"], "onsets": p["onsets"], "matched": p["matched"],
            "precision": rnd(p["precision"]), "recall": rnd(p["recall"]), "f1": rnd(p["f1"]),
            "mean_f1": rnd(p["mean_f1"]), "clips_scored": p["clips_scored"],
            "median_offset_ms": None if p["median_offset"] is None else round(1000 * p["median_offset"], 1)}


def generate(pipe, caption: str, index: int, steps: int | None) -> np.ndarray:
    """(F, H, W, 3) in [0, 1]: clip `index` of the measure (generator seed = index)."""
    import torch

    kwargs = {} if steps is None else {"num_inference_steps": steps}
    return np.asarray(pipe(caption, generator=torch.Generator().manual_seed(index), output_type="np",
                           **kwargs).frames[0], np.float32)


def evaluate_generated_sound(pipe, n: int = 64, start_seed: int = EVAL_SEEDS, steps: int | None = None,
                             keep_videos: bool = False) -> dict:
    """Generate n clips from the captions of seeds start_seed.., give each add_sound, score both it and
    the matching world clip's true soundtrack against visible contacts. Returns every number and, per
    clip, the contact and onset times (with keep_videos, the generated frames and soundtracks too)."""
    from ..sound import add_sound

    config = getattr(pipe, "config", None) or {}
    fps = as_fps(config.get("fps"))
    # The world clip of each seed at the model's own size and length: its caption is the prompt, so the
    # true clip and the generated one are of the same scene.
    size = {k: config[k] for k in ("height", "width", "num_frames") if config.get(k)}
    learned, ceiling, heard, details, videos = [], [], [], [], []
    for k in tqdm(range(n), desc="generated clips", leave=False):
        truth = world.sample(start_seed + k, fps=fps, **size)
        caption = truth.caption
        video = generate(pipe, caption, k, steps)
        audio, sr = add_sound(video, fps)
        ctx = probes.prepare(video, fps)
        learned.append(match_onsets(probes.visible_contacts(ctx), probes.audio_onsets(audio, sr)))
        truth_ctx = probes.prepare(truth.video, fps)
        ceiling.append(match_onsets(probes.visible_contacts(truth_ctx),
                                    probes.audio_onsets(truth.audio, truth.sample_rate)))
        true_clip = _clip_json(ceiling[-1])
        # the true sound vs the simulator (its onsets as the per-clip JSON rounds them)
        heard.append(match_onsets(truth.onsets, np.array(true_clip["onsets"])))
        details.append({"seed": start_seed + k, "caption": caption, "tracks": sorted(ctx.tracks),
                        "generated": _clip_json(learned[-1]),
                        "true_clip": {**true_clip, "simulator_onsets": _clip_json(heard[-1])["contacts"]}})
        if keep_videos:
            videos.append((video, audio))
    return {
        "clips": n, "seeds": [start_seed, start_seed + n - 1], "steps": steps, "fps": fps,
        "size": f"{video.shape[1]}x{video.shape[2]}", "frames": len(video),
        "model": model_identity(pipe)[0],
        "learned_vs_visible": pooled(learned), "true_vs_visible": pooled(ceiling), "true_vs_simulator": pooled(heard),
        "half_frame_ms": round(500 / fps, 1), "per_clip": details, **({"videos": videos} if keep_videos else {}),
    }
