"""Published checkpoints as configs only: plan what `attention.capture` would store on a real model
without downloading it. `attention.estimate` reads nothing but the transformer's config and the VAE's
compression, so a transformer built on the meta device (no memory, no weights) stands in:

    from sorakit import attention
    from sorakit.families import checkpoints
    pipe = checkpoints.meta_pipeline("Wan2.1-T2V-1.3B")
    attention.estimate(pipe, **checkpoints.CHECKPOINTS["Wan2.1-T2V-1.3B"].call, text_tokens=20).nbytes

The configs keep only what sets depth and patching (the rest are diffusers' defaults), taken from each
checkpoint's transformer/config.json; `call` is the model card's usual clip size and step count.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace


@dataclass(frozen=True)
class Checkpoint:
    transformer: str  # diffusers class name
    config: dict
    vae_scale: tuple[int, int]  # (temporal, spatial) compression of the pipeline's VAE
    call: dict = field(default_factory=dict)  # num_frames, height, width, num_inference_steps

    def describe(self) -> str:
        c = self.call
        return f"{c['num_frames']}x{c['height']}x{c['width']}, {c['num_inference_steps']} steps"


def _call(num_frames: int, height: int, width: int, steps: int) -> dict:
    return dict(num_frames=num_frames, height=height, width=width, num_inference_steps=steps)


CHECKPOINTS = {
    "Wan2.1-T2V-1.3B": Checkpoint(
        "WanTransformer3DModel", dict(num_layers=30, num_attention_heads=12, attention_head_dim=128, ffn_dim=8960,
                                      text_dim=4096, patch_size=(1, 2, 2)), (4, 8), _call(81, 480, 832, 50)),
    "CogVideoX-2b": Checkpoint(
        "CogVideoXTransformer3DModel", dict(num_layers=30, num_attention_heads=30, attention_head_dim=64),
        (4, 8), _call(49, 480, 720, 50)),
    "HunyuanVideo": Checkpoint(
        "HunyuanVideoTransformer3DModel", dict(num_layers=20, num_single_layers=40), (4, 8), _call(61, 544, 960, 50)),
    "LTX-Video": Checkpoint("LTXVideoTransformer3DModel", dict(num_layers=28), (8, 32), _call(121, 480, 704, 50)),
    "Mochi-1": Checkpoint("MochiTransformer3DModel", dict(num_layers=48), (6, 8), _call(85, 480, 848, 64)),
}


def meta_pipeline(name: str) -> SimpleNamespace:
    """What `attention.estimate` reads of a pipeline: the checkpoint's transformer on the meta device
    (built in well under a second, no weights) and its VAE's compression."""
    if name not in CHECKPOINTS:
        raise ValueError(f"checkpoint must be one of {sorted(CHECKPOINTS)}, got {name!r}")
    import diffusers
    from accelerate import init_empty_weights

    spec = CHECKPOINTS[name]
    with init_empty_weights():
        transformer = getattr(diffusers, spec.transformer)(**spec.config)
    s_t, s_s = spec.vae_scale
    # vae only needs to exist: attention.estimate takes the compression from the pipeline's attributes
    return SimpleNamespace(transformer=transformer, vae=object(), vae_scale_factor_temporal=s_t,
                           vae_scale_factor_spatial=s_s)
