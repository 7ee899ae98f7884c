"""SpacetimePipeline: text (and optional leading frames) to video with a spacetime DiT.

A diffusers DiffusionPipeline: MiniLM text states condition a WanTransformer3DModel that denoises
pixels by rectified flow, sampled with FlowMatchEulerDiscreteScheduler and batched CFG.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from diffusers import DiffusionPipeline, FlowMatchEulerDiscreteScheduler, WanTransformer3DModel
from diffusers.utils import BaseOutput, logging
from diffusers.utils.torch_utils import randn_tensor
from diffusers.video_processor import VideoProcessor

from .flow import velocity_from_x0
from .model import TEXT_LAYERS, VIDEO_CHANNELS, condition_input

logger = logging.get_logger(__name__)

MAX_TOKENS = 16384  # video tokens per clip; beyond this a CPU sample takes minutes and GBs
MAX_PROMPT_CHARS = 500


@dataclass
class SpacetimePipelineOutput(BaseOutput):
    """frames: np.ndarray (B, F, H, W, 3) in [0, 1] for output_type="np"; (B, F, 3, H, W) tensor for "pt";
    lists of PIL images for "pil"."""

    frames: np.ndarray | torch.Tensor | list


class SpacetimePipeline(DiffusionPipeline):
    model_cpu_offload_seq = "text_encoder->transformer"
    _optional_components = ["vae"]
    _callback_tensor_inputs = ["latents", "prompt_embeds", "negative_prompt_embeds"]

    def __init__(self, tokenizer, text_encoder, transformer: WanTransformer3DModel,
                 scheduler: FlowMatchEulerDiscreteScheduler, vae=None,
                 num_frames: int = 16, height: int = 32, width: int = 32, fps: float = 8.0,
                 max_text_tokens: int = 32, text_layers: tuple[int, ...] = TEXT_LAYERS):
        super().__init__()
        text_layers = tuple(int(i) for i in text_layers)
        text_width = text_encoder.config.hidden_size * len(text_layers)
        if transformer.config.text_dim != text_width:
            raise ValueError(f"the transformer reads {transformer.config.text_dim}-d text states, but text_layers="
                             f"{text_layers} give {text_width} ({len(text_layers)} x {text_encoder.config.hidden_size})")
        self.register_modules(tokenizer=tokenizer, text_encoder=text_encoder, transformer=transformer,
                              scheduler=scheduler, vae=vae)
        self.register_to_config(num_frames=num_frames, height=height, width=width, fps=fps,
                                max_text_tokens=max_text_tokens, text_layers=text_layers)
        self.video_processor = VideoProcessor(do_resize=False)

    # --- text -------------------------------------------------------------------------------------
    @torch.no_grad()
    def encode_prompt(self, prompt: str | list[str], device=None) -> torch.Tensor:
        """MiniLM token states of `text_layers`, concatenated: (B, max_text_tokens, 384 x layers);
        padding positions zeroed as Wan does."""
        prompt = [prompt] if isinstance(prompt, str) else list(prompt)
        tokens = self.tokenizer(prompt, padding="max_length", max_length=self.config.max_text_tokens,
                                truncation=True, return_tensors="pt")
        if any(len(ids) > self.config.max_text_tokens for ids in self.tokenizer(prompt).input_ids):
            logger.warning(f"prompt truncated to {self.config.max_text_tokens} tokens")
        device = device or self.text_encoder.device
        mask = tokens.attention_mask.to(device)
        output = self.text_encoder(input_ids=tokens.input_ids.to(device), attention_mask=mask, output_hidden_states=True)
        states = self.select_text_states(output)
        return states * mask[..., None].to(states.dtype)

    def select_text_states(self, encoder_output) -> torch.Tensor:
        """The transformer's text input from a MiniLM output (run with output_hidden_states=True):
        the `text_layers` side by side. Shared with attention.capture, which matches prompts by it."""
        return torch.cat([encoder_output.hidden_states[i] for i in self.config.text_layers], dim=-1)

    # --- validation -------------------------------------------------------------------------------
    def check_inputs(self, prompt, negative_prompt, frames, num_frames, height, width, num_inference_steps,
                     guidance_scale, num_videos_per_prompt, output_type, callback_on_step_end_tensor_inputs):
        prompts = [prompt] if isinstance(prompt, str) else prompt
        if not isinstance(prompts, (list, tuple)) or not prompts or not all(isinstance(p, str) for p in prompts):
            raise ValueError("prompt must be a non-empty string or a non-empty list of strings")
        for p in prompts:
            if not p.strip():
                raise ValueError("prompt must not be empty: describe the clip, e.g. 'a red ball bounces'")
            if len(p) > MAX_PROMPT_CHARS:
                raise ValueError(f"prompt is {len(p)} characters; at most {MAX_PROMPT_CHARS} are allowed")
        if negative_prompt is not None:
            negs = [negative_prompt] if isinstance(negative_prompt, str) else negative_prompt
            if not isinstance(negs, (list, tuple)) or len(negs) not in (1, len(prompts)):
                raise ValueError("negative_prompt must be a string or a list as long as prompt")
        _, ph, pw = self.transformer.config.patch_size
        for name, v, step, top in (("height", height, ph, 512), ("width", width, pw, 512), ("num_frames", num_frames, 1, 128)):
            if not isinstance(v, (int, np.integer)) or v < step or v % step or v > top:
                raise ValueError(f"{name} must be a multiple of {step} between {step} and {top}, got {v!r}")
        tokens = num_frames * (height // ph) * (width // pw)
        if tokens > MAX_TOKENS:
            raise ValueError(f"{num_frames}x{height}x{width} makes {tokens} video tokens; at most {MAX_TOKENS} "
                             f"fit this CPU pipeline (the model was trained at "
                             f"{self.config.num_frames}x{self.config.height}x{self.config.width})")
        if not isinstance(num_inference_steps, (int, np.integer)) or not 1 <= num_inference_steps <= 1000:
            raise ValueError(f"num_inference_steps must be an integer in [1, 1000], got {num_inference_steps!r}")
        if not np.isfinite(guidance_scale) or not 0 <= guidance_scale <= 50:
            raise ValueError(f"guidance_scale must be in [0, 50], got {guidance_scale!r}")
        if not isinstance(num_videos_per_prompt, (int, np.integer)) or not 1 <= num_videos_per_prompt <= 64:
            raise ValueError(f"num_videos_per_prompt must be an integer in [1, 64], got {num_videos_per_prompt!r}")
        if output_type not in ("np", "pt", "pil", "latent"):
            raise ValueError(f"output_type must be one of 'np', 'pt', 'pil', 'latent', got {output_type!r}")
        bad = [k for k in callback_on_step_end_tensor_inputs or [] if k not in self._callback_tensor_inputs]
        if bad:
            raise ValueError(f"callback_on_step_end_tensor_inputs {bad} not in {self._callback_tensor_inputs}")
        if frames is not None:
            given = self._frames_tensor(frames, num_frames, height, width)
            if given.ndim == 5 and given.shape[0] != len(prompts):
                raise ValueError(f"frames with a batch axis need one clip per prompt: got {given.shape[0]} clips "
                                 f"for {len(prompts)} prompt(s)")

    @staticmethod
    def _frames_tensor(frames, num_frames, height, width) -> torch.Tensor:
        """Given leading frames (F0, H, W, 3) in [0, 1] -> (3, F0, H, W) in [-1, 1]; validated.

        (P, F0, H, W, 3), one clip per prompt, -> (P, 3, F0, H, W)."""
        arr = frames.detach().cpu().numpy() if isinstance(frames, torch.Tensor) else np.asarray(frames)
        if arr.dtype == np.uint8:
            arr = arr.astype(np.float32) / 255
        if arr.ndim == 3:
            arr = arr[None]
        if arr.ndim not in (4, 5) or arr.shape[-3:] != (height, width, 3):
            raise ValueError(f"frames must have shape (F0, {height}, {width}, 3) (or one (H, W, 3) image, or "
                             f"(P, F0, {height}, {width}, 3) with one clip per prompt), got {tuple(np.shape(frames))}")
        if not 1 <= arr.shape[-4] < num_frames:
            raise ValueError(f"frames must hold between 1 and {num_frames - 1} leading frames, got {arr.shape[-4]}")
        if not np.issubdtype(arr.dtype, np.floating) or not np.isfinite(arr).all() or arr.min() < 0 or arr.max() > 1:
            raise ValueError("frames must be uint8 or finite floats in [0, 1]")
        return torch.from_numpy(np.ascontiguousarray(np.moveaxis(arr, -1, -4), np.float32)) * 2 - 1

    # --- sampling ---------------------------------------------------------------------------------
    def prepare_condition(self, frames, batch, num_frames, height, width, device, dtype):
        known = torch.zeros(batch, VIDEO_CHANNELS, num_frames, height, width, device=device, dtype=dtype)
        mask = torch.zeros(batch, 1, num_frames, 1, 1, device=device, dtype=dtype)
        if frames is not None:
            given = self._frames_tensor(frames, num_frames, height, width).to(device, dtype)
            if given.ndim == 5:  # one clip per prompt, repeated for its num_videos_per_prompt videos
                given = given.repeat_interleave(batch // given.shape[0], dim=0)
            known[:, :, : given.shape[-3]] = given
            mask[:, :, : given.shape[-3]] = 1
        return known, mask

    def predict_x0(self, latents, known, mask, t, prompt_embeds, negative_prompt_embeds, guidance_scale):
        """One transformer call; the CFG branches share a batch: [unconditional..., conditional...]."""
        do_cfg = guidance_scale > 1
        x = condition_input(latents, known, mask)
        context = prompt_embeds
        if do_cfg:
            x, context = torch.cat([x, x]), torch.cat([negative_prompt_embeds, prompt_embeds])
        timestep = t.expand(x.shape[0]).to(x.dtype)
        x0 = self.transformer(x, timestep, context, return_dict=False)[0]
        if do_cfg:
            uncond, cond = x0.chunk(2)
            x0 = uncond + guidance_scale * (cond - uncond)
        return x0

    @property
    def num_timesteps(self):
        return self._num_timesteps

    @torch.no_grad()
    def __call__(
        self,
        prompt: str | list[str],
        negative_prompt: str | list[str] | None = None,
        frames: np.ndarray | torch.Tensor | None = None,
        num_frames: int | None = None,
        height: int | None = None,
        width: int | None = None,
        num_inference_steps: int = 20,
        guidance_scale: float = 4.0,
        num_videos_per_prompt: int = 1,
        generator: torch.Generator | list[torch.Generator] | None = None,
        latents: torch.Tensor | None = None,
        output_type: str = "np",
        return_dict: bool = True,
        callback_on_step_end: Callable | None = None,
        callback_on_step_end_tensor_inputs: list[str] | None = None,
    ):
        # 1. Check inputs
        num_frames = self.config.num_frames if num_frames is None else num_frames
        height = self.config.height if height is None else height
        width = self.config.width if width is None else width
        callback_on_step_end_tensor_inputs = callback_on_step_end_tensor_inputs or ["latents"]
        self.check_inputs(prompt, negative_prompt, frames, num_frames, height, width, num_inference_steps,
                          guidance_scale, num_videos_per_prompt, output_type, callback_on_step_end_tensor_inputs)
        self._guidance_scale = guidance_scale
        device, dtype = self._execution_device, self.transformer.dtype

        # 2. Encode the prompt; the negative prompt defaults to "" (the dropped-text condition of training)
        prompts = [prompt] if isinstance(prompt, str) else list(prompt)
        prompts = [p for p in prompts for _ in range(num_videos_per_prompt)]
        batch = len(prompts)
        prompt_embeds = self.encode_prompt(prompts, device).to(dtype)
        negative_prompt_embeds = None
        if guidance_scale > 1:
            negs = negative_prompt or ""
            negs = [negs] * len(prompts) if isinstance(negs, str) else [n for n in negs for _ in range(num_videos_per_prompt)]
            negative_prompt_embeds = self.encode_prompt(negs, device).to(dtype)

        # 3. Timesteps
        self.scheduler.set_timesteps(num_inference_steps, device=device)
        timesteps = self.scheduler.timesteps
        self._num_timesteps = len(timesteps)

        # 4. Initial noise and the conditioning frames
        shape = (batch, VIDEO_CHANNELS, num_frames, height, width)
        if latents is None:
            latents = randn_tensor(shape, generator=generator, device=device, dtype=torch.float32)
        elif tuple(latents.shape) != shape:
            raise ValueError(f"latents must have shape {shape}, got {tuple(latents.shape)}")
        known, mask = self.prepare_condition(frames, batch, num_frames, height, width, device, torch.float32)

        # 5. Denoising loop
        with self.progress_bar(total=num_inference_steps) as progress_bar:
            for i, t in enumerate(timesteps):
                sigma = self.scheduler.sigmas[i]
                x0 = self.predict_x0(latents.to(dtype), known.to(dtype), mask, t, prompt_embeds,
                                     negative_prompt_embeds, guidance_scale).float()
                velocity = velocity_from_x0(latents, x0, sigma.reshape(1).expand(batch), min_t=1e-6)
                latents = self.scheduler.step(velocity, t, latents, return_dict=False)[0]
                if callback_on_step_end is not None:
                    local = {"latents": latents, "prompt_embeds": prompt_embeds,
                             "negative_prompt_embeds": negative_prompt_embeds}
                    outputs = callback_on_step_end(self, i, t, {k: local[k] for k in callback_on_step_end_tensor_inputs})
                    latents = (outputs or {}).get("latents", latents)
                progress_bar.update()

        # 6. Paste the given frames back (exact conditioning) and post-process
        latents = torch.where(mask.bool().expand_as(latents), known, latents)
        if output_type == "latent":
            video = latents
        else:
            video = self.video_processor.postprocess_video(latents.clamp(-1, 1), output_type=output_type)
        self.maybe_free_model_hooks()
        if not return_dict:
            return (video,)
        return SpacetimePipelineOutput(frames=video)
