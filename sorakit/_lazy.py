"""Names a package resolves on first use, so importing it stays cheap (no torch, no model code)
until something is asked for, and so old names of moved objects keep working."""
from __future__ import annotations

import importlib
import sys
from typing import Callable, Mapping


def lazy_exports(package: str, names: Mapping[str, tuple[str, str | None]]) -> tuple[Callable, Callable]:
    """A module's `__getattr__` and `__dir__` for `names`: {name: (module, attribute or None for the
    module itself)}. A resolved name is cached in the package, so later lookups are plain."""

    def __getattr__(name: str):
        try:
            module_name, attr = names[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        value = importlib.import_module(module_name)
        value = value if attr is None else getattr(value, attr)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__():
        return sorted(set(vars(sys.modules[package])) | set(names))

    return __getattr__, __dir__
