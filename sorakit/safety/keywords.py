"""The keyword layer: a category's words and phrases, found on word boundaries in any normalised view.

"gore" matches "g0re" and "g o r e" (the normaliser joins those) but not "gorge"; "decapitat*"
matches any ending, and a lone * at most one word ("slit* * wrist*"). Long whole words (LONG letters
or more, no *) are also looked for with every space and mark removed, which catches "sui cide" and
"be-head-ing" without "skill" matching "kill". Where keywords of several categories match, the
longest match decides ("suicide bomber" is terrorism, not self-harm).
"""
from __future__ import annotations

import re
from functools import lru_cache

from .policy import Policy

LONG = 7


def _word(word: str) -> str:
    return re.escape(word.rstrip("*")) + (r"[a-z]*" if word.endswith("*") else "")


def _pattern(keyword: str) -> str:
    """A keyword as a regex on word boundaries; a lone * is at most one word ("set * on fire")."""
    out = ""
    for word in keyword.lower().split():
        if word == "*":
            out += r"(?:[a-z']+[\s\-]+)?"
        else:
            out += _word(word) + r"[\s\-]+"
    return r"\b" + out[: -len(r"[\s\-]+")] + r"\b"


@lru_cache(maxsize=16)
def compile_keywords(policy: Policy) -> tuple[tuple[str, re.Pattern, re.Pattern | None], ...]:
    """(category, pattern on the views, pattern on the squashed text or None) per category."""
    out = []
    for c in policy.categories:
        if not c.keywords:
            continue
        pattern = re.compile("|".join(_pattern(k) for k in c.keywords))
        # Whole words only ("genital*" squashed would match "congenital").
        long = [k.lower() for k in c.keywords if " " not in k and "*" not in k and len(k) >= LONG]
        squashed = re.compile("|".join(re.escape(re.sub(r"[^a-z]", "", k)) for k in long)) if long else None
        out.append((c.name, pattern, squashed))
    return tuple(out)


def find_keyword(policy: Policy, views: tuple[str, ...]) -> tuple[str, str] | None:
    """(category, the matched text) of the longest keyword found in any view, or None.

    The longest match decides between categories: "suicide bomber" is terrorism, not self-harm.
    """
    squashed = [re.sub(r"[^a-z]", "", v) for v in views]
    found = []
    for name, pattern, long in compile_keywords(policy):
        found += [(m.group(0), name) for view in views for m in pattern.finditer(view)]
        if long is not None:
            found += [(m.group(0), name) for view in squashed for m in long.finditer(view)]
    if not found:
        return None
    text, name = max(found, key=lambda f: len(f[0]))
    return name, text


@lru_cache(maxsize=16)
def _context(policy: Policy) -> tuple[tuple[str, str, re.Pattern], ...]:
    return tuple((c.refines, c.name, re.compile("|".join(_pattern(k) for k in c.context)))
                 for c in policy.categories if c.refines)


def refine(policy: Policy, category: str, views: tuple[str, ...]) -> str:
    """The category a refusal as `category` belongs to once its context words are read (itself if none apply)."""
    for refines, name, pattern in _context(policy):
        if refines == category and any(pattern.search(v) for v in views):
            return name
    return category
