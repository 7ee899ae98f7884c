"""Installs the recording processors and hooks on a Wan-family pipeline and keeps what they record.

Which rows are the conditional branch of CFG: the text encoder is hooked, and the first text
encoding after a transformer call starts a new run and is the prompt (both SpacetimePipeline and
WanPipeline encode the prompt before the negative prompt). A transformer row is conditional when
its text states equal the prompt's (padding zeroed) bit for bit. That one rule covers
SpacetimePipeline's single call on the batch [uncond..., cond...] and WanPipeline's two calls per
step (cond first, then uncond): each transformer call that holds conditional rows is one step.
"""
from __future__ import annotations

import numpy as np
import torch
from diffusers import WanTransformer3DModel
from diffusers.models.transformers.transformer_wan import WanAttnProcessor

from .processors import CallContext, CrossAttentionCapture, SelfAttentionCapture, _Recording
from .words import merge_words

SUPPORTED = ("diffusers' WanTransformer3DModel (sorakit's SpacetimePipeline, WanPipeline, WanImageToVideoPipeline, "
             "WanVideoToVideoPipeline)")


def _transformers(pipe) -> list:
    found = [m for m in (getattr(pipe, "transformer", None), getattr(pipe, "transformer_2", None)) if m is not None]
    if not found or not all(isinstance(m, WanTransformer3DModel) for m in found):
        names = [type(m).__name__ for m in found] or ["no transformer"]
        raise ValueError(f"attention.capture supports pipelines whose transformer is {SUPPORTED}; "
                         f"{type(pipe).__name__} has {', '.join(names)}")
    if getattr(pipe, "text_encoder", None) is None or getattr(pipe, "tokenizer", None) is None:
        raise ValueError("attention.capture needs the pipeline's text_encoder and tokenizer to find the prompt's words")
    return found


def check_indices(values, size: int, name: str) -> list[int] | None:
    """None stays None (all); ints in [-size, size) become sorted non-negative indices."""
    if values is None:
        return None
    values = [values] if isinstance(values, int) else list(values)
    if not values or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise ValueError(f"{name} must be an int or a non-empty list of ints, got {values!r}")
    bad = [v for v in values if not -size <= v < size]
    if bad:
        raise ValueError(f"{name} {bad} out of range: this model has {size} "
                         f"(valid: 0..{size - 1} or negative from the end)")
    return sorted({v % size for v in values})


def check_points(query) -> list[tuple[int, int, int]]:
    """(frame, y, x) or a list of them -> list of int triples (range checked once the clip size is known)."""
    if query is None:
        return []
    is_int = lambda v: isinstance(v, (int, np.integer)) and not isinstance(v, bool)  # noqa: E731
    try:
        points = [tuple(query)] if all(is_int(v) for v in query) else [tuple(p) for p in query]
    except TypeError:
        points = [query]
    for p in points:
        if not isinstance(p, tuple) or len(p) != 3 or not all(is_int(v) and v >= 0 for v in p):
            raise ValueError(f"query must be (frame, y, x) or a list of them, non-negative ints in pixels; "
                             f"got {query!r}")
    return [tuple(int(v) for v in p) for p in points]


