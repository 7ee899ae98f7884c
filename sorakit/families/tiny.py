"""Tiny, untrained versions of every supported diffusers video pipeline, built offline from configs.

Sized like diffusers' own pipeline tests (their `get_dummy_components`), with two offline swaps:
the hub tokenizers become MiniLM's WordPiece tokenizer (installed with sorakit) and the text encoders
tiny T5 / UMT5 / Llama / CLIP models built from configs. Tests, notebooks and benchmarks share them:

    from sorakit.families import tiny
    pipe = tiny.build("cogvideox")
    out = pipe("a red ball", generator=torch.Generator().manual_seed(0), **tiny.CALLS["cogvideox"])

Each builds in well under a second and samples a clip in about a second on one CPU core.
"""
from __future__ import annotations

import torch

TEXT_WIDTH = 32  # the tiny text encoders' width
# Small call sizes every tiny pipeline accepts (frames, pixels, steps, text length).
CALLS = {
    "wan": dict(num_frames=9, height=32, width=32, num_inference_steps=2, max_sequence_length=16),
    "wan2.2": dict(num_frames=9, height=32, width=32, num_inference_steps=4, max_sequence_length=16),
    "wan_vace": dict(num_frames=9, height=32, width=32, num_inference_steps=2, max_sequence_length=16),
    "skyreels_v2": dict(num_frames=9, height=32, width=32, num_inference_steps=2, max_sequence_length=16),
    "ltx": dict(num_frames=9, height=32, width=32, num_inference_steps=2, max_sequence_length=16,
                decode_timestep=0.0, decode_noise_scale=0.0),
    "cogvideox": dict(num_frames=9, height=32, width=32, num_inference_steps=2, max_sequence_length=16),
    # The template's prefix is cropped as HunyuanVideo crops its system prompt: [CLS] describe the video :
    "hunyuan": dict(num_frames=9, height=32, width=32, num_inference_steps=2, max_sequence_length=16,
                    prompt_template={"template": "describe the video: {}", "crop_start": 5}),
    "mochi": dict(num_frames=7, height=32, width=32, num_inference_steps=2, max_sequence_length=16),
}
FAMILIES = tuple(CALLS)


def tokenizer():
    """MiniLM's WordPiece tokenizer, from its local package."""
    from transformers import AutoTokenizer

    from ..model import text_encoder_path

    return AutoTokenizer.from_pretrained(text_encoder_path())


def t5(umt5: bool = False, vocab: int = 30522):
    from transformers import T5Config, T5EncoderModel, UMT5Config, UMT5EncoderModel

    cls, config = (UMT5EncoderModel, UMT5Config) if umt5 else (T5EncoderModel, T5Config)
    return cls(config(vocab_size=vocab, d_model=TEXT_WIDTH, d_kv=8, d_ff=64, num_layers=1, num_heads=4)).eval()


def _wan_vae():
    from diffusers import AutoencoderKLWan

    return AutoencoderKLWan(base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                            temperal_downsample=[False, True, True]).eval()


WAN_TRANSFORMER = dict(patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, in_channels=16,
                       out_channels=16, text_dim=TEXT_WIDTH, freq_dim=256, ffn_dim=32, num_layers=2,
                       cross_attn_norm=True, qk_norm="rms_norm_across_heads", rope_max_seq_len=32)


def wan(two_stage: bool = False):
    """WanPipeline (Wan 2.1); two_stage: Wan 2.2's transformer + transformer_2 split at boundary_ratio 0.5."""
    from diffusers import FlowMatchEulerDiscreteScheduler, WanPipeline, WanTransformer3DModel

    tok = tokenizer()
    return WanPipeline(tokenizer=tok, text_encoder=t5(True, tok.vocab_size), vae=_wan_vae(),
                       transformer=WanTransformer3DModel(**WAN_TRANSFORMER).eval(),
                       transformer_2=WanTransformer3DModel(**WAN_TRANSFORMER).eval() if two_stage else None,
                       boundary_ratio=0.5 if two_stage else None,
                       scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0))


