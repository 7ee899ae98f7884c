"""Static fallbacks: what a saved notebook shows where widget state is not saved (GitHub, nbviewer).

Widgets add `text/html` (an embedded H.264 video, as `sorakit.show` makes, with its soundtrack muxed in
where the widget has one) and `image/png` (a strip of frames) to their MIME bundle. JupyterLab with a
live kernel renders the widget view instead, because the widget MIME type ranks above both.
"""
from __future__ import annotations

import base64
import html

import cv2
import numpy as np

from .. import media
from .codec import png

POSTER_FRAMES = 8  # frames in the PNG contact strip
POSTER_HEIGHT = 128  # frames drawn about this tall: a 32-px clip readable, a 480-px one not megabytes


def poster(video) -> bytes:
    """PNG of up to POSTER_FRAMES evenly spaced frames side by side, scaled to about POSTER_HEIGHT."""
    frames = media.to_uint8(video)
    idx = np.linspace(0, len(frames) - 1, min(POSTER_FRAMES, len(frames))).round().astype(int)
    row = np.concatenate(list(frames[idx]), axis=1)
    height, width = row.shape[:2]
    if height <= POSTER_HEIGHT:  # a whole nearest-neighbour factor keeps small clips' pixels sharp
        k = POSTER_HEIGHT // height
        return png(row.repeat(k, 0).repeat(k, 1))
    size = (max(1, round(width * POSTER_HEIGHT / height)), POSTER_HEIGHT)
    return png(cv2.resize(np.ascontiguousarray(row), size, interpolation=cv2.INTER_AREA))


def clip_html(video, fps: float, caption: str = "", width: int = 256, *, audio=None, sample_rate: int | None = None,
              muted: bool = False) -> str:
    """An embedded looping video with a caption below it. With `audio` (at `sample_rate`) the video carries
    it as AAC (16 kHz stereo: about 9 kB a second, where a WAV takes 64), started muted when `muted`."""
    tag = media.show(video, fps=fps, width=width, audio=audio, sample_rate=sample_rate, muted=muted).data
    text = f'<div style="font:12px sans-serif">{html.escape(caption)}</div>' if caption else ""
    return f'<div style="display:inline-block;margin:4px">{tag}{text}</div>'


class StaticFallback:
    """Mixin for widgets: `_fallback()` returns (html or None, video or None)."""

    def _fallback(self):
        raise NotImplementedError

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is None:
            return None
        data, meta = bundle if isinstance(bundle, tuple) else (bundle, {})
        markup, video = self._fallback()
        if markup:
            data["text/html"] = markup
        if video is not None:
            data["image/png"] = base64.b64encode(poster(video)).decode("ascii")
        return data, meta
