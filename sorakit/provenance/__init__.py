"""Provenance for exported clips: signed C2PA manifests, a visible moving mark, an invisible mark, verify.

`sorakit.export` uses all of it by default (see docs/provenance.md); `verify(path)` checks a clip.
Everything loads lazily: the C2PA library, cryptography and the watermark library are imported on use.
"""
from __future__ import annotations

from .._lazy import lazy_exports

_LAZY = {
    "verify": ("sorakit.provenance.verify", "verify"),
    "Verification": ("sorakit.provenance.verify", "Verification"),
    "SigningKey": ("sorakit.provenance.keys", "SigningKey"),
    "development_ca": ("sorakit.provenance.keys", "development_ca"),
    "default_signing_key": ("sorakit.provenance.keys", "default_signing_key"),
    "draw_visible_mark": ("sorakit.provenance.visible", "draw_visible_mark"),
    "read_invisible_mark": ("sorakit.provenance.invisible", "read_invisible_mark"),
}

__all__ = list(_LAZY)


__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
