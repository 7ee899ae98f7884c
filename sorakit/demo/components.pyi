"""Number inputs whose values reach the event validator as sent.

gr.Slider/gr.Number check min/max while preprocessing, and that error reaches an API client only as
an opaque HTTP 400; these templates (same widgets in the browser) leave the range check to the
validator, whose message the browser shows on the field and gradio_client raises as ValidationError.
"""
from __future__ import annotations

from typing import Any

import gradio as gr


def _as_sent(payload: Any) -> Any:
    """Whole floats (JSON's 20.0) become ints; anything else is left for the validator to judge."""
    if isinstance(payload, float) and payload.is_integer():
        return int(payload)
    return payload

from gradio.events import Dependency

class Slider(gr.Slider):
    is_template = True  # rendered by the frontend's Slider

    def preprocess(self, payload: Any) -> Any:
        return _as_sent(payload)
    from typing import Callable, Literal, Sequence, Any, TYPE_CHECKING
    from gradio.blocks import Block
    if TYPE_CHECKING:
        from gradio.components import Timer
        from gradio.components.base import Component


class Number(gr.Number):
    is_template = True  # rendered by the frontend's Number

    def preprocess(self, payload: Any) -> Any:
        return _as_sent(payload)
    from typing import Callable, Literal, Sequence, Any, TYPE_CHECKING
    from gradio.blocks import Block
    if TYPE_CHECKING:
        from gradio.components import Timer
        from gradio.components.base import Component
class Image(gr.Image):
    """An image upload passed on as its cached file path, unopened.

    gr.Image decodes the upload while preprocessing, so a file that is not an image fails there as an
    opaque HTTP 400; the validator opens it instead (header first, refusing huge images before
    decoding) and says what is wrong. Gradio has already checked that the path is an upload.
    """

    is_template = True  # rendered by the frontend's Image

    def preprocess(self, payload: Any) -> Any:
        if payload is None or (payload.url or "").startswith("data:") or payload.path is None:
            return super().preprocess(payload)
        return str(payload.path)
    from typing import Callable, Literal, Sequence, Any, TYPE_CHECKING
    from gradio.blocks import Block
    if TYPE_CHECKING:
        from gradio.components import Timer
        from gradio.components.base import Component

    