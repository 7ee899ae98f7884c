"""ProbePanel: choose physics probes, run them on the current clip, show verdicts and the report
plot; click a ball in the player to follow it with the generic point tracker (Lucas-Kanade).
Everything is computed by `sorakit.probes`; this panel only shows it.
"""
from __future__ import annotations

import html

import ipywidgets as W
import numpy as np

from .. import probes
from .figures import figure_png
from .messages import error_html
from .player import Player

_MARK = {True: ("PASS", "#2e7d32"), False: ("FAIL", "#c62828"), None: ("n/a", "#757575")}


def report_html(report) -> str:
    """The report as a table: probe, verdict, one-line reason."""
    rows = "".join(
        f'<tr><td style="padding:1px 8px 1px 0"><b>{html.escape(name)}</b></td>'
        f'<td style="color:{_MARK[r.passed][1]};padding-right:8px">{_MARK[r.passed][0]}</td>'
        f"<td>{html.escape(r.reason)}</td></tr>"
        for name, r in report.results.items())
    overall = _MARK[report.passed]
    return (f'<div class="sorakit-report"><div>overall: <b style="color:{overall[1]}">{overall[0]}</b></div>'
            f'<table style="font-size:12px">{rows}</table></div>')


class ProbePanel(W.VBox):
    def __init__(self, player: Player | None = None, listen: bool = True):
        self.player = player if player is not None else Player()
        self.video: np.ndarray | None = None
        self.prompt: str | None = None
        self.fps = float(self.player.fps)
        self.report = None
        self.point_track = None
        self.checks = {name: W.Checkbox(True, description=name, indent=False, layout=W.Layout(width="120px"))
                       for name in probes.PROBES}
        self.button = W.Button(description="Run probes", icon="check")
        self.verdicts = W.HTML("")
        self.plot = W.Image(format="png", layout=W.Layout(max_width="900px"))
        self.track_status = W.HTML("click a ball in the video (on this tab) to track it")
        self.button.on_click(lambda _: self.run())
        if listen:  # the Studio routes clicks itself
            self.player.on_click(self.track)
        own = [self.player] if player is None else []  # alone, it shows its own player
        super().__init__([*own, W.HBox(list(self.checks.values()), layout=W.Layout(flex_flow="row wrap")),
                          self.button, self.verdicts, self.track_status, self.plot])

    def set_clip(self, video, prompt: str | None = None, fps: float | None = None) -> None:
        """The clip to probe; clears the previous report and track."""
        self.video, self.prompt = video, prompt
        self.fps = float(fps) if fps else self.fps
        if not self.player.is_showing(video):
            self.player.show_video(video, fps=self.fps, label=prompt or "")
        self.report = self.point_track = None
        self.verdicts.value, self.plot.value = "", b""
        self.track_status.value = "click a ball in the video (on this tab) to track it"

    def selected(self) -> list[str]:
        return [name for name, box in self.checks.items() if box.value]

    def run(self):
        """Run the chosen probes; returns the ProbeReport (None after showing an error)."""
        try:
            if self.video is None:
                raise ValueError("no clip yet: generate or pick one first")
            if not self.selected():
                raise ValueError("choose at least one probe")
            self.verdicts.value = "running probes…"
            self.report = probes.run(self.video, prompt=self.prompt, fps=self.fps, probes=self.selected())
            self.verdicts.value = report_html(self.report)
            self.plot.value = figure_png(self.report.plot())
            return self.report
        except Exception as exc:  # shown in the widget, not as a traceback
            self.verdicts.value = error_html(exc)
            return None

    def track(self, frame: int, y: int, x: int):
        """Follow the point at pixel (y, x) of `frame` through the clip; the player draws it per frame."""
        try:
            if self.video is None:
                raise ValueError("no clip yet: generate or pick one first")
            pt = probes.track_point(self.video, frame, y + 0.5, x + 0.5)  # the clicked pixel's centre
        except Exception as exc:
            self.track_status.value = error_html(exc)
            return None
        self.point_track = pt
        self.player.show_points([p if ok else None for p, ok in zip(pt.pixel, pt.present)])
        seen = np.flatnonzero(pt.present)
        path = float(np.nansum(np.linalg.norm(np.diff(pt.pos[seen], axis=0), axis=-1))) if len(seen) > 1 else 0.0
        self.track_status.value = (f"tracked the point from frame {frame} in {len(seen)}/{len(pt.present)} frames; "
                                   f"path length {path:.2f} world units (green circle in the player)")
        return pt