def wan_vace():
    from diffusers import FlowMatchEulerDiscreteScheduler, WanVACEPipeline, WanVACETransformer3DModel

    tok = tokenizer()
    transformer = WanVACETransformer3DModel(**{**WAN_TRANSFORMER, "num_layers": 3}, vace_layers=[0, 2],
                                            vace_in_channels=96)
    return WanVACEPipeline(tokenizer=tok, text_encoder=t5(True, tok.vocab_size), vae=_wan_vae(),
                           transformer=transformer.eval(), scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0))


def skyreels_v2():
    from diffusers import SkyReelsV2Pipeline, SkyReelsV2Transformer3DModel, UniPCMultistepScheduler

    tok = tokenizer()
    return SkyReelsV2Pipeline(tokenizer=tok, text_encoder=t5(True, tok.vocab_size), vae=_wan_vae(),
                              transformer=SkyReelsV2Transformer3DModel(**WAN_TRANSFORMER).eval(),
                              scheduler=UniPCMultistepScheduler(prediction_type="flow_prediction",
                                                                use_flow_sigmas=True, flow_shift=8.0))


def ltx():
    from diffusers import (
        AutoencoderKLLTXVideo,
        FlowMatchEulerDiscreteScheduler,
        LTXPipeline,
        LTXVideoTransformer3DModel,
    )

    tok = tokenizer()
    transformer = LTXVideoTransformer3DModel(in_channels=8, out_channels=8, patch_size=1, patch_size_t=1,
                                             num_attention_heads=2, attention_head_dim=8, cross_attention_dim=16,
                                             num_layers=2, caption_channels=TEXT_WIDTH)
    vae = AutoencoderKLLTXVideo(in_channels=3, out_channels=3, latent_channels=8, block_out_channels=(8, 8, 8, 8),
                                decoder_block_out_channels=(8, 8, 8, 8), layers_per_block=(1, 1, 1, 1, 1),
                                decoder_layers_per_block=(1, 1, 1, 1, 1),
                                spatio_temporal_scaling=(True, True, False, False),
                                decoder_spatio_temporal_scaling=(True, True, False, False),
                                decoder_inject_noise=(False, False, False, False, False),
                                upsample_residual=(False, False, False, False), upsample_factor=(1, 1, 1, 1),
                                timestep_conditioning=False, patch_size=1, patch_size_t=1,
                                encoder_causal=True, decoder_causal=False)
    vae.use_framewise_encoding = vae.use_framewise_decoding = False
    return LTXPipeline(scheduler=FlowMatchEulerDiscreteScheduler(), vae=vae.eval(),
                       text_encoder=t5(vocab=tok.vocab_size), tokenizer=tok, transformer=transformer.eval())


def cogvideox():
    from diffusers import AutoencoderKLCogVideoX, CogVideoXDDIMScheduler, CogVideoXPipeline, CogVideoXTransformer3DModel

    tok = tokenizer()
    transformer = CogVideoXTransformer3DModel(num_attention_heads=2, attention_head_dim=8, in_channels=4,
                                              out_channels=4, time_embed_dim=2, text_embed_dim=TEXT_WIDTH,
                                              num_layers=2, sample_width=4, sample_height=4, sample_frames=9,
                                              patch_size=2, temporal_compression_ratio=4, max_text_seq_length=16)
    vae = AutoencoderKLCogVideoX(in_channels=3, out_channels=3, down_block_types=("CogVideoXDownBlock3D",) * 4,
                                 up_block_types=("CogVideoXUpBlock3D",) * 4, block_out_channels=(8, 8, 8, 8),
                                 latent_channels=4, layers_per_block=1, norm_num_groups=2, temporal_compression_ratio=4)
    return CogVideoXPipeline(tokenizer=tok, text_encoder=t5(vocab=tok.vocab_size), vae=vae.eval(),
                             transformer=transformer.eval(), scheduler=CogVideoXDDIMScheduler())


