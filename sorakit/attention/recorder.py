"""Installs the recording processors and hooks on a pipeline of a supported family and keeps what they record.

Which rows are the conditional branch of CFG: the text encoder is hooked, and the first text
encoding after a transformer call starts a new run and is the prompt (every supported pipeline
encodes the prompt before the negative prompt); the pipeline's `encode_prompt`, when it has one,
hands over the exact prompt embeddings it returns. A transformer row is conditional when its text
states equal the prompt's bit for bit. That one rule covers batched CFG ([uncond, cond] in one call:
sorakit, CogVideoX, LTX, Mochi), two calls per step (cond, then uncond: Wan, SkyReels-V2,
HunyuanVideo's true CFG) and guidance-distilled models with no CFG (HunyuanVideo): each transformer
call holding conditional rows is one step. Wan 2.2's `transformer_2` is hooked like `transformer`.
"""
from __future__ import annotations

import inspect

import numpy as np
import torch

from .budget import DEFAULT_BUDGET, Plan, check_budget, check_budget_value, check_stride
from .compute import CallContext, record_site
from .families import SUPPORTED, family_of, vae_scales
from .intercept import RecordingProcessor, recording_processor
from .words import merge_words

NEEDS_TEXT = ("attention.capture needs the prompt as text: this call passed prompt_embeds, so the maps could not "
              "say which words they belong to; call the pipeline with prompt=...")


