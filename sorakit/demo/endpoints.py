"""The demo's three endpoints: generate a clip, show a word's attention, run the physics probes.

Each request reads straight down: check the inputs and make the clip's Recipe (validation), sample
it (or take it from the cache of recent clips), export it with its recipe (media). Each endpoint
has a `check_*` twin used as the event's `validator=` (runs before the queue); the endpoint checks
again itself, so a direct call gets the same `gr.Error`. Argument order is the API order:
`/generate`, `/attention` and `/probe` all take the prompt first.
"""
from __future__ import annotations

import dataclasses
import secrets
import shutil
import tempfile
import threading
import time
import uuid
import weakref
from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable, Iterable

import gradio as gr
import numpy as np

from ..families.defaults import call_kwargs
from ..limits import LIMITS, Limits
from ..media import export
from ..recipe import Recipe
from ..sound import add_sound
from .validation import Checks, as_validations, normalize, raise_first, word_error

GALLERY_SIZE = 12  # clips kept in a browser session's gallery (as small animated GIFs)
THUMB_SCALE = 4
MARKS = {True: "pass", False: "**FAIL**", None: "n/a"}  # plain text: no emoji font needed


class ClientGone(Exception):
    """The browser or API client that asked for a job disconnected: its sampling stops."""


class Endpoints:
    def __init__(self, pipe, outputs: OutputDir | None = None, limits: Limits = LIMITS, cache_size: int = 8,
                 moderation=True, size: tuple[int, int] | None = None):
        """moderation: True (the policy in use), a sorakit.safety.Moderation or policy file, or False (off).
        size: (height, width) of every clip (default: the pipeline's)."""
        from ..safety import resolve

        self.pipe = pipe
        self.moderation = resolve(moderation)
        if self.moderation is not None:  # before serving: the validators read prompts with it, under a timeout
            self.moderation.warm()
        self.checks = Checks(pipe, limits, size)
        self.outputs = outputs or OutputDir()
        self.cache = ResultCache(cache_size)
        # session hash -> is its client still connected; set by build_app from Gradio's queue
        self.client_alive: Callable[[str], bool] | None = None

    def _alive_check(self, request) -> Callable[[str], None] | None:
        """check(where): raises ClientGone once the request's client has disconnected (None: not served
        by Gradio's queue, nothing to ask)."""
        session = getattr(request, "session_hash", None)
        alive = self.client_alive
        if session is None or alive is None:
            return None

        def check(where: str) -> None:
            if not alive(session):
                raise ClientGone(f"session {session} disconnected {where}")

        return check

    def _stop_when_gone(self, request) -> dict:
        """Pipeline kwargs that end the job at the next step once its client has disconnected."""
        check = self._alive_check(request)
        if check is None:
            return {}

        def on_step(pipe, step, timestep, tensors):
            check(f"at step {step}")
            return tensors

        return {"callback_on_step_end": on_step}

    def _refusal(self, prompt: Any) -> str | None:
        """The moderation's refusal of a prompt, as the validator's message (None: allowed, or not text)."""
        from ..safety import PolicyRefusal

        if self.moderation is None or not isinstance(prompt, str) or not prompt.strip():
            return None
        try:
            self.moderation.check_prompt(prompt.strip())
        except PolicyRefusal as refusal:
            return str(refusal)
        return None

    def _moderate(self, check: str, *args) -> None:
        """Run a moderation check ("check_recipe", "check_clip"); its refusal becomes a gr.Error naming the
        category (logged by the moderation, without the clip, which is not kept)."""
        from ..safety import PolicyRefusal

        if self.moderation is None:
            return
        try:
            getattr(self.moderation, check)(*args)
        except PolicyRefusal as refusal:
            raise gr.Error(str(refusal)) from None

    def _sample(self, recipe: Recipe, first_frame: np.ndarray | None, capture: bool = False,
                request=None) -> tuple[np.ndarray, Any]:
        """The recipe's clip (and attention capture if asked), from the cache when possible.

        Same settings, same weights -> bit-identical frames, so the Attention and Physics tabs see
        the clip the Generate button made from the same inputs without sampling it again. Moderation
        reads the prompt before anything runs and the clip before any tab shows it; a refused clip
        is dropped from the cache.
        """
        self._moderate("check_recipe", recipe)
        key = recipe.settings_id
        cached = self.cache.get(key)
        if "video" in cached and (not capture or cached.get("capture") is not None):
            return cached["video"], cached.get("capture")
        kwargs = {**call_kwargs(self.pipe, recipe, first_frame), **self._stop_when_gone(request)}
        try:
            if capture:
                from .. import attention

                with attention.capture(self.pipe) as cap:
                    video = np.asarray(self.pipe(**kwargs).frames[0])
            else:
                video, cap = np.asarray(self.pipe(**kwargs).frames[0]), None
        except ValueError as exc:  # the pipeline's own check_inputs
            raise gr.Error(str(exc)) from None
        self._moderate("check_clip", video, recipe)
        self.cache.put(key, video=video, **({"capture": cap} if capture else {}))
        return video, cap

    # --- /generate --------------------------------------------------------------------------------
    def check_generate(self, prompt, negative_prompt, seed, randomize_seed, steps, guidance, frames, image,
                       gallery=None):
        errors = self.checks.recipe(prompt, negative_prompt, 0 if randomize_seed else seed, steps, guidance,
                                    frames, image)
        errors[0] = errors[0] or self._refusal(prompt)
        return as_validations([*errors[:3], None, *errors[3:], None])  # randomize_seed, gallery: any value

    def generate(self, prompt: str, negative_prompt: str = "", seed: int = 0, randomize_seed: bool = False,
                 steps: int = 20, guidance: float = 4.0, frames: int | None = None, image: str | None = None,
                 gallery: list | None = None, progress=gr.Progress(track_tqdm=True), request: gr.Request = None):
        """Text (and optionally a first frame) -> an H.264 mp4 with AAC sound (`sorakit.add_sound`).
        Returns (clip, seed used, session gallery).

        `gallery` is the browser session's list of (clip, caption); a gr.State, so not part of the API.
        """
        if randomize_seed:
            seed = secrets.randbelow(self.checks.limits.seed[1] + 1)
        recipe, first = self.checks.accept(prompt, negative_prompt, seed, steps, guidance, frames, image)
        progress(0, desc="sampling")
        video, _ = self._sample(recipe, first, request=request)
        audio, sample_rate = add_sound(video, fps=recipe.fps)  # the clip plays with the sound of its impacts
        path = export(video, self.outputs.new("clip", ".mp4"), recipe=recipe, audio=audio, sample_rate=sample_rate)
        thumb = export(video, self.outputs.new("thumb", ".gif"), recipe=recipe, scale=THUMB_SCALE)
        caption = f"{recipe.prompt} · seed {recipe.seed}"
        return str(path), recipe.seed, [(str(thumb), caption), *gallery_items(gallery)][:GALLERY_SIZE]

    @staticmethod
    def show_gallery(gallery: list | None) -> list[tuple[str, str]]:
        return gallery_items(gallery)

    # --- /attention -------------------------------------------------------------------------------
    def check_attention(self, prompt, word, negative_prompt, seed, steps, guidance, frames, image):
        errors = self.checks.recipe(prompt, negative_prompt, seed, steps, guidance, frames, image)
        errors[0] = errors[0] or self._refusal(prompt)
        return as_validations([errors[0], word_error(word, self.checks.words(prompt)), *errors[1:]])

    def attention(self, prompt: str, word: str, negative_prompt: str = "", seed: int = 0, steps: int = 20,
                  guidance: float = 4.0, frames: int | None = None, image: str | None = None,
                  progress=gr.Progress(track_tqdm=True), request: gr.Request = None) -> str:
        """The clip of these settings with the chosen word's cross-attention heat laid over it (mp4)."""
        recipe, first = self.checks.accept(prompt, negative_prompt, seed, steps, guidance, frames, image)
        raise_first([word_error(word, self.checks.words(prompt))])
        from .. import attention

        progress(0, desc="sampling with attention capture")
        video, cap = self._sample(recipe, first, capture=True, request=request)
        try:
            heat = cap.word_map(word)
        except (KeyError, ValueError) as exc:
            raise gr.Error(f"no attention map for {word!r}: {exc}") from None
        recipe = dataclasses.replace(recipe, extra={"attention_word": normalize(word)})
        return str(export(attention.overlay(video, heat), self.outputs.new("attention", ".mp4"), recipe=recipe))

    def word_choices(self, prompt: str, current: str | None = None):
        """The Attention tab's word list follows the prompt (keeps the chosen word while it is there)."""
        words = self.checks.words(prompt)
        return gr.Dropdown(choices=words, value=current if current in words else (words[0] if words else None))

    # --- /probe -----------------------------------------------------------------------------------
    def check_probe(self, prompt, negative_prompt, seed, steps, guidance, frames, image):
        errors = self.checks.recipe(prompt, negative_prompt, seed, steps, guidance, frames, image)
        errors[0] = errors[0] or self._refusal(prompt)
        return as_validations(errors)

    def probe(self, prompt: str, negative_prompt: str = "", seed: int = 0, steps: int = 20, guidance: float = 4.0,
              frames: int | None = None, image: str | None = None, progress=gr.Progress(track_tqdm=True),
              request: gr.Request = None):
        """Physics probes on these settings' clip. Returns (verdicts as markdown, plot image, report dict)."""
        recipe, first = self.checks.accept(prompt, negative_prompt, seed, steps, guidance, frames, image)
        from .. import probes

        progress(0, desc="sampling")
        video, _ = self._sample(recipe, first, request=request)
        progress(0.9, desc="probing")
        try:
            report = probes.run(video, prompt=recipe.prompt, fps=recipe.fps)
        except ValueError as exc:
            raise gr.Error(f"the probes could not read this clip: {exc}") from None
        return report_markdown(report), figure_to_image(report.plot()), report.to_dict()


