"""StoryboardTab: the Studio's storyboard. A list of shots (add, remove, move up or down, edit the
prompt and how a shot follows the last: continue or cut), Generate all with one progress bar over
the shots, and the joined film on the player with a mark on the timeline where each shot starts.

Clicking a mark (or a shot's number) selects that shot: the Remix / Extend panel below then acts
on it; "current clip" goes back to the player's clip. The state is a `sorakit.Storyboard`, so
`tab.board` is the same object a script would build and run.
"""
from __future__ import annotations

from typing import Callable

import ipywidgets as W

from ..limits import DEFAULT_FPS, LIMITS
from ..storyboard import TRANSITIONS, Film, Storyboard
from .messages import error_html
from .player import Player
from .recipe import Generation, quiet_progress
from .remix_panel import RemixPanel, Source

NEW_SHOT = "the ball bounces to a stop"


class StoryboardTab(W.VBox):
    def __init__(self, pipe, player: Player, show: Callable[[Generation], None],
                 current: Callable[[], Generation | None], prompts=(), seed: int = 0, steps: int = 20,
                 guidance: float = 4.0, moderation=True):
        """show(generation): make a clip the owner's current one; current(): the owner's current clip."""
        from ..safety import resolve

        self.pipe, self.player, self._show, self._current = pipe, player, show, current
        self.moderation = resolve(moderation)
        self.board = Storyboard(list(prompts), seed=seed)
        self.film: Film | None = None
        self.selected: int | None = None  # a shot of self.film, or None: the current clip
        self.error: str | None = None
        self.rows = W.VBox([])
        self.new_prompt = W.Text("", placeholder=f"a new shot, e.g. '{NEW_SHOT}'", layout=W.Layout(width="60%"))
        self.new_transition = W.Dropdown(options=TRANSITIONS, value="continue", layout=W.Layout(width="110px"))
        self.add_button = W.Button(description="Add shot", icon="plus")
        self.steps = W.IntSlider(steps, min=LIMITS.demo_steps[0], max=max(LIMITS.demo_steps[1], steps),
                                 description="steps")
        self.guidance = W.FloatSlider(guidance, min=LIMITS.demo_guidance[0],
                                      max=max(LIMITS.demo_guidance[1], guidance), step=0.5, description="guidance")
        self.button = W.Button(description="Generate all", button_style="primary", icon="film")
        self.progress = W.IntProgress(0, min=0, max=1, layout=W.Layout(width="200px"))
        self.status = W.HTML("")
        self.back = W.Button(description="current clip", tooltip="remix / extend the player's clip, not a shot")
        self.remix = RemixPanel(pipe, self.source, self._show_derived, moderation=moderation,
                                settings=lambda: (int(self.steps.value), float(self.guidance.value)))
        self.add_button.on_click(lambda _: self.add_shot(self.new_prompt.value, self.new_transition.value))
        self.button.on_click(lambda _: self.generate())
        self.back.on_click(lambda _: self.select_shot(None))
        player.on_marker(self.select_shot)
        super().__init__([self.rows, W.HBox([self.new_prompt, self.new_transition, self.add_button]),
                          self.steps, self.guidance, W.HBox([self.button, self.progress]), self.status,
                          W.HTML("<b>Remix / extend</b> (click a shot's mark on the timeline to pick it)"),
                          self.back, self.remix])
        self.add_class("sorakit-storyboard")
        self._draw_rows()

    # --- the shot list ----------------------------------------------------------------------------
    def add_shot(self, prompt: str, transition: str = "continue") -> bool:
        """Append a shot; False (and the reason shown) if the prompt or transition is not allowed."""
        if self._edit(lambda: self.board.add(prompt, transition=transition)):
            self.new_prompt.value = ""
            return True
        return False

    def remove_shot(self, index: int) -> bool:
        return self._edit(lambda: self.board.remove(index))

    def move_shot(self, index: int, to: int) -> bool:
        if not 0 <= to < len(self.board):
            return False
        return self._edit(lambda: self.board.move(index, to))

    def edit_shot(self, index: int, **changes) -> bool:
        """Change a shot's prompt and/or transition."""
        return self._edit(lambda: self.board.edit(index, **changes), redraw="transition" in changes)

    def _edit(self, change: Callable[[], object], redraw: bool = True) -> bool:
        try:
            change()
        except (ValueError, IndexError) as exc:
            self._fail(exc)
            return False
        self.error, self.status.value = None, ""
        if redraw:
            self._draw_rows()
        return True

    def _draw_rows(self) -> None:
        rows = []
        for i, shot in enumerate(self.board.shots):
            pick = W.Button(description=str(i + 1), tooltip="remix / extend this shot of the film",
                            layout=W.Layout(width="36px"), disabled=self.film is None or i >= len(self.film.shots))
            pick.add_class("sorakit-shot-pick")
            transition = W.Dropdown(options=TRANSITIONS if i else ("first",), value=shot.transition if i else "first",
                                    disabled=i == 0, layout=W.Layout(width="110px"))
            prompt = W.Text(shot.prompt, continuous_update=False, layout=W.Layout(width="55%"))
            up, down, remove = (W.Button(icon=icon, tooltip=tip, layout=W.Layout(width="36px"))
                                for icon, tip in (("arrow-up", "move up"), ("arrow-down", "move down"),
                                                  ("trash", "remove")))
            pick.on_click(lambda _, i=i: self.select_shot(i))
            transition.observe(lambda c, i=i: i and self.edit_shot(i, transition=c["new"]), "value")
            prompt.observe(lambda c, i=i: self.edit_shot(i, prompt=c["new"]), "value")
            up.on_click(lambda _, i=i: self.move_shot(i, i - 1))
            down.on_click(lambda _, i=i: self.move_shot(i, i + 1))
            remove.on_click(lambda _, i=i: self.remove_shot(i))
            row = W.HBox([pick, transition, prompt, up, down, remove])
            row.add_class("sorakit-shot")
            rows.append(row)
        self.rows.children = rows or [W.HTML("<i>no shots yet: add one below</i>")]

    # --- the film ---------------------------------------------------------------------------------
    def generate(self) -> Film | None:
        """Make every shot and show the film with its shot marks; None after showing an error."""
        self.error = None
        self.button.disabled = True
        self.progress.bar_style, self.progress.value, self.progress.max = "", 0, max(1, len(self.board))
        self.status.value = "starting…"
        try:
            if not len(self.board):
                raise ValueError("the storyboard is empty: add a shot first")
            if self.moderation is not None:
                self.moderation.check_prompt([s.prompt for s in self.board.shots])
            with quiet_progress(self.pipe):
                film = self.board.run(self.pipe, num_inference_steps=int(self.steps.value),
                                      guidance_scale=float(self.guidance.value), progress=False,
                                      on_shot=self._on_shot)
            if self.moderation is not None:
                self.moderation.check_clip(film.video, film.recipe)
        except Exception as exc:  # shown in the tab: a notebook user should not get a traceback
            self._fail(exc)
            return None
        finally:
            self.button.disabled = False
        self.film, self.selected = film, None
        self.progress.bar_style = "success"
        self.status.value = f"{len(film.shots)} shots, {len(film.video)} frames"
        fps = film.recipe.fps or DEFAULT_FPS
        self._show(Generation(film.recipe, film.video, fps))
        self.player.show_markers(film.starts, [f"shot {i + 1}{'' if i == 0 else f' ({s.transition})'}: {s.prompt}"
                                               for i, s in enumerate(film.shots)])
        self._draw_rows()
        self.remix.refresh()
        return film

    def _on_shot(self, done: int, total: int) -> None:
        self.progress.max, self.progress.value = total, done
        self.status.value = f"shot {done}/{total} done"

    def select_shot(self, index: int | None) -> None:
        """Remix / Extend act on this shot of the film (None: on the current clip)."""
        if index is not None and (self.film is None or not 0 <= index < len(self.film.shots)):
            return
        self.selected = index
        if index is not None and self.player.is_showing(self.film.video):
            self.player.frame = self.film.starts[index]
        self.remix.refresh()

    def source(self) -> Source | None:
        """What Remix / Extend act on: the selected shot, else the current clip."""
        if self.film is not None and self.selected is not None:
            i = self.selected
            return Source(self.film.shot_videos[i], self.film.recipes[i], f"shot {i + 1}: {self.film.prompts[i]}")
        gen = self._current()
        return None if gen is None else Source(gen.video, gen.recipe, f"current clip: {gen.recipe.prompt}")

    def _show_derived(self, generation: Generation) -> None:
        self.selected = None  # the player now shows the new clip, not the film
        self._show(generation)

    def _fail(self, exc: BaseException) -> None:
        self.error = f"{'' if isinstance(exc, ValueError) else type(exc).__name__ + ': '}{exc}"
        self.status.value = error_html(self.error)
        self.progress.bar_style = "danger"

