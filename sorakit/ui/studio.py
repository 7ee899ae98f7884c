"""Studio: the all-in-one widget. Prompt panel and player on top; attention, probes, the seed
grid and the storyboard (with remix / extend) in tabs below. A Generate or a picked grid clip
becomes the current clip of every part; a film, remix or extension becomes the current clip of the
player and the probes (attention explores clips it can sample again from a prompt).
"""
from __future__ import annotations

import os
from functools import partial

import ipywidgets as W

from .. import media
from ..families.defaults import SORAKIT, pipeline_defaults
from .attention_explorer import AttentionExplorer, sample_with_capture
from .fallback import StaticFallback, clip_html
from .player import Player
from .probe_panel import ProbePanel
from .prompt_panel import PromptPanel
from .recipe import Generation, run_recipe
from .seed_grid import SeedGrid
from .storyboard_tab import StoryboardTab

TABS = ("Attention", "Probes", "Seeds", "Storyboard")


class Studio(StaticFallback, W.VBox):
    def __init__(self, pipe, prompt: str = "a red ball is thrown to the right and bounces twice", seed: int = 0,
                 steps: int | None = None, guidance: float | None = None, num_frames: int | None = None,
                 seeds: int = 4, moderation=True, height: int | None = None, width: int | None = None):
        """pipe: sorakit's pipeline or a supported diffusers one (sorakit.load); steps, guidance, num_frames,
        height, width: None for the pipeline's defaults (sorakit.families.defaults).
        moderation: True (the policy in use, see sorakit.safety), a Moderation, or False (off)."""
        self.pipe = pipe
        self.generation: Generation | None = None
        spec = pipeline_defaults(pipe)
        steps = spec.steps if steps is None else steps
        guidance = spec.guidance if guidance is None else guidance
        sizes = dict(num_frames=num_frames, height=height, width=width)
        self.player = Player(fps=spec.fps)  # the pipeline's rate before any clip
        self.prompt_panel = PromptPanel(pipe, prompt, seed, steps, guidance, **sizes,
                                        runner=partial(sample_with_capture, moderation=moderation))
        self.attention = AttentionExplorer(pipe, self.player, listen=False)
        self.probes = ProbePanel(self.player, listen=False)
        self.seed_grid = SeedGrid(pipe, prompt, seeds=seeds, steps=steps, guidance=guidance, **sizes,
                                  runner=partial(run_recipe, moderation=moderation))
        # storyboards, remixes and extensions condition on given frames: sorakit's pipeline only
        self.storyboard = StoryboardTab(pipe, self.player, show=self.show_clip, current=lambda: self.generation,
                                        prompts=[prompt], seed=seed, steps=steps, guidance=guidance,
                                        moderation=moderation) if spec.family == SORAKIT else None
        tabs = [self.attention, self.probes, self.seed_grid, *([self.storyboard] if self.storyboard else [])]
        self.tabs = W.Tab(tabs)
        for i, title in enumerate(TABS[:len(tabs)]):
            self.tabs.set_title(i, title)
        self.prompt_panel.on_result(self.show)
        self.seed_grid.on_pick(self.pick)
        self.player.on_click(self._on_click)
        self.prompt_panel.layout.width = "420px"
        self.player.layout.margin = "0 0 0 24px"
        # clips play with the sound add_sound hears in them; this mutes it (the player keeps the soundtrack)
        self.mute = W.ToggleButton(value=False, description="Mute", icon="volume-off", tooltip="mute the clip's sound",
                                   layout=W.Layout(width="90px", margin="4px 0 0 24px"))
        W.link((self.mute, "value"), (self.player, "muted"))
        super().__init__([W.HBox([self.prompt_panel, W.VBox([self.player, self.mute])]), self.tabs])
        self.add_class("sorakit-studio")

    @property
    def video(self):
        """The current clip (F, H, W, 3) float in [0, 1], or None."""
        return None if self.generation is None else self.generation.video

    def generate(self) -> Generation | None:
        """Same as clicking Generate: returns the Generation, or None (the error is shown in the panel)."""
        return self.prompt_panel.generate()

    def show(self, generation: Generation) -> None:
        """Make `generation` the current clip of the player, the attention explorer and the probes."""
        self.generation = generation
        self.player.show_video(generation.video, fps=generation.fps, label=generation.recipe.prompt,
                               **self._sound(generation))
        self.attention.set_generation(generation)
        self.probes.set_clip(generation.video, generation.recipe.prompt, generation.fps)
        if not self.seed_grid.generations:  # an untouched grid follows the current prompt
            self.seed_grid.variants.value = generation.recipe.prompt
        if self.storyboard is not None:
            self.storyboard.remix.refresh()

    def show_clip(self, generation: Generation) -> None:
        """A clip made from other clips (a storyboard's film, a remix, an extension): into the player and
        the probes. The attention explorer keeps its clip: it samples a clip again from its prompt alone."""
        self.generation = generation
        self.player.show_video(generation.video, fps=generation.fps, label=generation.recipe.prompt or
                               generation.recipe.lineage, **self._sound(generation))
        self.probes.set_clip(generation.video, generation.recipe.prompt, generation.fps)
        if self.storyboard is not None:
            self.storyboard.remix.refresh()

    def pick(self, generation: Generation) -> None:
        """A clip picked in the seed grid: its recipe goes into the prompt panel, the clip into the player."""
        self.prompt_panel.set_recipe(generation.recipe)
        self.show(generation)

    def export(self, path: str | os.PathLike):
        """Write the current clip (mp4 or gif) with its recipe."""
        if self.generation is None:
            raise ValueError("no clip yet: press Generate first")
        sound = {} if str(path).lower().endswith(".gif") else self._sound_shown()  # a gif has no sound
        return media.export(self.generation.video, path, recipe=self.generation.recipe, **sound)

    def _sound_shown(self) -> dict:
        """The player's soundtrack as audio=/sample_rate= while it shows the current clip, else nothing."""
        if self.player.audio is None or not self.player.is_showing(self.generation.video):
            return {}
        return {"audio": self.player.audio, "sample_rate": self.player.sample_rate}

    def _sound(self, generation: Generation) -> dict:
        """show_video's audio= and sample_rate= for a clip: what sorakit.add_sound hears in its frames (in a
        storyboard's film, in each take on its own: Film.with_sound)."""
        from ..sound import add_sound

        film = getattr(self.storyboard, "film", None)
        if film is not None and generation.video is film.video:
            film = film.with_sound()
            return {"audio": film.audio, "sample_rate": film.sample_rate}
        audio, sample_rate = add_sound(generation.video, fps=generation.fps)
        return {"audio": audio, "sample_rate": sample_rate}

    def _on_click(self, frame: int, y: int, x: int) -> None:
        """A click on the video tracks a ball on the Probes tab and queries self-attention elsewhere."""
        if self.tabs.selected_index == TABS.index("Probes"):
            self.probes.track(frame, y, x)
        elif self.attention.generation is not self.generation:
            self.attention.status.value = "attention explores clips made from a prompt: Generate or pick one"
        else:
            self.attention.query(frame, y, x)

    def _fallback(self):
        if self.generation is None:
            return None, None
        gen = self.generation
        # The saved page keeps the clip's sound, muted as the Studio was.
        markup = clip_html(gen.video, gen.fps, gen.recipe.prompt, muted=self.player.muted, **self._sound_shown())
        return markup, gen.video