# --- what the page shows --------------------------------------------------------------------------
def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def report_markdown(report: Any) -> str:
    """A ProbeReport as a table: probe, verdict, reason (probes that could not run say why)."""
    results = getattr(report, "results", None)
    if results is None:  # a report with verdicts only
        rows = [(name, MARKS[bool(v)], "") for name, v in dict(report.verdicts).items()]
    else:
        rows = [(name, MARKS[r.passed], r.reason) for name, r in results.items()]
    if not rows:
        return "_No probe could judge this clip._"
    passed = getattr(report, "passed", None)
    head = {True: "**All probes that ran passed.**", False: "**Some probes failed.**",
            None: "**No probe could run on this clip.**"}[passed]
    lines = [head, "", "| probe | verdict | why |", "|---|---|---|"]
    lines += [f"| {_cell(name)} | {mark} | {_cell(reason)} |" for name, mark, reason in rows]
    return "\n".join(lines)


def figure_to_image(fig) -> np.ndarray:
    """A matplotlib figure as an RGB uint8 array, drawn with Agg whatever the notebook's backend
    (and closed, so a long-running server does not keep figures)."""
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    try:
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        return np.asarray(canvas.buffer_rgba())[..., :3].copy()
    finally:
        plt.close(fig)


def gallery_items(entries: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The session's clips that still exist on disk (old files are pruned), newest first."""
    return [(path, caption) for path, caption in entries or [] if Path(path).is_file()]


# --- where results live ---------------------------------------------------------------------------
class ResultCache:
    """Thread-safe LRU: a recipe's settings_id -> dict of results (e.g. {"video": ..., "capture": ...})."""

    def __init__(self, size: int = 8):
        self.size = size
        self._items: OrderedDict[str, dict] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> dict:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return dict(self._items[key])
            return {}

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def put(self, key: str, **values) -> None:
        with self._lock:
            entry = self._items.pop(key, {})
            entry.update(values)
            self._items[key] = entry
            while len(self._items) > self.size:
                self._items.popitem(last=False)


class OutputDir:
    """The demo's own output folder: a private temp dir, server-chosen file names, cleaned up.

    Gradio copies every returned file into its cache (which `Blocks(delete_cache=...)` ages out and
    empties on shutdown); the originals written here are pruned by age on every write and the whole
    folder is removed when the app closes or the process exits. No name is ever built from user text.
    """

    def __init__(self, max_age: float = 3600.0, prefix: str = "sorakit-demo-"):
        self.max_age, self.prefix = max_age, prefix
        self._open()

    def _open(self) -> None:
        from .cleanup import process_root

        # Inside this process's folder: swept by the next demo if this process is killed.
        self.path = Path(tempfile.mkdtemp(prefix=self.prefix, dir=process_root()))
        self._finalizer = weakref.finalize(self, shutil.rmtree, str(self.path), ignore_errors=True)

    def new(self, kind: str, suffix: str) -> Path:
        """A fresh path like `<dir>/clip-<uuid>.mp4` (`kind` and `suffix` come from the code, not users)."""
        if self.closed:  # the app was closed and launched again
            self._open()
        self.prune()
        return self.path / f"{kind}-{uuid.uuid4().hex}{suffix}"

    def prune(self) -> int:
        """Delete files older than `max_age` seconds; return how many went."""
        cutoff, removed = time.time() - self.max_age, 0
        for f in self.path.glob("*"):
            try:
                if f.stat().st_mtime < cutoff:
                    f.unlink()
                    removed += 1
            except FileNotFoundError:
                pass
        return removed

    def cleanup(self) -> None:
        self._finalizer()

    @property
    def closed(self) -> bool:
        return not self._finalizer.alive