class Recorder:
    """Processors + hooks on the pipeline while installed; the recorded run stays after removal."""

    def __init__(self, pipe, layers=None, steps=None, heads=None, query=None, temporal: bool = False):
        self.pipe = pipe
        self._models = _transformers(pipe)
        blocks = self._models[0].blocks
        self.num_layers = len(blocks)
        self.layers = check_indices(layers, self.num_layers, "layers") or list(range(self.num_layers))
        self.heads = check_indices(heads, blocks[0].attn2.heads, "heads")
        if steps is not None:
            steps = [steps] if isinstance(steps, int) else list(steps)
            if not steps or not all(isinstance(s, int) and s >= 0 for s in steps):
                raise ValueError(f"steps must be non-negative step indices (the denoising steps to record), "
                                 f"got {steps!r}")
        self.steps_recorded = None if steps is None else set(steps)
        self.points = check_points(query)
        self.temporal = bool(temporal)
        self.scale = (getattr(pipe, "vae_scale_factor_temporal", 1) if getattr(pipe, "vae", None) is not None else 1,
                      getattr(pipe, "vae_scale_factor_spatial", 1) if getattr(pipe, "vae", None) is not None else 1)
        self.active: CallContext | None = None
        self._originals: list = []
        self._handles: list = []
        self._new_run_due = True  # the next text encoding starts a new run (set by every transformer call)
        self._pending = None  # (input_ids, attention_mask) of the prompt being encoded
        self._reset()

    def _reset(self):
        self.records: dict[int, dict] = {}  # step -> {(kind, layer): tensor}
        self.timesteps: list[float] = []
        self.num_steps = 0
        self.grid = self.patch = self.pixel_shape = None
        self.prompt_ids: list[list[int]] = []
        self._text: torch.Tensor | None = None
        self.row_prompts: list[int] = []  # prompt index of each recorded conditional row
        self.query_tokens: list[int] = []

    # --- install / remove -------------------------------------------------------------------------
    def install(self):
        try:
            for model in self._models:
                for i in self.layers:
                    block = model.blocks[i]
                    self._swap(block.attn2, CrossAttentionCapture, i)
                    if self.points or self.temporal:
                        self._swap(block.attn1, SelfAttentionCapture, i)
                self._handles.append(model.register_forward_pre_hook(self._before_transformer, with_kwargs=True))
                self._handles.append(model.register_forward_hook(self._after_transformer))
            enc = self.pipe.text_encoder
            self._handles.append(enc.register_forward_pre_hook(self._before_text, with_kwargs=True))
            self._handles.append(enc.register_forward_hook(self._after_text, with_kwargs=True))
        except BaseException:
            self.remove()
            raise

    def _swap(self, attn, cls, layer):
        proc = attn.processor
        if isinstance(proc, _Recording):
            raise RuntimeError("another attention.capture is already active on this pipeline; "
                               "leave it before starting one")
        if type(proc) is not WanAttnProcessor:
            raise ValueError(f"attention.capture needs diffusers' WanAttnProcessor on every block, found "
                             f"{type(proc).__name__}; call "
                             f"pipe.transformer.set_attn_processor(WanAttnProcessor()) first")
        self._originals.append((attn, proc))
        recording = cls(self, layer, proc, self.heads)
        attn.set_processor(recording)
        self._handles.extend(recording.hooks(attn))

    def remove(self):
        for attn, proc in reversed(self._originals):
            attn.set_processor(proc)
        for handle in self._handles:
            handle.remove()
        self._originals, self._handles, self.active = [], [], None

    # --- hooks ------------------------------------------------------------------------------------
    def _before_text(self, module, args, kwargs):
        if not self._new_run_due:
            return  # the negative prompt (or a re-encoding) of the run in flight
        ids = kwargs.get("input_ids", args[0] if args else None)
        mask = kwargs.get("attention_mask", args[1] if len(args) > 1 else None)
        self._reset()
        self._new_run_due = False
        self._pending = (ids, torch.ones_like(ids) if mask is None else mask)

    def _after_text(self, module, args, kwargs, output):
        pending, self._pending = self._pending, None
        if pending is None:
            return
        ids, mask = pending
        select = getattr(self.pipe, "select_text_states", None)  # sorakit: several MiniLM layers side by side
        if select is not None and getattr(output, "hidden_states", None) is not None:
            states = select(output)
        else:
            states = output[0] if isinstance(output, tuple) else output.last_hidden_state
        self._text = states * mask[..., None].to(states.device, states.dtype)
        self.prompt_ids = [row[m.bool()].tolist() for row, m in zip(ids.cpu(), mask.cpu())]

    def _before_transformer(self, module, args, kwargs):
        self._new_run_due = True
        names = ("hidden_states", "timestep", "encoder_hidden_states")
        hs, t, ehs = (kwargs[n] if n in kwargs else args[i] for i, n in enumerate(names))
        rows, prompts = self._conditional_rows(ehs)
        if not rows:
            return
        step = self.num_steps
        self.num_steps += 1
        self.timesteps.append(float(t.reshape(t.shape[0], -1)[rows[0]].max()))
        self._set_grid(hs.shape, module.config.patch_size)
        if self.steps_recorded is not None and step not in self.steps_recorded:
            return
        self.row_prompts = prompts
        ctx = CallContext(rows=torch.tensor(rows, device=hs.device),
                          text_len=[len(self.prompt_ids[j]) for j in prompts],
                          grid=self.grid, temporal=self.temporal,
                          queries=torch.tensor(self.query_tokens, device=hs.device) if self.points else None)
        self.records[step] = ctx.record
        self.active = ctx

    def _after_transformer(self, module, args, output):
        self.active = None

    def _conditional_rows(self, ehs) -> tuple[list[int], list[int]]:
        if self._text is None:
            return [], []
        text = self._text.to(ehs.device, ehs.dtype)
        rows, prompts = [], []
        for b in range(ehs.shape[0]):
            match = [j for j in range(text.shape[0])
                     if text.shape[1:] == ehs.shape[1:] and torch.equal(ehs[b], text[j])]
            if match:
                rows.append(b)
                prompts.append(match[0])
        return rows, prompts

    def _set_grid(self, shape, patch):
        _, _, frames, height, width = shape
        p_t, p_h, p_w = patch
        s_t, s_s = self.scale
        self.patch = (p_t, p_h, p_w)
        self.grid = (frames // p_t, height // p_h, width // p_w)
        self.pixel_shape = ((frames - 1) * s_t + 1 if s_t > 1 else frames, height * s_s, width * s_s)
        self.query_tokens = [self.token_of(*p) for p in self.points]

    # --- pixels <-> tokens ------------------------------------------------------------------------
    def check_pixel(self, frame: int, y: int, x: int):
        F, H, W = self.pixel_shape
        for name, v, top in (("frame", frame, F), ("y", y, H), ("x", x, W)):
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or not 0 <= v < top:
                raise ValueError(f"{name}={v!r} is outside the clip: frame in [0, {F}), y in [0, {H}), x in [0, {W})")

    def token_frame(self, frame: int) -> int:
        """Pixel frame -> token frame (a causal video VAE maps frame 0 alone, then s_t frames per latent)."""
        s_t = self.scale[0]
        return ((frame + s_t - 1) // s_t) // self.patch[0]

    def token_of(self, frame: int, y: int, x: int) -> int:
        self.check_pixel(frame, y, x)
        s_s = self.scale[1]
        _, h, w = self.grid
        i, j = min(y // s_s // self.patch[1], h - 1), min(x // s_s // self.patch[2], w - 1)
        return (self.token_frame(frame) * h + i) * w + j

    def words_of(self, index: int = 0) -> list[tuple[str, list[int]]]:
        return merge_words(self.pipe.tokenizer, self.prompt_ids[self.row_prompts[index]])
