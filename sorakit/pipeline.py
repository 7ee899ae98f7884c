"""SpacetimePipeline: text (and optional leading frames) to video with a spacetime DiT.

A diffusers DiffusionPipeline: MiniLM text states condition a WanTransformer3DModel that denoises
pixels, or with a `vae` the per-frame autoencoder's latents (as WanPipeline does), by rectified flow,
sampled with FlowMatchEulerDiscreteScheduler and batched CFG. Given a source `video` and a `strength`, it
remixes the clip (SDEdit, as diffusers' video-to-video pipelines do): the clip's latents are noised to
the level where the last `strength` fraction of the schedule begins, and only that fraction runs. It follows
WanPipeline's interface: prompt_embeds, encode_prompt, the sampling-state properties, callbacks that
may replace latents and embeddings, optional components and model CPU offload.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from diffusers import DiffusionPipeline, FlowMatchEulerDiscreteScheduler, WanTransformer3DModel
from diffusers.callbacks import MultiPipelineCallbacks, PipelineCallback
from diffusers.utils import BaseOutput, logging
from diffusers.utils.torch_utils import randn_tensor
from diffusers.video_processor import VideoProcessor

from .autoencoder import decode_latents, encode_video, spatial_compression
from .flow import velocity_from_x0
from .limits import LIMITS
from .model import TEXT_LAYERS, VIDEO_CHANNELS, condition_input
from .pipeline_checks import InputChecks

logger = logging.get_logger(__name__)

# Older names, kept importable; the limits themselves live in sorakit.limits.
MAX_TOKENS = LIMITS.video_tokens
MAX_PROMPT_CHARS = LIMITS.prompt_chars
DEFAULT_STRENGTH = 0.8  # with a source video and no strength, as diffusers' WanVideoToVideoPipeline


@dataclass
class SpacetimePipelineOutput(BaseOutput):
    """frames: np.ndarray (B, F, H, W, 3) in [0, 1] for output_type="np"; (B, F, 3, H, W) tensor for "pt";
    lists of PIL images for "pil". audio: with `audio=True`, float32 (B, samples, 2) in [-1, 1], one
    soundtrack per video lasting num_frames / fps at `sample_rate` Hz (as LTX2PipelineOutput carries
    audio beside frames); None otherwise."""

    frames: np.ndarray | torch.Tensor | list
    audio: np.ndarray | None = None
    sample_rate: int | None = None


class SpacetimePipeline(InputChecks, DiffusionPipeline):
    # vae is named for when one is added; diffusers skips components that are None.
    model_cpu_offload_seq = "text_encoder->transformer->vae"
    # Any model may be left out, as in WanPipeline: encode prompts, free the text encoder, then sample.
    _optional_components = ["tokenizer", "text_encoder", "transformer", "vae"]
    _callback_tensor_inputs = ["latents", "prompt_embeds", "negative_prompt_embeds"]

    def __init__(self, tokenizer, text_encoder, transformer: WanTransformer3DModel | None,
                 scheduler: FlowMatchEulerDiscreteScheduler, vae=None,
                 num_frames: int = 16, height: int = 32, width: int = 32, fps: float = 8.0,
                 max_text_tokens: int = 32, text_layers: tuple[int, ...] = TEXT_LAYERS):
        super().__init__()
        text_layers = tuple(int(i) for i in text_layers)
        self.register_modules(tokenizer=tokenizer, text_encoder=text_encoder, transformer=transformer,
                              scheduler=scheduler, vae=vae)
        self.register_to_config(num_frames=num_frames, height=height, width=width, fps=fps,
                                max_text_tokens=max_text_tokens, text_layers=text_layers)
        self.check_text_width()
        self.video_processor = VideoProcessor(do_resize=False)
        # Sampling state that callbacks and tools read through the properties below.
        self._guidance_scale, self._attention_kwargs, self._num_timesteps = None, None, None
        self._current_timestep, self._interrupt = None, False

    def check_text_width(self) -> None:
        """The transformer reads text states of one width; this encoder's `text_layers` must give it."""
        if self.text_encoder is None or self.transformer is None:
            return
        layers = self.config.text_layers
        width = self.text_encoder.config.hidden_size * len(layers)
        if self.transformer.config.text_dim != width:
            raise ValueError(f"the transformer reads {self.transformer.config.text_dim}-d text states, but text_layers="
                             f"{layers} give {width} ({len(layers)} x {self.text_encoder.config.hidden_size})")

    # --- sampling state, as WanPipeline exposes it -------------------------------------------------
    @property
    def guidance_scale(self):
        return self._guidance_scale

    @property
    def do_classifier_free_guidance(self) -> bool:
        return self._guidance_scale is not None and self._guidance_scale > 1.0

    @property
    def num_timesteps(self):
        return self._num_timesteps

    @property
    def current_timestep(self):
        return self._current_timestep

    @property
    def interrupt(self) -> bool:
        return self._interrupt

    @property
    def attention_kwargs(self):
        return self._attention_kwargs

    # --- text -------------------------------------------------------------------------------------
    @torch.no_grad()
    def encode_text(self, prompts: str | list[str], device=None) -> torch.Tensor:
        """What the transformer reads for each prompt: (B, max_text_tokens, 384 x len(text_layers)),
        MiniLM token states of `text_layers` side by side, padding positions zeroed as Wan does.

        One tensor, one row per prompt; training, probes and evaluations call this directly.
        """
        if self.text_encoder is None or self.tokenizer is None:
            raise ValueError("this pipeline has no text encoder (it was loaded with text_encoder=None): pass "
                             "prompt_embeds made by encode_prompt or encode_text before the encoder was freed")
        prompts = [prompts] if isinstance(prompts, str) else list(prompts)
        tokens = self.tokenizer(prompts, padding="max_length", max_length=self.config.max_text_tokens,
                                truncation=True, return_tensors="pt")
        self._warn_if_truncated(prompts)
        encoder_device = self.text_encoder.device  # under CPU offload its hook moves inputs on
        output = self.text_encoder(input_ids=tokens.input_ids.to(encoder_device),
                                   attention_mask=tokens.attention_mask.to(encoder_device), output_hidden_states=True)
        states = self.select_text_states(output)
        states = states * tokens.attention_mask[..., None].to(states.device, states.dtype)
        return states if device is None else states.to(device)

    def _warn_if_truncated(self, prompts: list[str]) -> None:
        limit = self.config.max_text_tokens
        if any(len(ids) > limit for ids in self.tokenizer(prompts).input_ids):
            logger.warning(f"prompt truncated to {limit} tokens")

    def select_text_states(self, encoder_output) -> torch.Tensor:
        """The transformer's text input from a MiniLM output (run with output_hidden_states=True):
        the `text_layers` side by side. Shared with attention.capture, which matches prompts by it."""
        return torch.cat([encoder_output.hidden_states[i] for i in self.config.text_layers], dim=-1)

    def encode_prompt(self, prompt: str | list[str] | None, negative_prompt: str | list[str] | None = None,
                      do_classifier_free_guidance: bool = True, num_videos_per_prompt: int = 1,
                      prompt_embeds: torch.Tensor | None = None, negative_prompt_embeds: torch.Tensor | None = None,
                      device=None, dtype=None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(prompt_embeds, negative_prompt_embeds), one row per video, as WanPipeline.encode_prompt returns.

        Given embeddings hold one row per prompt and are repeated per video like computed ones. The
        negative prompt defaults to "", the dropped-text condition of training; without guidance and
        without given negative embeddings the second item is None.
        """
        device = device or self._execution_device
        if prompt_embeds is None:
            prompt_embeds = self.encode_text(prompt)
        if do_classifier_free_guidance and negative_prompt_embeds is None:
            negative_prompt_embeds = self.encode_text(self._negative_prompts(negative_prompt, len(prompt_embeds)))
        return (self._per_video(prompt_embeds, num_videos_per_prompt, device, dtype),
                self._per_video(negative_prompt_embeds, num_videos_per_prompt, device, dtype))

    @staticmethod
    def _negative_prompts(negative_prompt, batch: int) -> list[str]:
        negative = negative_prompt or ""
        negative = [negative] if isinstance(negative, str) else list(negative)
        if len(negative) not in (1, batch):
            raise ValueError(f"negative_prompt must be a string or a list of {batch} strings, got {len(negative)}")
        return negative * batch if len(negative) == 1 else negative

    @staticmethod
    def _per_video(embeds, num_videos_per_prompt: int, device, dtype):
        if embeds is None:
            return None
        return embeds.to(device=device, dtype=dtype or embeds.dtype).repeat_interleave(num_videos_per_prompt, dim=0)

    # --- pixels and latents ------------------------------------------------------------------------
    @property
    def vae_scale_factor_spatial(self) -> int:
        """Pixels per latent along each side: 1 without an autoencoder."""
        return spatial_compression(self.vae) if self.vae is not None else 1

    def latent_shape(self, num_frames: int, height: int, width: int) -> tuple[int, int, int, int]:
        """(channels, frames, height, width) of what the transformer denoises."""
        s = self.vae_scale_factor_spatial
        channels = self.vae.config.latent_channels if self.vae is not None else VIDEO_CHANNELS
        return channels, num_frames, height // s, width // s

    def encode(self, video: torch.Tensor) -> torch.Tensor:
        """Video (B, 3, F, H, W) in [-1, 1] -> what the transformer denoises (itself without an autoencoder)."""
        if self.vae is None:
            return video
        return encode_video(self.vae, video.to(self.vae.device, self.vae.dtype)).float()

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """What the transformer made -> video (B, 3, F, H, W) in about [-1, 1]."""
        if self.vae is None:
            return latents
        return decode_latents(self.vae, latents.to(self.vae.device)).float()

    # --- sampling ---------------------------------------------------------------------------------
    def prepare_latents(self, batch, num_frames, height, width, device, generator=None, latents=None):
        """Initial noise, in float32 (only the transformer runs in its own dtype). A CPU generator serves
        every device: randn_tensor draws on the CPU and moves the noise, so a seed gives one clip everywhere."""
        shape = (batch, *self.latent_shape(num_frames, height, width))
        if latents is not None:
            if tuple(latents.shape) != shape:
                raise ValueError(f"latents must have shape {shape}, got {tuple(latents.shape)}")
            return latents.to(device=device, dtype=torch.float32)
        if isinstance(generator, list) and len(generator) != batch:
            raise ValueError(f"a list of generators needs one per video: got {len(generator)} for {batch} videos")
        return randn_tensor(shape, generator=generator, device=device, dtype=torch.float32)

    def prepare_condition(self, frames, batch, num_frames, height, width, device, dtype):
        """-> (known latents, mask, given frames in pixels or None). The autoencoder is per frame, so the
        k given frames are exactly the first k latent frames."""
        known = torch.zeros(batch, *self.latent_shape(num_frames, height, width), device=device, dtype=dtype)
        mask = torch.zeros(batch, 1, num_frames, 1, 1, device=device, dtype=dtype)
        if frames is None:
            return known, mask, None
        given = self._per_batch(self._frames_tensor(frames, num_frames, height, width).to(device, dtype), batch)
        if self.vae is not None:
            with torch.no_grad():
                known[:, :, : given.shape[2]] = encode_video(self.vae, given.to(self.vae.device)).to(device, dtype)
        else:
            known[:, :, : given.shape[2]] = given
        mask[:, :, : given.shape[2]] = 1
        return known, mask, given

    @staticmethod
    def _per_batch(clip: torch.Tensor, batch: int) -> torch.Tensor:
        """One clip (3, F, H, W) for every video, or one per prompt (P, 3, F, H, W) repeated per video."""
        clip = clip[None] if clip.ndim == 4 else clip.repeat_interleave(batch // clip.shape[0], dim=0)
        return clip.expand(batch, -1, -1, -1, -1)

    # --- video-to-video (SDEdit) ------------------------------------------------------------------
    def get_timesteps(self, num_inference_steps: int, strength: float) -> tuple[torch.Tensor, int]:
        """(timesteps to run, index of the first), as diffusers' video-to-video pipelines choose them:
        the last `strength` fraction of the schedule (rounded down), so 0 runs no step and 1 runs all."""
        run = min(int(num_inference_steps * strength), num_inference_steps)
        begin = max(num_inference_steps - run, 0) * self.scheduler.order
        return self.scheduler.timesteps[begin:], begin

    def noise_source(self, source: torch.Tensor, noise: torch.Tensor, timesteps: torch.Tensor) -> torch.Tensor:
        """The source latents noised to the first timestep that will run (all source when none runs)."""
        if len(timesteps) == 0:
            return source
        t = timesteps[:1].expand(source.shape[0])
        if hasattr(self.scheduler, "scale_noise"):  # flow-matching schedulers
            return self.scheduler.scale_noise(source, t, noise)
        return self.scheduler.add_noise(source, noise, t)  # e.g. UniPC on flow sigmas

    def prepare_video_latents(self, video, batch, num_frames, height, width, device) -> torch.Tensor:
        """A source clip (F, H, W, 3) in [0, 1], or one per prompt, -> its latents for every video."""
        clip = self._per_batch(self._video_tensor(video, num_frames, height, width), batch)
        with torch.no_grad():
            return self.encode(clip).to(device=device, dtype=torch.float32)

    def predict_x0(self, latents, known, mask, t, prompt_embeds, negative_prompt_embeds, guidance_scale,
                   attention_kwargs=None):
        """One transformer call; the CFG branches share a batch: [unconditional..., conditional...]."""
        do_cfg = guidance_scale > 1
        x = condition_input(latents, known, mask)
        context = prompt_embeds
        if do_cfg:
            x, context = torch.cat([x, x]), torch.cat([negative_prompt_embeds, prompt_embeds])
        # The timestep stays float32, as in WanPipeline: Wan embeds it in float32 whatever the weights are.
        timestep = t.expand(x.shape[0])
        x0 = self.transformer(x, timestep, context, attention_kwargs=attention_kwargs, return_dict=False)[0]
        if do_cfg:
            uncond, cond = x0.chunk(2)
            x0 = uncond + guidance_scale * (cond - uncond)
        return x0

    @staticmethod
    def _check_finite(video: torch.Tensor) -> None:
        """NaN weights (a diverged checkpoint) would otherwise come out as black frames without a word."""
        if not torch.isfinite(video).all():
            raise ValueError("sampling produced NaN or infinite values: the model's weights (or the given latents or "
                             "embeddings) are not finite; check the checkpoint it was loaded from")

    def _step_callback(self, callback, i, t, names, tensors: dict) -> dict:
        """Hands the named tensors to callback_on_step_end; returns all tensors with its replacements."""
        outputs = callback(self, i, t, {k: tensors[k] for k in names}) or {}
        return {k: outputs.get(k, v) for k, v in tensors.items()}

    @torch.no_grad()
    def __call__(
        self,
        prompt: str | list[str] | None = None,
        negative_prompt: str | list[str] | None = None,
        *,  # the rest by name: diffusers' video pipelines order them differently (height, width, num_frames, ...)
        frames: np.ndarray | torch.Tensor | None = None,
        num_frames: int | None = None,
        height: int | None = None,
        width: int | None = None,
        num_inference_steps: int = 20,
        video: np.ndarray | torch.Tensor | None = None,
        strength: float | None = None,
        guidance_scale: float = 4.0,
        num_videos_per_prompt: int = 1,
        generator: torch.Generator | list[torch.Generator] | None = None,
        latents: torch.Tensor | None = None,
        prompt_embeds: torch.Tensor | None = None,
        negative_prompt_embeds: torch.Tensor | None = None,
        output_type: str = "np",
        return_dict: bool = True,
        attention_kwargs: dict | None = None,
        callback_on_step_end: Callable | PipelineCallback | MultiPipelineCallbacks | None = None,
        callback_on_step_end_tensor_inputs: list[str] | None = None,
        audio: bool = False,
    ):
        # 1. Check inputs
        if isinstance(callback_on_step_end, (PipelineCallback, MultiPipelineCallbacks)):
            callback_on_step_end_tensor_inputs = callback_on_step_end.tensor_inputs
        callback_on_step_end_tensor_inputs = callback_on_step_end_tensor_inputs or ["latents"]
        num_frames = self.config.num_frames if num_frames is None else num_frames
        height = self.config.height if height is None else height
        width = self.config.width if width is None else width
        self.check_inputs(prompt, negative_prompt, frames, num_frames, height, width, num_inference_steps,
                          guidance_scale, num_videos_per_prompt, output_type, callback_on_step_end_tensor_inputs,
                          prompt_embeds, negative_prompt_embeds, video, strength, audio)
        self._guidance_scale, self._attention_kwargs = guidance_scale, attention_kwargs
        self._current_timestep, self._interrupt = None, False
        device, dtype = self._execution_device, self.transformer.dtype

        # 2. Encode the prompt; the negative prompt defaults to "" (the dropped-text condition of training)
        prompt_embeds, negative_prompt_embeds = self.encode_prompt(
            prompt, negative_prompt, self.do_classifier_free_guidance, num_videos_per_prompt,
            prompt_embeds, negative_prompt_embeds, device=device, dtype=dtype)
        batch = prompt_embeds.shape[0]

        # 3. Timesteps: all of them, or with a source video the last `strength` fraction (SDEdit)
        self.scheduler.set_timesteps(num_inference_steps, device=device)
        if video is None:
            strength = 1.0
        timesteps, begin = self.get_timesteps(num_inference_steps, DEFAULT_STRENGTH if strength is None else strength)
        self.scheduler.set_begin_index(begin)  # the step index is known: no device-to-host sync to find it
        self._num_timesteps = len(timesteps)

        # 4. Initial noise (a source video noised to the first timestep run) and the conditioning frames
        latents = self.prepare_latents(batch, num_frames, height, width, device, generator, latents)
        if video is not None:
            source = self.prepare_video_latents(video, batch, num_frames, height, width, device)
            latents = self.noise_source(source, latents, timesteps)
        known, mask, given = self.prepare_condition(frames, batch, num_frames, height, width, device, torch.float32)

        # 5. Denoising loop
        with self.progress_bar(total=len(timesteps)) as progress_bar:
            for i, t in enumerate(timesteps):
                if self.interrupt:
                    continue
                self._current_timestep = t
                sigma = self.scheduler.sigmas[begin + i]
                x0 = self.predict_x0(latents.to(dtype), known.to(dtype), mask, t, prompt_embeds, negative_prompt_embeds,
                                     self.guidance_scale, self.attention_kwargs).float()
                velocity = velocity_from_x0(latents, x0, sigma.reshape(1).expand(batch), min_t=1e-6)
                latents = self.scheduler.step(velocity, t, latents, return_dict=False)[0]
                if callback_on_step_end is not None:
                    state = self._step_callback(callback_on_step_end, i, t, callback_on_step_end_tensor_inputs, {
                        "latents": latents, "prompt_embeds": prompt_embeds,
                        "negative_prompt_embeds": negative_prompt_embeds})
                    latents, prompt_embeds, negative_prompt_embeds = (
                        state["latents"], state["prompt_embeds"], state["negative_prompt_embeds"])
                progress_bar.update()
        self._current_timestep = None

        # 6. Decode, paste the given frames back (exact conditioning) and post-process
        latents = torch.where(mask.bool().expand_as(latents), known, latents)
        soundtracks = sample_rate = None
        if output_type == "latent":
            self._check_finite(latents)
            video = latents
        else:
            video = self.decode(latents)
            if given is not None:
                video[:, :, : given.shape[2]] = given.to(video)
            self._check_finite(video)
            if audio:
                soundtracks, sample_rate = self.make_sound(video)
            video = self.video_processor.postprocess_video(video.clamp(-1, 1), output_type=output_type)
        self.maybe_free_model_hooks()
        if not return_dict:
            return (video,) if soundtracks is None else (video, soundtracks)
        return SpacetimePipelineOutput(frames=video, audio=soundtracks, sample_rate=sample_rate)

    def make_sound(self, video: torch.Tensor) -> tuple[np.ndarray, int]:
        """Decoded videos (B, 3, F, H, W) in about [-1, 1] -> (soundtracks (B, samples, 2), sample rate), each
        made by `sorakit.add_sound` from its frames at this pipeline's fps."""
        from .sound import add_sound

        clips = ((video.clamp(-1, 1) + 1) / 2).permute(0, 2, 3, 4, 1).float().cpu().numpy()
        made = [add_sound(clip, fps=self.config.fps) for clip in clips]
        return np.stack([a for a, _ in made]), made[0][1]
