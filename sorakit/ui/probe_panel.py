"""ProbePanel (provisional until sorakit.probes lands)."""
from __future__ import annotations

import ipywidgets as W

from .player import Player


class ProbePanel(W.VBox):
    def __init__(self, player: Player | None = None, listen: bool = True):
        self.player = player if player is not None else Player()
        self.video = self.prompt = None
        self.fps = 8.0
        self.status = W.HTML("physics probes arrive with sorakit.probes")
        super().__init__([self.status])

    def set_clip(self, video, prompt=None, fps=8.0):
        self.video, self.prompt, self.fps = video, prompt, fps

    def track(self, frame, y, x):
        return None
