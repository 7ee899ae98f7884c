"""How widgets show a failure: one red line with the message (no traceback)."""
from __future__ import annotations

import html


def error_html(message) -> str:
    """A message (or exception) as the HTML of an error line; ValueError messages say what is allowed."""
    return f'<span class="sorakit-error" style="color:#c62828">⚠ {html.escape(str(message))}</span>'
