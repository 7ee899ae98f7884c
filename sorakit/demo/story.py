"""The demo's storyboard and remix endpoints: `/storyboard` (2-3 shots joined into one film, with its
shot boundaries) and `/remix` (SDEdit of an uploaded clip or one of the session's gallery).

They share the demo's `Endpoints`: its moderation (every prompt before the queue and again in the
job, the finished clip after), its output folder and the session gallery. Like the other endpoints,
each has a `check_*` twin used as the event's validator, and checks again itself.
"""
from __future__ import annotations

import html
from typing import Any

import gradio as gr
import numpy as np

from ..families.defaults import SORAKIT
from ..limits import DEFAULT_FPS
from ..media import export
from .endpoints import GALLERY_SIZE, THUMB_SCALE, Endpoints, gallery_items
from .validation import as_validations, clip_error, film_error, float_error, int_error, prompt_error, raise_first

SHOTS = 3  # prompt boxes on the Storyboard tab
TRANSITIONS = ("continue", "cut")
NO_SOURCE = "upload a clip to remix, or click a clip in this session's gallery"


class StoryEndpoints:
    def __init__(self, base: Endpoints):
        self.base, self.pipe, self.checks = base, base.pipe, base.checks
        # Shots and remixes condition on given frames (`frames=`, `video=`): sorakit's own pipeline alone.
        self.native = base.checks.spec.family == SORAKIT
        self.window = int(base.pipe.config.get("num_frames", base.checks.limits.demo_frames[1]))

    # --- shared checks ------------------------------------------------------------------------------
    def _prompt(self, text: Any, name: str = "prompt", required: bool = True) -> str | None:
        checks = self.checks
        error = prompt_error(text, checks.tokenizer, checks.max_tokens, limits=checks.limits, name=name,
                             required=required)
        if error is None and not self.native:
            error = f"storyboards and remixes need sorakit's own pipeline; this demo runs {self.checks.spec.pipeline}"
        return error or self.base._refusal(text)

    def _sampling(self, seed, steps, guidance) -> list[str | None]:
        lim = self.checks.limits
        return [int_error("seed", seed, lim.seed), int_error("steps", steps, lim.demo_steps),
                float_error("guidance", guidance, lim.demo_guidance)]

    def _add_to_gallery(self, video: np.ndarray, recipe, caption: str, gallery) -> list:
        thumb = export(video, self.base.outputs.new("thumb", ".gif"), recipe=recipe, scale=THUMB_SCALE)
        return [(str(thumb), caption), *gallery_items(gallery)][:GALLERY_SIZE]

    # --- /storyboard ------------------------------------------------------------------------------
    def _storyboard_errors(self, prompts, transitions, seed, steps, guidance, frames) -> list[str | None]:
        """One message-or-None per input: the prompts, the transitions, seed, steps, guidance, frames per shot."""
        given = [p for p in prompts if _written(p)]
        prompt_errors = [self._prompt(p, f"shot {i + 1}'s prompt", required=False) for i, p in enumerate(prompts)]
        if not _written(prompts[0]):
            prompt_errors[0] = prompt_errors[0] or film_error(0, 1)
        for i in range(2, len(prompts)):  # no gaps: shot 3 follows shot 2
            if _written(prompts[i]) and not _written(prompts[i - 1]):
                prompt_errors[i] = prompt_errors[i] or f"shot {i + 1} follows shot {i}: write shot {i}'s prompt first"
        transition_errors = [None if t in TRANSITIONS else f"a shot follows the last by one of "
                             f"{', '.join(TRANSITIONS)}; got {t!r}" for t in transitions]
        lo, hi = self.checks.limits.demo_frames
        frames_error = int_error("frames per shot", frames, (lo, min(hi, self.window)))
        if frames_error is None and not any(prompt_errors):
            frames_error = film_error(len(given), int(frames), self.checks.limits, max_shots=SHOTS)
        return [*prompt_errors, *transition_errors, *self._sampling(seed, steps, guidance), frames_error]

    def check_storyboard(self, prompt, prompt_2, prompt_3, transition_2, transition_3, seed, steps, guidance,
                         frames, gallery=None):
        errors = self._storyboard_errors([prompt, prompt_2, prompt_3], [transition_2, transition_3], seed, steps,
                                         guidance, frames)
        return as_validations([*errors, None])  # gallery: any value

    def storyboard(self, prompt: str, prompt_2: str = "", prompt_3: str = "", transition_2: str = "continue",
                   transition_3: str = "continue", seed: int = 0, steps: int = 20, guidance: float = 4.0,
                   frames: int = 8, gallery: list | None = None, progress=gr.Progress(track_tqdm=True),
                   request: gr.Request = None):
        """Shots -> one film (mp4) and its shots as a timeline. Returns (film, timeline HTML, session gallery).

        A shot after the first continues the last one or cuts to a new framing of the same world;
        empty prompts at the end are left out. Every prompt passes moderation, and the film after."""
        from ..storyboard import storyboard

        prompts, transitions = [prompt, prompt_2, prompt_3], ["continue", transition_2, transition_3]
        raise_first(self._storyboard_errors(prompts, transitions[1:], seed, steps, guidance, frames))
        shots = [{"prompt": p.strip(), "transition": t, "frames": int(frames)}
                 for p, t in zip(prompts, transitions) if _written(p)]
        self.base._moderate("check_prompt", [s["prompt"] for s in shots])
        progress(0, desc="shots")
        check = self.base._alive_check(request)  # a job whose client left ends after the shot it is on
        on_shot = None if check is None else (lambda done, total: check(f"after shot {done} of {total}"))
        try:
            film = storyboard(self.pipe, shots, seed=int(seed), num_inference_steps=int(steps),
                              guidance_scale=float(guidance), on_shot=on_shot, audio=True)
        except ValueError as exc:  # the storyboard's or the pipeline's own checks
            raise gr.Error(str(exc)) from None
        self.base._moderate("check_clip", film.video, film.recipe)
        path = export(film.video, self.base.outputs.new("film", ".mp4"), recipe=film.recipe, audio=film.audio,
                      sample_rate=film.sample_rate)  # each take heard on its own, as /generate's clips are
        caption = f"storyboard: {' / '.join(film.prompts)} · seed {int(seed)}"
        return str(path), timeline_html(film), self._add_to_gallery(film.video, film.recipe, caption, gallery)

    # --- /remix -----------------------------------------------------------------------------------
    def _source(self, clip, pick, gallery) -> tuple[str | None, str | None]:
        """(the file to remix, or None; the message saying why not)."""
        if clip is not None:
            return clip, clip_error(clip, self.checks.limits)
        if pick is None:
            return None, NO_SOURCE
        items = gallery_items(gallery)
        error = int_error("gallery clip", pick, (0, max(0, len(items) - 1)))
        if error is not None or not items:
            return None, f"this session's gallery has {len(items)} clips; {NO_SOURCE}"
        return items[int(pick)][0], None

    def _remix_errors(self, prompt, clip, pick, strength, seed, steps, guidance, gallery) -> list[str | None]:
        source_error = self._source(clip, pick, gallery)[1]
        return [self._prompt(prompt), None if clip is None else source_error,
                source_error if clip is None else None, float_error("strength", strength, (0.0, 1.0)),
                *self._sampling(seed, steps, guidance)]

    def check_remix(self, prompt, clip, pick, strength, seed, steps, guidance, gallery=None):
        return as_validations([*self._remix_errors(prompt, clip, pick, strength, seed, steps, guidance, gallery),
                               None])

    def remix(self, prompt: str, clip: str | None = None, pick: int | None = None, strength: float = 0.6,
              seed: int = 0, steps: int = 20, guidance: float = 4.0, gallery: list | None = None,
              progress=gr.Progress(track_tqdm=True)):
        """An uploaded clip (or gallery clip number `pick` of this session) remade with `prompt` at `strength`
        (0 keeps it, 1 ignores it). Returns (the remix as mp4, session gallery)."""
        from ..media_read import read_clip
        from ..remix import remix

        raise_first(self._remix_errors(prompt, clip, pick, strength, seed, steps, guidance, gallery))
        path, _ = self._source(clip, pick, gallery)
        self.base._moderate("check_prompt", prompt.strip())
        try:
            video, parent = read_clip(path)
        except ValueError as exc:
            raise gr.Error(f"the clip could not be read: {exc}") from None
        most, (height, width) = self.checks.limits.demo_frames[1], video.shape[1:3]
        if len(video) > most:
            raise gr.Error(f"the clip has {len(video)} frames; the demo remixes at most {most}: cut it first")
        if (height, width) != (self.checks.height, self.checks.width):
            gr.Info(f"the clip is {width}x{height} px: it was resized to the model's "
                    f"{self.checks.width}x{self.checks.height}")
        progress(0, desc="remixing")
        try:
            made = remix(self.pipe, video, prompt.strip(), float(strength), parent=parent, seed=int(seed),
                         num_inference_steps=int(steps), guidance_scale=float(guidance), audio=True)
        except ValueError as exc:
            raise gr.Error(str(exc)) from None
        self.base._moderate("check_clip", made.video, made.recipe)
        out = export(made.video, self.base.outputs.new("remix", ".mp4"), recipe=made.recipe, audio=made.audio,
                     sample_rate=made.sample_rate)
        caption = f"remix of {made.recipe.parents[0][:8]} at {float(strength):g}: {prompt.strip()}"
        return str(out), self._add_to_gallery(made.video, made.recipe, caption, gallery)


def _written(prompt: Any) -> bool:
    return isinstance(prompt, str) and bool(prompt.strip())


def timeline_html(film) -> str:
    """The film's shots as a bar, one segment per shot as long as its frames, with where each starts."""
    fps = film.recipe.fps or DEFAULT_FPS
    ends = [*film.starts[1:], len(film.video)]
    parts = []
    for i, (shot, start, end) in enumerate(zip(film.shots, film.starts, ends)):
        how = "" if i == 0 else f" · {shot.transition}"
        parts.append(f'<div class="sorakit-shot" data-start="{start}" title="{html.escape(shot.prompt)}" '
                     f'style="flex:{end - start};border-left:3px solid #f98e09;padding:2px 6px;overflow:hidden">'
                     f"<b>{i + 1}</b>{how} · {start / fps:.1f} s (frame {start + 1})<br>"
                     f"<small>{html.escape(shot.prompt)}</small></div>")
    return f'<div class="sorakit-shots" style="display:flex;gap:2px">{"".join(parts)}</div>'
