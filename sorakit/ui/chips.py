"""WordChips: the prompt's words as clickable chips; `selected` is the chosen word ("" for none)."""
from __future__ import annotations

import anywidget
import traitlets as t

from .assets import css, esm


class WordChips(anywidget.AnyWidget):
    _esm = esm("chips.js")
    _css = css()
    words = t.List(t.Unicode(), []).tag(sync=True)
    selected = t.Unicode("").tag(sync=True)

    @t.validate("selected")
    def _valid_selected(self, proposal):
        word = proposal["value"]
        if word and word not in self.words:
            raise t.TraitError(f"{word!r} is not one of the chips {self.words}")
        return word
