"""Input checks of SpacetimePipeline (diffusers' `check_inputs`): every bad argument gets a ValueError
that says what is allowed, before any model runs."""
from __future__ import annotations

import numpy as np
import torch

from .limits import LIMITS, text_error

OUTPUT_TYPES = ("np", "pt", "pil", "latent")


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.number)) and not isinstance(value, bool) and bool(np.isfinite(value))



def _check_text(name: str, texts) -> None:
    for text in texts:
        if (error := text_error(name, text)) is not None:
            raise ValueError(error)


class InputChecks:
    """Mixed into SpacetimePipeline; reads its components and config."""

    # --- validation -------------------------------------------------------------------------------
    def check_inputs(self, prompt, negative_prompt, frames, num_frames, height, width, num_inference_steps,
                     guidance_scale, num_videos_per_prompt, output_type, callback_on_step_end_tensor_inputs,
                     prompt_embeds=None, negative_prompt_embeds=None, video=None, strength=None, audio=False):
        if self.transformer is None:
            raise ValueError("this pipeline has no transformer (it was loaded with transformer=None): it can encode "
                             "prompts but not sample; load one, e.g. sorakit.load(path)")
        batch = self._check_prompts(prompt, prompt_embeds)
        self._check_negative(negative_prompt, negative_prompt_embeds, guidance_scale, batch,
                             prompt_embeds.shape[1] if prompt_embeds is not None else self.config.max_text_tokens)
        self._check_sizes(num_frames, height, width)
        self._check_sampling(num_inference_steps, guidance_scale, num_videos_per_prompt, output_type,
                             callback_on_step_end_tensor_inputs)
        if frames is not None:
            given = self._frames_tensor(frames, num_frames, height, width)
            if given.ndim == 5 and given.shape[0] != batch:
                raise ValueError(f"frames with a batch axis need one clip per prompt: got {given.shape[0]} clips "
                                 f"for {batch} prompt(s)")
        self._check_video(video, strength, num_frames, height, width, batch)
        if not isinstance(audio, (bool, np.bool_)):
            raise ValueError(f"audio must be True (a soundtrack per video in out.audio) or False; got {audio!r}")
        if audio and output_type == "latent":
            raise ValueError('audio=True needs decoded frames to hear: use output_type "np", "pt" or "pil", '
                             'not "latent"')

    def _check_video(self, video, strength, num_frames, height, width, batch: int) -> None:
        """A source clip and the strength to remix it at (video-to-video, SDEdit)."""
        if strength is not None and (not _is_number(strength) or not 0 <= strength <= 1):
            raise ValueError(f"strength must be a number in [0, 1] (the fraction of the schedule run on the video: "
                             f"0 keeps it, 1 ignores it), got {strength!r}")
        if video is None:
            if strength not in (None, 1):
                raise ValueError("strength < 1 needs a source video (video=...) to start from")
            return
        given = self._video_tensor(video, num_frames, height, width)
        if given.ndim == 5 and given.shape[0] != batch:
            raise ValueError(f"video with a batch axis needs one clip per prompt: got {given.shape[0]} clips "
                             f"for {batch} prompt(s)")

    def _check_prompts(self, prompt, prompt_embeds) -> int:
        """-> the number of prompts."""
        if (prompt is None) == (prompt_embeds is None):
            raise ValueError("pass either prompt (text) or prompt_embeds (from encode_prompt or encode_text), "
                             "not both and not neither")
        if prompt_embeds is not None:
            self._check_embeds("prompt_embeds", prompt_embeds)
            return prompt_embeds.shape[0]
        prompts = [prompt] if isinstance(prompt, str) else prompt
        if not isinstance(prompts, (list, tuple)) or not prompts or not all(isinstance(p, str) for p in prompts):
            raise ValueError("prompt must be a non-empty string or a non-empty list of strings")
        if any(not p.strip() for p in prompts):
            raise ValueError("prompt must not be empty: describe the clip, e.g. 'a red ball bounces'")
        _check_text("prompt", prompts)
        if self.text_encoder is None:
            raise ValueError("this pipeline has no text encoder (it was loaded with text_encoder=None): pass "
                             "prompt_embeds instead of prompt")
        return len(prompts)

    def _check_embeds(self, name: str, embeds, shape: tuple | None = None) -> None:
        width = self.transformer.config.text_dim
        ok = isinstance(embeds, torch.Tensor) and embeds.ndim == 3 and len(embeds) >= 1 and embeds.shape[-1] == width
        if not ok or (shape is not None and tuple(embeds.shape) != shape):
            want = f"{shape}" if shape is not None else f"(prompts, tokens, {width})"
            got = tuple(embeds.shape) if isinstance(embeds, torch.Tensor) else type(embeds).__name__
            raise ValueError(f"{name} must be a tensor of shape {want}, as encode_prompt returns; got {got}")

    def _check_negative(self, negative_prompt, negative_prompt_embeds, guidance_scale, batch: int, tokens: int):
        if negative_prompt is not None and negative_prompt_embeds is not None:
            raise ValueError("pass negative_prompt or negative_prompt_embeds, not both")
        if negative_prompt_embeds is not None:
            self._check_embeds("negative_prompt_embeds", negative_prompt_embeds,
                               (batch, tokens, self.transformer.config.text_dim))
        if negative_prompt is not None:
            negs = [negative_prompt] if isinstance(negative_prompt, str) else negative_prompt
            if not isinstance(negs, (list, tuple)) or not all(isinstance(n, str) for n in negs):
                raise ValueError(f"negative_prompt must be a string or a list of strings, got {negative_prompt!r:.80}")
            if len(negs) not in (1, batch):
                allowed = "1 string" if batch == 1 else f"1 string (used for every prompt) or {batch} (one per prompt)"
                raise ValueError(f"negative_prompt as a list must hold {allowed}; got {len(negs)}")
            _check_text("negative_prompt", negs)
        guided = _is_number(guidance_scale) and guidance_scale > 1
        if guided and negative_prompt_embeds is None and self.text_encoder is None:
            raise ValueError("guidance_scale > 1 without a text encoder needs negative_prompt_embeds too "
                             "(encode_prompt returns both)")

    def _check_sizes(self, num_frames, height, width) -> None:
        pt, ph, pw = self.transformer.config.patch_size
        s = self.vae_scale_factor_spatial  # a latent patch covers ph x s pixels
        ph, pw = ph * s, pw * s
        for name, value, step, (low, high) in (("height", height, ph, LIMITS.side), ("width", width, pw, LIMITS.side),
                                               ("num_frames", num_frames, pt, LIMITS.frames)):
            low = -(-low // step) * step  # the smallest multiple of the patch within the limits
            if not _is_int(value) or value % step or not low <= value <= high:
                kind = "an integer" if step == 1 else f"a multiple of {step}"
                raise ValueError(f"{name} must be {kind} between {low} and {high}, got {value!r}")
        tokens = num_frames // pt * (height // ph) * (width // pw)
        if tokens > LIMITS.video_tokens:
            raise ValueError(f"{num_frames}x{height}x{width} makes {tokens} video tokens; at most "
                             f"{LIMITS.video_tokens} are allowed (the model was trained at "
                             f"{self.config.num_frames}x{self.config.height}x{self.config.width})")

    def _check_sampling(self, num_inference_steps, guidance_scale, num_videos_per_prompt, output_type,
                        callback_on_step_end_tensor_inputs) -> None:
        for name, value, (low, high) in (("num_inference_steps", num_inference_steps, LIMITS.steps),
                                         ("num_videos_per_prompt", num_videos_per_prompt, LIMITS.videos_per_prompt)):
            if not _is_int(value) or not low <= value <= high:
                raise ValueError(f"{name} must be an integer in [{low}, {high}], got {value!r}")
        low, high = LIMITS.guidance
        if not _is_number(guidance_scale) or not low <= guidance_scale <= high:
            raise ValueError(f"guidance_scale must be in [{low:g}, {high:g}], got {guidance_scale!r}")
        if output_type not in OUTPUT_TYPES:
            raise ValueError(f"output_type must be one of {', '.join(map(repr, OUTPUT_TYPES))}, got {output_type!r}")
        bad = [k for k in callback_on_step_end_tensor_inputs or [] if k not in self._callback_tensor_inputs]
        if bad:
            raise ValueError(f"callback_on_step_end_tensor_inputs {bad} not in {self._callback_tensor_inputs}")

    @staticmethod
    def _clip_array(value, name: str, shape: str, height, width) -> np.ndarray:
        """A clip (..., H, W, 3) of uint8 or floats in [0, 1] -> float array, validated; (H, W, 3) -> (1, H, W, 3)."""
        arr = value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)
        if arr.dtype == np.uint8:
            arr = arr.astype(np.float32) / 255
        if arr.ndim == 3:
            arr = arr[None]
        if arr.ndim not in (4, 5) or arr.shape[-3:] != (height, width, 3):
            got = tuple(np.shape(value)) if arr.dtype.kind in "biuf" else type(value).__name__
            raise ValueError(f"{name} must have shape {shape}, got {got}")
        if not np.issubdtype(arr.dtype, np.floating) or not np.isfinite(arr).all() or arr.min() < 0 or arr.max() > 1:
            raise ValueError(f"{name} must be uint8 or finite floats in [0, 1]")
        return arr

    @staticmethod
    def _to_channels_first(arr: np.ndarray) -> torch.Tensor:
        """(..., F, H, W, 3) in [0, 1] -> (..., 3, F, H, W) in [-1, 1]."""
        return torch.from_numpy(np.ascontiguousarray(np.moveaxis(arr, -1, -4), np.float32)) * 2 - 1

    @classmethod
    def _frames_tensor(cls, frames, num_frames, height, width) -> torch.Tensor:
        """Given leading frames (F0, H, W, 3) in [0, 1] -> (3, F0, H, W) in [-1, 1]; validated.

        (P, F0, H, W, 3), one clip per prompt, -> (P, 3, F0, H, W)."""
        shape = (f"(F0, {height}, {width}, 3) (or one (H, W, 3) image, or (P, F0, {height}, {width}, 3) with one "
                 f"clip per prompt)")
        arr = cls._clip_array(frames, "frames", shape, height, width)
        if not 1 <= arr.shape[-4] < num_frames:
            raise ValueError(f"frames must hold between 1 and {num_frames - 1} leading frames, got {arr.shape[-4]}")
        return cls._to_channels_first(arr)

    @classmethod
    def _video_tensor(cls, video, num_frames, height, width) -> torch.Tensor:
        """A whole source clip (num_frames, H, W, 3) in [0, 1] -> (3, F, H, W) in [-1, 1]; validated.

        (P, F, H, W, 3), one clip per prompt, -> (P, 3, F, H, W)."""
        shape = f"({num_frames}, {height}, {width}, 3) (or (P, {num_frames}, {height}, {width}, 3), one per prompt)"
        arr = cls._clip_array(video, "video", shape, height, width)
        if arr.shape[-4] != num_frames:
            raise ValueError(f"video must have shape {shape}: num_frames={num_frames} frames, got {arr.shape[-4]}")
        return cls._to_channels_first(arr)
