"""Memory planning: what a capture will store, known from the config and the call's size before sampling.

Records are float32 and heads are averaged as they are recorded, so per recorded layer and step and
per conditional video the capture keeps N'*T (word maps) + N' (text mass) [+ T*N' text->video rows,
joint families] [+ Q*N query rows] [+ F'^2 temporal], with N' the subsampled video tokens, T the
prompt's real text tokens, Q the query points, N the video tokens and F' the token frames.
"""
from __future__ import annotations

from dataclasses import dataclass

from .families import family_of, patch_of, vae_scales

DEFAULT_BUDGET = 2 * 2**30  # bytes
FLOAT = 4


@dataclass(frozen=True)
class Plan:
    videos: int  # conditional rows recorded per step
    grid: tuple[int, int, int]  # token grid (F', H', W')
    stride: tuple[int, int]  # (frames, space) query subsampling
    text_tokens: int
    layers: int
    steps: int
    queries: int = 0
    temporal: bool = False
    joint: bool = False

    @property
    def video_tokens(self) -> int:
        f, h, w = self.grid
        return f * h * w

    @property
    def kept_tokens(self) -> int:
        """Video tokens whose word maps are kept: every stride-th frame, row and column."""
        f, h, w = self.grid
        s_t, s_s = self.stride
        return -(-f // s_t) * -(-h // s_s) * -(-w // s_s)

    @property
    def nbytes(self) -> int:
        kept, text = self.kept_tokens, self.text_tokens
        per = kept * text + kept + (text * kept if self.joint else 0) + self.queries * self.video_tokens
        per += self.grid[0] ** 2 if self.temporal else 0
        return FLOAT * self.videos * per * self.layers * self.steps

    def describe(self) -> str:
        f, h, w = self.grid
        return (f"{self.videos} video(s) x {self.layers} layer(s) x {self.steps} step(s) x {self.kept_tokens} of "
                f"{self.video_tokens} video tokens ({f}x{h}x{w}) x {self.text_tokens} text tokens")


def gib(n: int) -> str:
    return f"{n / 2**30:.2f} GiB"


class OverBudget(ValueError):
    """A capture that would store more than its budget (refused before the first step's attention)."""


def check_budget(plan: Plan, budget: int | None) -> None:
    """OverBudget (a ValueError) naming the knobs when the plan stores more than `budget` bytes (None: no limit)."""
    if budget is None or plan.nbytes <= budget:
        return
    raise OverBudget(
        f"attention.capture would store {gib(plan.nbytes)} ({plan.describe()}), above its budget of {gib(budget)}. "
        "Record less: layers=[...] (fewer blocks, e.g. the middle third), steps=[...] (fewer denoising steps, "
        "e.g. the last third), stride=(frames, space) (keep the word maps of every k-th video token), fewer "
        "query=/temporal=; heads=[...] cuts compute, not storage (heads are averaged as recorded). "
        "Or raise budget= (bytes, None for no limit).")


def check_budget_value(budget):
    if budget is not None and (isinstance(budget, bool) or not isinstance(budget, (int, float)) or budget <= 0):
        raise ValueError(f"budget must be a positive number of bytes or None (no limit), got {budget!r}")
    return None if budget is None else int(budget)


def check_stride(stride) -> tuple[int, int]:
    """int s: every s-th token in space; (t, s): every t-th token frame and every s-th row and column."""
    pair = (1, stride) if isinstance(stride, int) and not isinstance(stride, bool) else stride
    try:
        s_t, s_s = pair
    except (TypeError, ValueError):
        s_t = s_s = None
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in (s_t, s_s)):
        raise ValueError(f"stride must be a positive int (space) or (frames, space), got {stride!r}")
    return s_t, s_s


def estimate(pipe, num_frames: int, height: int, width: int, num_inference_steps: int, text_tokens: int = 32,
             videos: int = 1, layers=None, steps=None, stride=1, query=(), temporal: bool = False) -> Plan:
    """The storage plan of `capture(pipe, layers=, steps=, stride=, query=, temporal=)` for a call of this size,
    from the configs alone (nothing runs; a transformer on the meta device will do). text_tokens: the
    prompt's real tokens (special tokens included); layers/steps: how many or which (default all)."""
    transformer = pipe.transformer
    family = family_of(transformer)
    if family is None:
        raise ValueError(f"estimate knows the families of attention.capture; got {type(transformer).__name__}")
    s_t, s_s = vae_scales(pipe)
    p_t, p_h, p_w = patch_of(transformer.config)
    frames = (num_frames - 1) // s_t + 1 if s_t > 1 else num_frames
    grid = (frames // p_t, height // s_s // p_h, width // s_s // p_w)
    count = lambda chosen, total: total if chosen is None else len(chosen)  # noqa: E731
    points = [query] if query and isinstance(query[0], int) else list(query or ())
    return Plan(videos=videos, grid=grid, stride=check_stride(stride), text_tokens=text_tokens,
                layers=count(layers, len(family.layers(transformer))), steps=count(steps, num_inference_steps),
                queries=len(points), temporal=bool(temporal), joint=family.joint)
