"""Jupyter widgets for exploring a text-to-video pipeline (anywidget + ipywidgets).

    from sorakit import ui
    ui.Studio(pipe)                 # everything below, wired together
    ui.PromptPanel(pipe)            # prompt, seed, steps, guidance, frames, Generate + progress
    ui.SeedGrid(pipe, prompt)       # prompt variants x seeds, looping side by side; click to pick
    ui.Player(video)                # canvas player with a frame-synced heat overlay
    ui.AttentionExplorer(pipe, player, generation)
    ui.ProbePanel(player)           # physics probes on the current clip; click a ball to track it
    ui.SweepExplorer("runs/sweep")  # a sweep's table: sort by any column, filter by prompt, click a row to play it

The browser side (ES modules + CSS) lives in the repository's `widgets/` and ships in the wheel as
`sorakit/_widgets/`; anywidget loads each file from its path (no CDN), so it can hot-reload edits.
"""
from .attention_explorer import AttentionExplorer
from .chips import WordChips
from .player import Player
from .probe_panel import ProbePanel
from .prompt_panel import PromptPanel
from .recipe import Generation, Recipe, run_recipe
from .seed_grid import SeedGrid
from .studio import Studio
from .sweep_explorer import SweepExplorer

__all__ = ["AttentionExplorer", "Generation", "Player", "ProbePanel", "PromptPanel", "Recipe", "SeedGrid",
           "Studio", "SweepExplorer", "WordChips", "run_recipe"]
