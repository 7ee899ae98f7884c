"""What a pipeline accepts, in one place: its default clip (frames, size, steps, guidance, fps), the
frame counts and sizes its VAE and patching allow, and which inputs its `__call__` takes (negative
prompt, first frame). The Studio, SeedGrid, demo and CLI read it, so their controls follow the pipeline:

    from sorakit.families.defaults import pipeline_defaults
    spec = pipeline_defaults(pipe)        # e.g. WanPipeline: 81 frames (4k+1), 480x832, 50 steps
    spec.check(frames=16)                 # ValueError naming the allowed counts (5, 9, 13, ...)

Defaults come from the pipeline class's `__call__` signature, or where it says None, from where the
pipeline itself looks (CogVideoX: the transformer's sample size; Mochi: default_height/width);
SpacetimePipeline keeps them in its config.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field

from ..attention.families import patch_of, vae_scales
from ..limits import LIMITS
from . import PIPELINES, family_of_pipeline

SORAKIT = "sorakit"  # the family name of sorakit's own SpacetimePipeline
# Frame rates the families' model cards export at (diffusers' examples); LTX takes its own as frame_rate.
FPS = {"Wan 2.1 / 2.2": 16.0, "WanVACE": 16.0, "SkyReels-V2": 24.0, "LTX-Video": 25.0, "CogVideoX": 8.0,
       "HunyuanVideo": 15.0, "Mochi": 30.0}
MIN_STEPS = {"Mochi": 2}  # Mochi's linear-quadratic schedule divides by zero at one step
SHOWN_VALUES = 6  # allowed frame counts listed in a message before "..."


@dataclass(frozen=True)
class PipelineDefaults:
    pipeline: str  # the pipeline class name
    family: str  # a key of sorakit.families.PIPELINES, or "sorakit"
    num_frames: int
    height: int
    width: int
    steps: int
    guidance: float
    fps: float
    frame_step: int = 1  # frame counts are frame_step * k + frame_offset
    frame_offset: int = 0
    size_step: int = 1  # height and width are multiples of this
    min_steps: int = 1
    negative_prompt: bool = True  # __call__ takes negative_prompt
    first_frame: str | None = None  # the __call__ parameter a first frame goes to ("frames", "image"), or None
    first_frame_required: bool = False  # image-to-video: no clip without one
    sizes: bool = True  # height/width are the user's to choose (sorakit's model keeps its trained size)
    call: dict = field(default_factory=dict)  # arguments this model needs on every call

    # --- frame counts -----------------------------------------------------------------------------
    @property
    def frame_rule(self) -> str:
        """The allowed counts in words: "4k+1", "any", "a multiple of 2"."""
        if self.frame_step == 1:
            return "any count"
        if self.frame_offset == 0:
            return f"a multiple of {self.frame_step}"
        return f"{self.frame_step}k+{self.frame_offset}"

    def frames_ok(self, frames: int) -> bool:
        return frames % self.frame_step == self.frame_offset % self.frame_step

    def allowed_frames(self, low: int, high: int) -> list[int]:
        """Every allowed frame count in [low, high]."""
        first = low + (self.frame_offset - low) % self.frame_step
        return list(range(first, high + 1, self.frame_step))

    def frames_error(self, frames, low: int, high: int, name: str = "frames") -> str | None:
        """None when `frames` is allowed in [low, high]; else a message naming the allowed values."""
        allowed = self.allowed_frames(low, high)
        if isinstance(frames, int) and not isinstance(frames, bool) and frames in allowed:
            return None
        if not allowed:
            return f"{self.pipeline} takes frame counts of {self.frame_rule}, none of which lies in {low}-{high}"
        shown = ", ".join(map(str, allowed[:SHOWN_VALUES])) + (f", ..., {allowed[-1]}"
                                                                if len(allowed) > SHOWN_VALUES else "")
        return (f"{name} must be one of {shown} ({self.frame_rule} from {allowed[0]} to {allowed[-1]}: "
                f"what {self.pipeline}'s VAE needs); got {frames!r}")

    def fit_frames(self, low: int, high: int) -> int:
        """The default frame count, or the nearest allowed one within [low, high]."""
        allowed = self.allowed_frames(low, high)
        if not allowed:
            raise ValueError(f"{self.pipeline} takes frame counts of {self.frame_rule}: none lies in {low}-{high}")
        return min(allowed, key=lambda n: (abs(n - self.num_frames), -n))

    # --- sizes and steps --------------------------------------------------------------------------
    def size_error(self, name: str, value, low: int, high: int) -> str | None:
        step = self.size_step
        lo = -(-low // step) * step
        if isinstance(value, int) and not isinstance(value, bool) and value % step == 0 and lo <= value <= high:
            return None
        return f"{name} must be a multiple of {step} from {lo} to {high} (what {self.pipeline} needs); got {value!r}"

    def steps_error(self, steps) -> str | None:
        if isinstance(steps, int) and steps < self.min_steps:
            return f"{self.pipeline} needs at least {self.min_steps} steps; got {steps}"
        return None

    def check(self, frames: int | None = None, steps: int | None = None, height: int | None = None,
              width: int | None = None) -> None:
        """ValueError naming the allowed values when the pipeline cannot make this clip (None: not asked)."""
        errors = [None if frames is None else self.frames_error(frames, *LIMITS.clip_frames),
                  None if steps is None else self.steps_error(steps),
                  *(None if value is None else self.size_error(name, value, *LIMITS.clip_side)
                    for name, value in (("height", height), ("width", width)))]
        for error in errors:
            if error is not None:
                raise ValueError(error)

    # --- the call ---------------------------------------------------------------------------------
    def first_frame_kwargs(self, image) -> dict:
        """The call arguments that condition on `image` ((H, W, 3) float in [0, 1]); {} for None."""
        if image is None and self.first_frame_required:
            raise ValueError(f"{self.pipeline} makes a clip from a first frame ({self.first_frame}=): give one "
                             "(the demo's upload, or call the pipeline yourself)")
        if image is None:
            return {}
        if self.first_frame is None:
            raise ValueError(f"{self.pipeline} takes no first frame: it makes clips from text alone")
        return {self.first_frame: image[None] if self.first_frame == "frames" else image}


def call_kwargs(pipe, recipe, first_frame=None) -> dict:
    """Keyword arguments for `pipe(...)` that make `recipe`'s clip (numpy frames), with what this pipeline
    needs on every call and the first frame under the name its __call__ takes. For a diffusers pipeline the
    recipe's frames, steps and sizes are checked first (ValueError naming the allowed values); sorakit's
    pipeline checks its own inputs."""
    kwargs = recipe.pipeline_kwargs()
    if family_of_pipeline(type(pipe).__name__) is None:  # sorakit's pipeline, or a stand-in for it
        return {**kwargs, **({} if first_frame is None else {"frames": first_frame[None]})}
    spec = pipeline_defaults(pipe)
    spec.check(recipe.frames, recipe.steps, recipe.height, recipe.width)
    if not spec.negative_prompt:
        kwargs.pop("negative_prompt", None)
    return {**spec.call, **kwargs, **spec.first_frame_kwargs(first_frame)}


def pipeline_defaults(pipe) -> PipelineDefaults:
    """What `pipe` accepts and makes by default (see the module's docstring)."""
    name = type(pipe).__name__
    params = inspect.signature(type(pipe).__call__).parameters
    default = lambda key, fallback=None: (params[key].default if key in params  # noqa: E731
                                          and params[key].default is not inspect.Parameter.empty else fallback)
    family = family_of_pipeline(name)
    if family is None:  # sorakit's SpacetimePipeline (or a stand-in with its config)
        config = getattr(pipe, "config", None) or {}
        if "num_frames" not in config:
            raise ValueError(f"{name} is not a pipeline sorakit knows: pass a SpacetimePipeline or one of "
                             f"{', '.join(n for names in PIPELINES.values() for n in names)}")
        pt = patch_of(pipe.transformer.config)[0] if getattr(pipe, "transformer", None) is not None else 1
        return PipelineDefaults(name, SORAKIT, int(config["num_frames"]), int(config["height"]),
                                int(config["width"]), int(default("num_inference_steps", 20)),
                                float(default("guidance_scale", 4.0)), float(config.get("fps") or 8.0),
                                frame_step=pt, first_frame="frames", sizes=False)
    if "num_frames" not in params:
        raise ValueError(f"{name} makes clips from a source video (it has no num_frames): the Studio, demo and "
                         "generate drive text-to-video and image-to-video pipelines")
    temporal, spatial = vae_scales(pipe)
    transformer = pipe.transformer.config
    height, width, frames = _sizes(pipe, default)
    call = {}
    if family == "CogVideoX":  # its prompt length must equal the transformer's text length (226 on real models)
        call["max_sequence_length"] = int(transformer.max_text_seq_length)
    image = "image" in params
    return PipelineDefaults(
        name, family, frames, height, width, int(default("num_inference_steps")), float(default("guidance_scale")),
        float(default("frame_rate", FPS[family])), frame_step=temporal, frame_offset=1 % temporal,
        size_step=spatial * patch_of(transformer)[1], min_steps=MIN_STEPS.get(family, 1),
        negative_prompt="negative_prompt" in params, first_frame="image" if image else None,
        first_frame_required=image and ("ImageToVideo" in name or params["image"].default is inspect.Parameter.empty),
        call=call)


def _sizes(pipe, default) -> tuple[int, int, int]:
    """(height, width, frames) the pipeline makes when not told, where its signature says None."""
    transformer, (_, spatial) = pipe.transformer.config, vae_scales(pipe)
    height, width, frames = default("height"), default("width"), default("num_frames")
    if height is None and getattr(pipe, "default_height", None):  # Mochi
        height, width = pipe.default_height, pipe.default_width
    if height is None and getattr(transformer, "sample_height", None):  # CogVideoX
        height, width = transformer.sample_height * spatial, transformer.sample_width * spatial
    if frames is None and getattr(transformer, "sample_frames", None):  # CogVideoX
        frames = transformer.sample_frames
    if None in (height, width, frames):
        raise ValueError(f"{type(pipe).__name__}: its default clip size is not known; pass frames, height and width")
    return int(height), int(width), int(frames)