def hunyuan():
    from diffusers import (
        AutoencoderKLHunyuanVideo,
        FlowMatchEulerDiscreteScheduler,
        HunyuanVideoPipeline,
        HunyuanVideoTransformer3DModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, LlamaConfig, LlamaModel

    tok = tokenizer()
    transformer = HunyuanVideoTransformer3DModel(in_channels=4, out_channels=4, num_attention_heads=2,
                                                 attention_head_dim=10, num_layers=1, num_single_layers=1,
                                                 num_refiner_layers=1, patch_size=1, patch_size_t=1,
                                                 guidance_embeds=True, text_embed_dim=16, pooled_projection_dim=8,
                                                 rope_axes_dim=(2, 4, 4))
    vae = AutoencoderKLHunyuanVideo(in_channels=3, out_channels=3, latent_channels=4,
                                    down_block_types=("HunyuanVideoDownBlock3D",) * 4,
                                    up_block_types=("HunyuanVideoUpBlock3D",) * 4, block_out_channels=(8, 8, 8, 8),
                                    layers_per_block=1, act_fn="silu", norm_num_groups=4, scaling_factor=0.476986,
                                    spatial_compression_ratio=8, temporal_compression_ratio=4,
                                    mid_block_add_attention=True)
    llama = LlamaModel(LlamaConfig(vocab_size=tok.vocab_size, hidden_size=16, intermediate_size=37,
                                   num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=4,
                                   max_position_embeddings=128, pad_token_id=0))
    clip = CLIPTextModel(CLIPTextConfig(vocab_size=tok.vocab_size, hidden_size=8, intermediate_size=37,
                                        num_hidden_layers=2, num_attention_heads=4, projection_dim=8,
                                        max_position_embeddings=77, bos_token_id=tok.cls_token_id,
                                        eos_token_id=tok.sep_token_id, pad_token_id=tok.pad_token_id))
    return HunyuanVideoPipeline(text_encoder=llama.eval(), tokenizer=tok, transformer=transformer.eval(),
                                vae=vae.eval(), scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0),
                                text_encoder_2=clip.eval(), tokenizer_2=tokenizer())


def mochi():
    from diffusers import AutoencoderKLMochi, FlowMatchEulerDiscreteScheduler, MochiPipeline, MochiTransformer3DModel

    tok = tokenizer()
    transformer = MochiTransformer3DModel(patch_size=2, num_attention_heads=2, attention_head_dim=8, num_layers=2,
                                          pooled_projection_dim=16, in_channels=12, out_channels=None,
                                          qk_norm="rms_norm", text_embed_dim=TEXT_WIDTH, time_embed_dim=4,
                                          activation_fn="swiglu", max_sequence_length=16)
    vae = AutoencoderKLMochi(latent_channels=12, out_channels=3, encoder_block_out_channels=(32, 32, 32, 32),
                             decoder_block_out_channels=(32, 32, 32, 32), layers_per_block=(1, 1, 1, 1, 1))
    return MochiPipeline(scheduler=FlowMatchEulerDiscreteScheduler(), vae=vae.eval(),
                         text_encoder=t5(vocab=tok.vocab_size), tokenizer=tok, transformer=transformer.eval())


BUILDERS = {"wan": wan, "wan2.2": lambda: wan(two_stage=True), "wan_vace": wan_vace, "skyreels_v2": skyreels_v2,
            "ltx": ltx, "cogvideox": cogvideox, "hunyuan": hunyuan, "mochi": mochi}


def build(family: str, seed: int = 0):
    """A tiny pipeline of `family` (one of FAMILIES), weights drawn from `seed`, progress bars off."""
    if family not in BUILDERS:
        raise ValueError(f"family must be one of {FAMILIES}, got {family!r}")
    torch.manual_seed(seed)
    pipe = BUILDERS[family]()
    pipe.set_progress_bar_config(disable=True)
    return pipe
