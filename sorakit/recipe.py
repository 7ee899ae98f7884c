"""One Recipe for every clip: the settings that made it, the model, an id, and its parents.

Every surface (CLI, widgets, demo) builds its recipes with `Recipe.from_call` (or `run_by` for a
recipe written by hand), `sorakit.export` stores them, and `read_metadata` reads them back through
`Recipe.from_dict`, which checks every field: files are untrusted.

`id` hashes the generation settings and the clip's frames, so the same clip made the same way has
the same id wherever and whenever it was made; `parents` holds the ids of clips this one was made
from (empty for a clip made from a prompt alone) and `derivation` how ("remix" at `strength`, or
"extension"); a storyboard's shots name their `storyboard` and `shot` number, with the shot they
continue from (or cut away from) as parent; `lineage` says it in words.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
from dataclasses import KW_ONLY, dataclass, field
from datetime import datetime, timezone
from numbers import Integral, Real
from typing import Any, Mapping

import numpy as np

from . import __version__
from .identity import model_identity
from .limits import LIMITS, text_error

__all__ = ["Recipe", "first_frame_digest", "model_identity", "video_digest"]

# Fields that decide the frames (with fps, how they play): what `settings_id` hashes.
SETTINGS = ("prompt", "negative_prompt", "seed", "steps", "guidance", "frames", "height", "width", "fps",
            "model_hash", "first_frame_sha256", "parents")
# Names older files used for the same fields.
LEGACY_KEYS = {"num_frames": "frames", "guidance_scale": "guidance", "num_inference_steps": "steps"}
MAX_EXTRA = 32  # facts beyond the fields that one file may carry
MAX_PARENTS = 64
# How a clip was made from its parents; hashed into the id only when set, so older ids stay as they were.
DERIVATIONS = ("remix", "extension")
DERIVED = ("derivation", "strength", "storyboard", "shot")
_TOKEN = re.compile(r"[A-Za-z0-9._+-]{1,128}")  # hashes, ids, version strings


def _digest(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()[:16]


def video_digest(video: Any) -> str:
    """Short sha256 of a clip's uint8 frames (and shape): one changed byte gives another digest."""
    from .media import to_uint8

    frames = np.ascontiguousarray(to_uint8(video))
    return _digest(str(frames.shape).encode() + frames.tobytes())


def first_frame_digest(image: Any) -> str:
    """Short sha256 of a conditioning image as the pipeline receives it (float32 values)."""
    if image is None:
        return ""
    return _digest(np.ascontiguousarray(np.asarray(image, np.float32)).tobytes())


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# --- checking one field ----------------------------------------------------------------------------
def _bad(name: str, allowed: str, value: Any) -> ValueError:
    return ValueError(f"recipe field {name!r} must be {allowed}; got {value!r:.80}")


def _text(name: str, value: Any, limit: int = LIMITS.prompt_chars) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > limit or text_error(name, value):
        raise _bad(name, f"text of at most {limit} characters, without NUL or lone surrogates", value)
    return value


def _token(name: str, value: Any) -> str:
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or not _TOKEN.fullmatch(value):
        raise _bad(name, "empty or 1-128 letters, digits and ._+-", value)
    return value


def _whole(name: str, value: Any, bounds: tuple[int, int]) -> int | None:
    if value is None:
        return None
    lo, hi = bounds
    if isinstance(value, bool) or not isinstance(value, Integral) or not lo <= value <= hi:
        raise _bad(name, f"a whole number from {lo} to {hi}", value)
    return int(value)


def _number(name: str, value: Any, bounds: tuple[float, float]) -> float | None:
    if value is None:
        return None
    lo, hi = bounds
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value) or not lo <= value <= hi:
        raise _bad(name, f"a number from {lo:g} to {hi:g}", value)
    return float(value)


def _time(name: str, value: Any) -> str:
    if value is None or value == "":
        return ""
    try:
        datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise _bad(name, "an ISO 8601 time such as 2025-01-31T12:00:00+00:00", value) from None
    return value