def _transformers(pipe) -> list:
    found = [m for m in (getattr(pipe, "transformer", None), getattr(pipe, "transformer_2", None)) if m is not None]
    families = {family_of(m) for m in found}
    if not found or None in families or len(families) > 1:
        names = [type(m).__name__ for m in found] or ["no transformer"]
        raise ValueError(f"attention.capture supports pipelines whose transformer is one of {SUPPORTED}; "
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


def _set_processor(attn, processor):
    if hasattr(attn, "set_processor"):
        attn.set_processor(processor)
    else:  # Mochi's attention has no set_processor
        attn.processor = processor


class _Site:
    """One recorded attention module: its layer, its token layout and what to record there."""

    def __init__(self, recorder, layout: str, layer: int, words: bool, video: bool):
        self.recorder, self.layout, self.layer, self.words, self.video = recorder, layout, layer, words, video

    def active(self) -> bool:
        return self.recorder.active is not None

    def record(self, calls):
        record_site(self.layout, self.layer, calls, self.recorder.active, self.words, self.video)


class Recorder:
    """Processors + hooks on the pipeline while installed; the recorded run stays after removal."""

    def __init__(self, pipe, layers=None, steps=None, heads=None, query=None, temporal: bool = False,
                 stride=1, budget=DEFAULT_BUDGET):
        self.pipe = pipe
        self._models = _transformers(pipe)
        self.family = family_of(self._models[0])
        blocks = self.family.layers(self._models[0])
        self.num_layers = len(blocks)
        self.layers = check_indices(layers, self.num_layers, "layers") or list(range(self.num_layers))
        self.heads = check_indices(heads, getattr(blocks[0], self.family.attention).heads, "heads")
        if steps is not None:
            steps = [steps] if isinstance(steps, int) else list(steps)
            if not steps or not all(isinstance(s, int) and s >= 0 for s in steps):
                raise ValueError(f"steps must be non-negative step indices (the denoising steps to record), "
                                 f"got {steps!r}")
        self.steps_recorded = None if steps is None else set(steps)
        self.points = check_points(query)
        self.temporal = bool(temporal)
        self.stride = check_stride(stride)
        self.budget = check_budget_value(budget)
        self.scale = vae_scales(pipe)
        self.active: CallContext | None = None
        self._originals: list = []
        self._handles: list = []
        self._encode_prompt = None
        self._new_run_due = True  # the next text encoding starts a new run (set by every transformer call)
        self._pending = None  # (input_ids, attention_mask) of the prompt being encoded
        self._reset()

    def _reset(self):
        self.records: dict[int, dict] = {}  # step -> {(kind, layer): tensor}
        self.timesteps: list[float] = []
        self.step_models: list[str] = []  # which transformer ran each step ("transformer" / "transformer_2")
        self.num_steps = 0
        self.grid = self.patch = self.pixel_shape = self.plan = None
        self.prompt_ids: list[list[int]] = []
        self._ids = self._mask = self._text = None
        self._embeds_due = False
        self.row_prompts: list[int] = []  # prompt index of each recorded conditional row
        self.query_tokens: list[int] = []

    # --- install / remove -------------------------------------------------------------------------
    def install(self):
        try:
            for model in self._models:
                blocks = self.family.layers(model)
                for i in self.layers:
                    self._swap(getattr(blocks[i], self.family.attention),
                               _Site(self, self.family.layout, i, words=True, video=self.family.joint))
                    if self.family.self_attention and (self.points or self.temporal):
                        self._swap(getattr(blocks[i], self.family.self_attention),
                                   _Site(self, "self", i, words=False, video=True))
                self._handles.append(model.register_forward_pre_hook(self._before_transformer, with_kwargs=True))
                self._handles.append(model.register_forward_hook(self._after_transformer))
            enc = self.pipe.text_encoder
            self._handles.append(enc.register_forward_pre_hook(self._before_text, with_kwargs=True))
            self._handles.append(enc.register_forward_hook(self._after_text, with_kwargs=True))
            self._wrap_encode_prompt()
        except BaseException:
            self.remove()
            raise

    def _swap(self, attn, site):
        proc = attn.processor
        if isinstance(proc, RecordingProcessor):
            raise RuntimeError("another attention.capture is already active on this pipeline; "
                               "leave it before starting one")
        self._originals.append((attn, proc))
        _set_processor(attn, recording_processor(proc, site))

    def _wrap_encode_prompt(self):
        original = getattr(self.pipe, "encode_prompt", None)
        if original is None:
            return

        signature = inspect.signature(original)

        def encode_prompt(*args, **kwargs):
            given = signature.bind_partial(*args, **kwargs).arguments.get("prompt_embeds")
            if given is not None:  # refused before sampling, not once the maps are asked for
                raise ValueError(NEEDS_TEXT)
            out = original(*args, **kwargs)
            if self._embeds_due:  # the run's first encoding: the prompt (later ones: the negative prompt)
                self._embeds_due = False
                embeds = out[0] if isinstance(out, (tuple, list)) else out
                if isinstance(embeds, torch.Tensor):
                    self._text = embeds.detach()
            return out

        self._encode_prompt = (self.pipe.__dict__.get("encode_prompt"), "encode_prompt" in self.pipe.__dict__)
        self.pipe.encode_prompt = encode_prompt

    def remove(self):
        for attn, proc in reversed(self._originals):
            _set_processor(attn, proc)
        for handle in self._handles:
            handle.remove()
        if self._encode_prompt is not None:
            before, had = self._encode_prompt
            if had:
                self.pipe.encode_prompt = before
            else:
                self.pipe.__dict__.pop("encode_prompt", None)
        self._originals, self._handles, self.active, self._encode_prompt = [], [], None, None

    # --- hooks ------------------------------------------------------------------------------------
    def _before_text(self, module, args, kwargs):
        if not self._new_run_due:
            return  # the negative prompt (or a re-encoding) of the run in flight
        ids = kwargs.get("input_ids", args[0] if args else None)
        mask = kwargs.get("attention_mask", args[1] if len(args) > 1 else None)
        if mask is None:  # CogVideoX encodes without a mask: real tokens are the non-padding ones
            pad = getattr(self.pipe.tokenizer, "pad_token_id", None)
            mask = torch.ones_like(ids) if pad is None else (ids != pad).long()
        self._reset()
        self._new_run_due = False
        self._embeds_due = True
        self._pending = (ids, mask)

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
        # What the transformer reads when nothing else is known (sorakit, Wan: padding zeroed).
        self._text = states * mask[..., None].to(states.device, states.dtype)
        self._ids, self._mask = ids.cpu(), mask.cpu().bool()

    def _before_transformer(self, module, args, kwargs):
        if self._ids is None:  # no text was encoded: the call was given embeddings, whose words are unknown
            raise ValueError(NEEDS_TEXT)
        self._new_run_due = True
        latents, t, ehs = self.family.read_inputs(args, kwargs)
        rows, prompts = self._conditional_rows(ehs)
        if not rows:
            return
        step = self.num_steps
        self.num_steps += 1
        t = torch.as_tensor(t)
        self.timesteps.append(float(t.reshape(t.shape[0], -1)[rows[0]].max() if t.dim() else t))
        self.step_models.append("transformer_2" if module is getattr(self.pipe, "transformer_2", None)
                                else "transformer")
        self._set_grid(module, latents, kwargs, ehs.shape[1])
        real = [self._real[j] for j in prompts]
        if step == 0:
            self._plan(len(rows), max(len(r) for r in real))
        if self.steps_recorded is not None and step not in self.steps_recorded:
            return
        self.row_prompts = prompts
        device = latents.device
        ctx = CallContext(rows=rows, real=real, video=int(np.prod(self.grid)), text=ehs.shape[1], grid=self.grid,
                          sub=self.kept_tokens.to(device), temporal=self.temporal, heads=self.heads,
                          queries=torch.tensor(self.query_tokens, device=device) if self.points else None)
        self.records[step] = ctx.record
        self.active = ctx

    def _after_transformer(self, module, args, output):
        self.active = None

    def _conditional_rows(self, ehs) -> tuple[list[int], list[int]]:
        if self._text is None or ehs is None or self._ids is None:
            return [], []
        text = self._text.to(ehs.device, ehs.dtype)
        per_prompt = max(1, text.shape[0] // len(self._ids))  # num_videos_per_prompt repeats each prompt
        rows, prompts = [], []
        for b in range(ehs.shape[0]):
            match = [j for j in range(text.shape[0])
                     if text.shape[1:] == ehs.shape[1:] and torch.equal(ehs[b], text[j])]
            if match:
                rows.append(b)
                prompts.append(match[0] // per_prompt)
        return rows, prompts

    def _plan(self, videos: int, text_tokens: int):
        """The storage estimate, made before the first step's attention runs; refused above the budget."""
        timesteps = getattr(getattr(self.pipe, "scheduler", None), "timesteps", None)
        total = len(timesteps) if timesteps is not None and len(timesteps) else 1
        steps = total if self.steps_recorded is None else len([s for s in self.steps_recorded if s < total])
        self.plan = Plan(videos=videos, grid=self.grid, stride=self.stride, text_tokens=text_tokens,
                         layers=len(self.layers), steps=steps, queries=len(self.points),
                         temporal=self.temporal, joint=self.family.joint)
        check_budget(self.plan, self.budget)

    def _set_grid(self, module, latents, kwargs, text_len: int):
        (frames, height, width), (p_t, p_h, p_w) = self.family.latent_grid(module, latents, kwargs)
        s_t, s_s = self.scale
        self.patch = (p_t, p_h, p_w)
        self.grid = (frames // p_t, height // p_h, width // p_w)
        self.pixel_shape = ((frames - 1) * s_t + 1 if s_t > 1 else frames, height * s_s, width * s_s)
        f, h, w = self.grid
        st, ss = self.stride
        self.kept_grid = (len(range(0, f, st)), len(range(0, h, ss)), len(range(0, w, ss)))
        index = torch.arange(f * h * w).reshape(f, h, w)
        self.kept_tokens = index[::st, ::ss, ::ss].reshape(-1)
        self.query_tokens = [self.token_of(*p) for p in self.points]
        self._align_text(text_len)

    def _align_text(self, text_len: int):
        """The prompt's real tokens as positions in the transformer's text, which may be the end of what
        was encoded (HunyuanVideo crops its prompt template's prefix)."""
        ids, mask = self._ids[:, -text_len:], self._mask[:, -text_len:]
        self._real = [torch.nonzero(m).flatten() for m in mask]
        self.prompt_ids = [row[m].tolist() for row, m in zip(ids, mask)]

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
