"""One small adapter per model family: where its attention modules are, how text and video tokens
sit in their attention calls, and how to read a transformer call's latents, timestep and text.

Layouts of the attention call that carries text (token indices inside that call):
  cross       video queries [0, N) attend to text keys [0, L) (padding keys are the model's own)
  text_first  one joint sequence [text L | video N]                      (CogVideoX)
  text_last   one joint sequence [video N | text L], padding masked       (HunyuanVideo, both block kinds)
  per_row     [video N | real text of that row], one call per batch row  (Mochi)
Cross-attention families self-attend in a second module (`self_attention`, layout "self": [video N]).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Family:
    name: str
    classes: tuple[str, ...]  # transformer class names
    blocks: tuple[str, ...]  # transformer attributes holding blocks, in layer order
    attention: str  # block attribute: the attention module that sees text
    layout: str
    inputs: tuple[str, str, str]  # forward parameter names of (latents, timestep, text states), in signature order
    self_attention: str | None = None  # cross families: the block's self-attention module
    latents: str = "BCFHW"  # latent layout of the transformer's hidden_states ("packed": LTX's (B, N, C))

    @property
    def joint(self) -> bool:
        return self.layout != "cross"

    def layers(self, transformer) -> list:
        return [block for name in self.blocks for block in getattr(transformer, name)]

    def read_inputs(self, args, kwargs):
        """(latents, timestep, text states) of a transformer call, wherever they were passed."""
        got = {n: kwargs[n] if n in kwargs else args[i] for i, n in enumerate(self.inputs)
               if n in kwargs or i < len(args)}
        return got.get("hidden_states"), got.get("timestep"), got.get("encoder_hidden_states")

    def latent_grid(self, transformer, latents, kwargs) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
        """((latent frames, height, width), (patch t, h, w)) of a transformer call."""
        if self.latents == "packed":
            shape = (kwargs["num_frames"], kwargs["height"], kwargs["width"])
        elif self.latents == "BFCHW":
            shape = (latents.shape[1], latents.shape[3], latents.shape[4])
        else:
            shape = tuple(latents.shape[2:5])
        return tuple(int(s) for s in shape), patch_of(transformer.config)


def patch_of(config) -> tuple[int, int, int]:
    """(t, h, w) latent patch of a transformer config (Wan: a triple; others: patch_size and patch_size_t)."""
    patch = config.patch_size
    if isinstance(patch, (tuple, list)):
        return tuple(int(p) for p in patch)
    return int(getattr(config, "patch_size_t", None) or 1), int(patch), int(patch)


WAN_INPUTS = ("hidden_states", "timestep", "encoder_hidden_states")
FAMILIES = (
    Family("Wan", ("WanTransformer3DModel", "WanVACETransformer3DModel", "SkyReelsV2Transformer3DModel"),
           ("blocks",), "attn2", "cross", WAN_INPUTS, self_attention="attn1"),
    Family("LTX-Video", ("LTXVideoTransformer3DModel",), ("transformer_blocks",), "attn2", "cross",
           ("hidden_states", "encoder_hidden_states", "timestep"), self_attention="attn1", latents="packed"),
    Family("CogVideoX", ("CogVideoXTransformer3DModel",), ("transformer_blocks",), "attn1", "text_first",
           ("hidden_states", "encoder_hidden_states", "timestep"), latents="BFCHW"),
    Family("HunyuanVideo", ("HunyuanVideoTransformer3DModel",), ("transformer_blocks", "single_transformer_blocks"),
           "attn", "text_last", WAN_INPUTS),
    Family("Mochi", ("MochiTransformer3DModel",), ("transformer_blocks",), "attn1", "per_row",
           ("hidden_states", "encoder_hidden_states", "timestep")),
)
SUPPORTED = ", ".join(c for f in FAMILIES for c in f.classes)

# Pipelines name their VAE's compression differently.
TEMPORAL_SCALE = ("vae_scale_factor_temporal", "vae_temporal_compression_ratio", "vae_temporal_scale_factor")
SPATIAL_SCALE = ("vae_scale_factor_spatial", "vae_spatial_compression_ratio", "vae_spatial_scale_factor")


def family_of(transformer) -> Family | None:
    name = type(transformer).__name__
    return next((f for f in FAMILIES if name in f.classes), None)


def vae_scales(pipe) -> tuple[int, int]:
    """(temporal, spatial) compression from latents to pixels; (1, 1) for a pixel-space model."""
    if getattr(pipe, "vae", None) is None:
        return 1, 1
    pick = lambda names: next((int(getattr(pipe, n)) for n in names if getattr(pipe, n, None)), 1)  # noqa: E731
    return pick(TEMPORAL_SCALE), pick(SPATIAL_SCALE)
