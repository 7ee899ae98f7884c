"""Player: a canvas video player with a frame scrubber, play/pause, speed and a heat overlay.

The clip and the heat travel as PNG strips (see codec.py); the browser draws the heat for the
same frame index as the video, so the overlay stays synced while playing or scrubbing (which
`ipywidgets.Video` cannot do). Clicks on the canvas come back as (frame, y, x) in clip pixels.
A soundtrack travels as WAV, as long as the clip; while it plays its clock picks the frame shown, and
pause, the scrubber and the speed move it with the frames.
"""
from __future__ import annotations

from typing import Callable

import anywidget
import numpy as np
import traitlets as t

from .. import media
from ..limits import DEFAULT_FPS
from ..probes.inputs import as_fps
from .assets import css, esm
from .codec import heat_strip, sound_wav, video_strip
from .fallback import StaticFallback, clip_html

SPEEDS = (0.25, 0.5, 1.0, 2.0)


class Player(StaticFallback, anywidget.AnyWidget):
    _esm = esm("player.js")
    _css = css()

    video_png = t.Bytes(b"").tag(sync=True)
    num_frames = t.Int(0).tag(sync=True)
    frame_height = t.Int(0).tag(sync=True)
    frame_width = t.Int(0).tag(sync=True)
    fps = t.Float(DEFAULT_FPS).tag(sync=True)
    clip_id = t.Int(0).tag(sync=True)          # bumps with every new clip
    label = t.Unicode("").tag(sync=True)

    frame = t.Int(0).tag(sync=True)            # current frame; the browser writes it when paused/scrubbed
    playing = t.Bool(True).tag(sync=True)
    speed = t.Float(1.0).tag(sync=True)
    size = t.Int(256).tag(sync=True)           # canvas side in CSS px

    heat_png = t.Bytes(b"").tag(sync=True)     # grey strip; empty = no overlay
    heat_frames = t.Int(0).tag(sync=True)
    heat_height = t.Int(0).tag(sync=True)
    heat_width = t.Int(0).tag(sync=True)
    heat_id = t.Int(0).tag(sync=True)
    heat_label = t.Unicode("").tag(sync=True)
    opacity = t.Float(0.6).tag(sync=True)

    points = t.List([]).tag(sync=True)         # per frame [y, x] or None: a tracked marker (continuous pixels)
    markers = t.List([]).tag(sync=True)        # timeline marks, e.g. where each shot starts: [{frame, label}]

    audio_wav = t.Bytes(b"").tag(sync=True)    # the clip's soundtrack as WAV, as long as the clip; empty = silent
    muted = t.Bool(False).tag(sync=True)

    def __init__(self, video=None, fps: float | None = None, label: str = "", audio=None,
                 sample_rate: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.video: np.ndarray | None = None
        self.heat: np.ndarray | None = None
        self.audio: np.ndarray | None = None  # (samples, channels) as the browser plays it
        self.sample_rate: int | None = None
        self._click_handlers: list[Callable[[int, int, int], None]] = []
        self._marker_handlers: list[Callable[[int], None]] = []
        self.on_msg(self._on_browser_msg)
        if video is not None:
            self.show_video(video, fps=fps, label=label, audio=audio, sample_rate=sample_rate)
        elif fps is not None:  # an empty Player keeps the rate for the clips it will be given
            self.fps = as_fps(fps)

    @t.validate("speed")
    def _valid_speed(self, proposal):
        if proposal["value"] not in SPEEDS:
            raise t.TraitError(f"speed must be one of {SPEEDS}; got {proposal['value']!r}")
        return proposal["value"]

    @t.validate("opacity")
    def _valid_opacity(self, proposal):
        if not 0 <= proposal["value"] <= 1:
            raise t.TraitError(f"opacity must be in [0, 1]; got {proposal['value']!r}")
        return proposal["value"]

    @t.validate("frame")
    def _valid_frame(self, proposal):
        return int(np.clip(proposal["value"], 0, max(self.num_frames - 1, 0)))

    def show_video(self, video, fps: float | None = None, label: str = "", audio=None,
                   sample_rate: int | None = None) -> None:
        """Show a new clip (F, H, W, 3); clears the heat overlay and the tracked points. With `audio` (samples,
        or (samples, channels), at `sample_rate`) the clip plays with sound, which follows play/pause, the
        scrubber and the speed."""
        data, (f, h, w) = video_strip(video)
        fps = None if fps is None else as_fps(fps)
        if (audio is None) != (sample_rate is None):
            raise ValueError("audio= and sample_rate= go together (e.g. sorakit.add_sound(video) gives both)")
        wav, self.audio = (b"", None) if audio is None else \
            sound_wav(audio, sample_rate, f / (self.fps if fps is None else fps))
        self.sample_rate = None if audio is None else int(sample_rate)
        self.video = media.to_uint8(video)
        self.heat = None
        with self.hold_sync():
            self.video_png, self.num_frames, self.frame_height, self.frame_width = data, f, h, w
            if fps is not None:
                self.fps = fps
            self.label = label
            self.frame = 0
            self.heat_png, self.heat_frames, self.heat_label, self.points, self.markers = b"", 0, "", [], []
            self.audio_wav = wav
            self.clip_id += 1

    def is_showing(self, video) -> bool:
        """Whether `video` is the clip on screen (same pixels)."""
        return self.video is not None and self.video.shape == np.shape(video) and \
            np.array_equal(self.video, media.to_uint8(video))

    def show_heat(self, heat, label: str = "") -> None:
        """Overlay (F, h, w) heat in [0, 1] (any h, w; drawn stretched over the frame); None clears it."""
        if heat is None:
            self.heat = None
            with self.hold_sync():
                self.heat_png, self.heat_frames, self.heat_label = b"", 0, ""
                self.heat_id += 1
            return
        if self.video is None:
            raise ValueError("show a clip before a heat overlay")
        data, (f, h, w) = heat_strip(heat)
        if f != self.num_frames:
            raise ValueError(f"heat has {f} frames but the clip has {self.num_frames}")
        self.heat = np.asarray(heat, dtype=np.float32)
        with self.hold_sync():
            self.heat_png, self.heat_frames, self.heat_height, self.heat_width = data, f, h, w
            self.heat_label = label
            self.heat_id += 1

    def show_points(self, points) -> None:
        """A marker per frame: (y, x) in continuous pixel coordinates (pixel (i, j) spans [i, i+1) x [j, j+1),
        as `world.Camera` and `probes.track_point` use them), or None where nothing is tracked."""
        pts = list(points)
        if len(pts) != self.num_frames:
            raise ValueError(f"points needs one entry per frame ({self.num_frames}); got {len(pts)}")
        self.points = [None if p is None or not np.all(np.isfinite(p)) else [float(p[0]), float(p[1])] for p in pts]

    def show_markers(self, frames, labels=None) -> None:
        """Marks on the timeline at these frames of the clip (e.g. where each shot starts), with optional
        labels (shown on hover); an empty list clears them. Clicking a mark jumps to its frame."""
        frames = [int(f) for f in frames]
        labels = [""] * len(frames) if labels is None else [str(label) for label in labels]
        if len(labels) != len(frames):
            raise ValueError(f"markers need one label per frame; got {len(labels)} labels for {len(frames)} frames")
        if any(not 0 <= f < self.num_frames for f in frames):
            raise ValueError(f"marker frames must be from 0 to {self.num_frames - 1} (the clip's frames); got {frames}")
        self.markers = [{"frame": f, "label": label} for f, label in zip(frames, labels)]

    def on_marker(self, handler: Callable[[int], None]) -> None:
        """Call handler(index) when the mark `index` on the timeline is clicked."""
        self._marker_handlers.append(handler)

    def on_click(self, handler: Callable[[int, int, int], None]) -> None:
        """Call handler(frame, y, x) when the canvas is clicked (clip pixel coordinates)."""
        self._click_handlers.append(handler)

    def _on_browser_msg(self, _widget, content, _buffers) -> None:
        if isinstance(content, dict) and content.get("event") == "marker":
            index = content.get("index")
            if isinstance(index, int) and 0 <= index < len(self.markers):  # else stale, from a previous clip
                for marker_handler in self._marker_handlers:
                    marker_handler(index)
            return
        if not isinstance(content, dict) or content.get("event") != "click":
            return
        f, y, x = (int(content.get(k, -1)) for k in ("frame", "y", "x"))
        if not (0 <= f < self.num_frames and 0 <= y < self.frame_height and 0 <= x < self.frame_width):
            return  # stale click from a previous clip
        for handler in self._click_handlers:
            handler(f, y, x)

    def _fallback(self):
        if self.video is None:
            return None, None
        markup = clip_html(self.video, self.fps, self.label, audio=self.audio, sample_rate=self.sample_rate,
                           muted=self.muted)  # the saved page keeps the sound, muted as the widget was
        return markup, self.video