def _choice(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value is None or value == "":
        return ""
    if value not in allowed:
        raise _bad(name, f"empty or one of {', '.join(map(repr, allowed))}", value)
    return value


def _parents(name: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, (list, tuple)) or len(value) > MAX_PARENTS:
        raise _bad(name, f"a list of at most {MAX_PARENTS} clip ids", value)
    if not all(isinstance(v, str) and _TOKEN.fullmatch(v) for v in value):
        raise _bad(name, "a list of clip ids (letters, digits, ._+-)", value)
    return tuple(value)


def _extra(name: str, value: Any, fields: set[str]) -> dict[str, Any]:
    value = {} if value is None else value
    if not isinstance(value, Mapping) or len(value) > MAX_EXTRA:
        raise _bad(name, f"a mapping of at most {MAX_EXTRA} entries", value)
    checked = {}
    for key, item in value.items():
        if not isinstance(key, str) or not _TOKEN.fullmatch(key) or key in fields or key == "id":
            raise _bad(f"{name}.{key}", "a name (letters, digits, ._+-) that is not a recipe field", key)
        item = item.item() if isinstance(item, np.generic) else item  # numpy scalars -> Python
        if isinstance(item, str):
            _text(key, item)
        elif isinstance(item, float) and not math.isfinite(item):
            raise _bad(key, "a finite number", item)
        elif not (item is None or isinstance(item, (bool, int, float))):
            raise _bad(key, "text, a number, true/false or null", item)
        checked[key] = item
    return checked


# --- the recipe -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Recipe:
    """How a clip was made. Every field is checked on construction (ValueError names the field).

    None means "not known" (a file that did not say) or, for frames/height/width/fps, "the
    pipeline's default" until `run_by(pipe)` fills it in. `extra` holds facts about a file that are
    not generation settings (e.g. the word an attention overlay shows); it does not change the id.
    """

    prompt: str = ""
    _: KW_ONLY
    negative_prompt: str = ""
    seed: int | None = 0
    steps: int | None = 20
    guidance: float | None = 4.0
    frames: int | None = None
    height: int | None = None
    width: int | None = None
    fps: float | None = None
    model: str = ""
    model_hash: str = ""
    first_frame_sha256: str = ""  # a conditioning image (image-to-video), if one was given
    video_sha256: str = ""  # the clip's frames; set by `with_video` (export does it)
    parents: tuple[str, ...] = ()
    derivation: str = ""  # "" (made from a prompt, or not known), or one of DERIVATIONS
    strength: float | None = None  # a remix's strength: the fraction of the schedule run on its parent
    storyboard: str = ""  # the id of the storyboard this clip is a shot of (or the joined film of)
    shot: int | None = None  # its shot number in that storyboard, from 1 (None: the joined film)
    sorakit_version: str = __version__
    created: str = field(default_factory=_now, compare=False)
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def __post_init__(self):
        names = {f.name for f in dataclasses.fields(self)}
        checked = {
            "prompt": _text("prompt", self.prompt),
            "negative_prompt": _text("negative_prompt", self.negative_prompt),
            "seed": _whole("seed", self.seed, LIMITS.seed),
            "steps": _whole("steps", self.steps, LIMITS.steps),
            "guidance": _number("guidance", self.guidance, LIMITS.guidance),
            "frames": _whole("frames", self.frames, LIMITS.clip_frames),
            "height": _whole("height", self.height, LIMITS.clip_side),
            "width": _whole("width", self.width, LIMITS.clip_side),
            "fps": _number("fps", self.fps, LIMITS.fps),
            "model": _text("model", self.model),
            "model_hash": _token("model_hash", self.model_hash),
            "first_frame_sha256": _token("first_frame_sha256", self.first_frame_sha256),
            "video_sha256": _token("video_sha256", self.video_sha256),
            "parents": _parents("parents", self.parents),
            "derivation": _choice("derivation", self.derivation, DERIVATIONS),
            "strength": _number("strength", self.strength, (0.0, 1.0)),
            "storyboard": _token("storyboard", self.storyboard),
            "shot": _whole("shot", self.shot, (1, MAX_PARENTS)),
            "sorakit_version": _token("sorakit_version", self.sorakit_version),
            "created": _time("created", self.created),
            "extra": _extra("extra", self.extra, names),
        }
        for name, value in checked.items():
            object.__setattr__(self, name, value)  # normalized (numpy ints -> int, lists -> tuples, ...)
        self._check_derivation()

    def _check_derivation(self) -> None:
        if self.derivation and len(self.parents) != 1:
            raise _bad("parents", f"exactly one clip id for a {self.derivation}", list(self.parents))
        if (self.derivation == "remix") != (self.strength is not None):
            raise _bad("strength", "a number from 0 to 1 for a remix, and unset otherwise", self.strength)
        if self.shot is not None and not self.storyboard:
            raise _bad("storyboard", "the storyboard's id when a shot number is set", self.storyboard)

    @property
    def lineage(self) -> str:
        """Where the clip came from, in words: "remix of <id> at strength 0.6", "extension of <id>",
        "shot 2 of storyboard <S>, after <id>", ""."""
        if self.storyboard:
            what = f"shot {self.shot} of" if self.shot else "the film of"
            after = f", after {', '.join(self.parents)}" if self.shot and self.parents else ""
            return f"{what} storyboard {self.storyboard}{after}"
        if self.derivation == "remix":
            return f"remix of {self.parents[0]} at strength {self.strength:g}"
        if self.derivation:
            return f"{self.derivation} of {self.parents[0]}"
        return f"made from {', '.join(self.parents)}" if self.parents else ""

    # --- identity ---------------------------------------------------------------------------------
    @property
    def settings_id(self) -> str:
        """Hash of the generation settings alone: same settings id, same frames (same machine)."""
        settings = {name: getattr(self, name) for name in SETTINGS}
        settings.update({name: getattr(self, name) for name in DERIVED if getattr(self, name) not in ("", None)})
        return _digest(json.dumps(settings, sort_keys=True, separators=(",", ":")))

    @property
    def id(self) -> str:
        """Hash of the settings and of the clip's frames; creation time and `extra` do not change it."""
        return _digest(f"{self.settings_id}:{self.video_sha256}")

    # --- building ---------------------------------------------------------------------------------
    @classmethod
    def from_call(cls, pipe, prompt: str, *, first_frame: Any = None, video: Any = None, model: str | None = None,
                  **settings) -> Recipe:
        """The recipe of `pipe(prompt, ...)` with these settings (seed, steps, guidance, frames, ...).

        Unset frames/height/width/fps come from the pipeline's config; the model name and weights
        hash from the pipeline itself. `first_frame` is a conditioning image (hashed, not stored);
        `video`, when the clip is already made, sets `video_sha256` and the sizes.
        """
        recipe = cls(prompt, first_frame_sha256=first_frame_digest(first_frame), **settings).run_by(pipe, model)
        return recipe if video is None else recipe.with_video(video)

    def run_by(self, pipe, model: str | None = None) -> Recipe:
        """This recipe as `pipe` runs it: its model and weights hash, and its defaults for unset sizes/fps."""
        name, weights = model_identity(pipe)
        defaults = _clip_defaults(pipe)
        filled = {k: v for k, v in defaults.items() if getattr(self, k) is None and v is not None}
        return dataclasses.replace(self, model=model or name, model_hash=weights, **filled)

    def with_video(self, video: Any) -> Recipe:
        """The recipe of this exact clip: its frame count and size, and the hash of its frames.

        A recipe whose sizes say otherwise is refused: it describes another clip.
        """
        shape = np.shape(video)
        if len(shape) != 4:
            raise ValueError(f"video must be shaped (F, H, W, 3); got {shape}")
        for name, actual in zip(("frames", "height", "width"), shape[:3]):
            if getattr(self, name) not in (None, actual):
                raise ValueError(f"recipe field {name!r} is {getattr(self, name)} but the video has {actual}")
        return dataclasses.replace(self, frames=shape[0], height=shape[1], width=shape[2],
                                   video_sha256=video_digest(video))

    def pipeline_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for a diffusers video pipeline call that makes this clip (as numpy).

        Unset settings are left out, so the pipeline's own defaults apply.
        """
        import torch

        kwargs: dict[str, Any] = {"prompt": self.prompt}
        if self.negative_prompt:
            kwargs["negative_prompt"] = self.negative_prompt
        if self.seed is not None:
            kwargs["generator"] = torch.Generator().manual_seed(self.seed)
        for key, value in (("num_frames", self.frames), ("height", self.height), ("width", self.width),
                           ("num_inference_steps", self.steps), ("guidance_scale", self.guidance)):
            if value is not None:
                kwargs[key] = value
        kwargs["output_type"] = "np"
        return kwargs

    # --- files ------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict: every field, the id, and `extra`'s entries at the top level."""
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "extra"}
        return {**data, "parents": list(self.parents), **self.extra, "id": self.id}

    @classmethod
    def from_dict(cls, data: Any) -> Recipe:
        """A recipe read from a file: absent fields are unknown (None or empty), unknown keys go
        to `extra`, and a stored `id` must match the fields. Raises ValueError naming a bad field."""
        if not isinstance(data, Mapping):
            raise ValueError(f"a recipe must be a JSON object; got {type(data).__name__}")
        names = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        values: dict[str, Any] = {"seed": None, "steps": None, "guidance": None, "sorakit_version": "", "created": ""}
        extra: dict[str, Any] = {}
        for key, value in data.items():
            if LEGACY_KEYS.get(key) in names and LEGACY_KEYS[key] not in data:
                key = LEGACY_KEYS[key]
            if key in names:
                values[key] = value
            elif key != "id":
                extra[key] = value
        recipe = cls(**values, extra=extra)
        stored = data.get("id")
        if stored is not None and stored != recipe.id:
            raise _bad("id", f"{recipe.id}, the hash of the recipe's fields (were they edited?)", stored)
        return recipe

    def __getitem__(self, key: str) -> Any:
        """`recipe["seed"]`: read access by name, as for the dict `read_metadata` used to return."""
        if key == "id":
            return self.id
        if key in self.extra:
            return self.extra[key]
        if key != "extra" and key in {f.name for f in dataclasses.fields(self)}:
            return getattr(self, key)
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default


def _clip_defaults(pipe) -> dict[str, Any]:
    """The clip `pipe` makes when not told: from its config (sorakit's pipeline), or for a supported
    diffusers pipeline from `sorakit.families.defaults` (its call's defaults and its family's fps)."""
    config = getattr(pipe, "config", None) or {}
    if "num_frames" not in config:
        from .families import family_of_pipeline

        if family_of_pipeline(type(pipe).__name__) is not None:
            from .families.defaults import pipeline_defaults

            try:
                spec = pipeline_defaults(pipe)
            except ValueError:  # a video-to-video pipeline: its clip follows the source video
                return {}
            return {"frames": spec.num_frames, "height": spec.height, "width": spec.width, "fps": spec.fps}
    return {"frames": config.get("num_frames"), "height": config.get("height"), "width": config.get("width"),
            "fps": config.get("fps")}
