"""The declared policy: categories with a description, keywords and example prompts, read from a TOML
file the user can edit (the shipped one is policy.toml beside this file). Every field is checked on
reading, so a typo in the file is a ValueError naming it, not a policy that silently refuses nothing."""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

SHIPPED_POLICY = Path(__file__).with_name("policy.toml")
POLICY_ENV = "SORAKIT_POLICY"
_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
MAX_ITEMS = 2000  # keywords or examples per category: a policy, not a corpus


@dataclass(frozen=True)
class Category:
    name: str
    description: str
    keywords: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    # A text refused as `refines` that also holds one of `context` belongs here instead
    # ("sexual" + "child" is sexual_minors).
    refines: str = ""
    context: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClassifierSettings:
    threshold: float = 0.55  # nearest example of a category at least this similar (cosine) ...
    margin: float = 0.08  # ... and at least this much closer than the nearest allowed example
    certain: float = 0.75  # this similar: refused whatever the allowed examples say


@dataclass(frozen=True)
class Policy:
    categories: tuple[Category, ...]
    allowed: tuple[str, ...] = ()
    classifier: ClassifierSettings = field(default_factory=ClassifierSettings)
    source: str = ""

    def category(self, name: str) -> Category:
        for c in self.categories:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def fingerprint(self) -> str:
        """Hash of everything the classifier's example embeddings depend on (their cache key)."""
        text = repr([(c.name, c.examples) for c in self.categories]) + repr(self.allowed)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _strings(where: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > MAX_ITEMS or not all(isinstance(v, str) and v.strip()
                                                                         for v in value):
        raise ValueError(f"policy {where} must be a list of at most {MAX_ITEMS} non-empty strings")
    return tuple(v.strip() for v in value)


def _number(where: str, value: Any, default: float) -> float:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not -1 <= value <= 1:
        raise ValueError(f"policy {where} must be a number from -1 to 1 (a cosine similarity); got {value!r}")
    return float(value)


def _category(name: str, data: Any) -> Category:
    if not _NAME.fullmatch(name):
        raise ValueError(f"policy category {name!r}: names are lower-case letters, digits and _ (e.g. 'violence')")
    if not isinstance(data, Mapping):
        raise ValueError(f"policy category {name!r} must be a table with description, keywords and examples")
    unknown = sorted(set(data) - {"description", "keywords", "examples", "refines", "context"})
    if unknown:
        raise ValueError(f"policy category {name!r} has unknown keys {unknown}; allowed: description, keywords, "
                         "examples, refines, context")
    description = data.get("description")
    if not isinstance(description, str) or not description.strip():
        raise ValueError(f"policy category {name!r} needs a description (what it refuses, in words)")
    keywords = _strings(f"categories.{name}.keywords", data.get("keywords"))
    examples = _strings(f"categories.{name}.examples", data.get("examples"))
    if not keywords and not examples:
        raise ValueError(f"policy category {name!r} has neither keywords nor examples: it would refuse nothing")
    refines, context = data.get("refines", ""), _strings(f"categories.{name}.context", data.get("context"))
    if not isinstance(refines, str) or bool(refines) != bool(context):
        raise ValueError(f"policy category {name!r}: refines (a category name) and context (words) go together")
    return Category(name, description.strip(), keywords, examples, refines, context)


def parse_policy(data: Mapping[str, Any], source: str = "") -> Policy:
    unknown = sorted(set(data) - {"categories", "allowed", "classifier"})
    if unknown:
        raise ValueError(f"policy has unknown sections {unknown}; allowed: categories, allowed, classifier")
    categories = data.get("categories") or {}
    if not isinstance(categories, Mapping) or not categories:
        raise ValueError("policy needs at least one [categories.NAME] table")
    allowed = data.get("allowed") or {}
    settings = data.get("classifier") or {}
    if not isinstance(allowed, Mapping) or not isinstance(settings, Mapping):
        raise ValueError("policy [allowed] and [classifier] must be tables")
    bad = sorted(set(settings) - {"threshold", "margin", "certain"})
    if bad:
        raise ValueError(f"policy [classifier] has unknown keys {bad}; allowed: threshold, margin, certain")
    default = ClassifierSettings()
    classifier = ClassifierSettings(*(_number(f"classifier.{k}", settings.get(k), getattr(default, k))
                                      for k in ("threshold", "margin", "certain")))
    parsed = tuple(_category(n, c) for n, c in categories.items())
    for c in parsed:
        if c.refines and c.refines not in categories:
            raise ValueError(f"policy category {c.name!r} refines {c.refines!r}, which is not a category")
    return Policy(parsed, _strings("allowed.examples", allowed.get("examples")), classifier, source)


def load_policy(path: str | os.PathLike | None = None) -> Policy:
    """The policy in `path`; without one, the file named by $SORAKIT_POLICY, else the shipped policy.toml."""
    path = Path(path if path is not None else os.environ.get(POLICY_ENV) or SHIPPED_POLICY)
    if not path.is_file():
        raise ValueError(f"no moderation policy file at {path}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"moderation policy {path} is not valid TOML: {exc}") from None
    return parse_policy(data, str(path))
