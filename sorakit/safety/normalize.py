"""Undo the tricks people use to slip words past a filter, before any layer reads the text.

`views(text)` returns the few spellings every layer checks: Unicode folded (NFKC, accents and
invisible characters dropped, look-alike letters from other scripts mapped to Latin by the Unicode
confusables table of `confusable-homoglyphs`), lower case, leetspeak read as letters, letters
spaced or dotted apart joined again, and long runs of one letter shortened. Each view keeps
ordinary words as they were, so "a red ball bounces 3 times" reads the same in every view.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Digits and symbols read as letters inside a word ("k1ll", "n@ked", "$uicide"). "1" and "|" read as
# "i" in the main view and as "l" in the other ("b1ood").
LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g", "@": "a", "$": "s",
        "!": "i", "|": "i", "+": "t", "€": "e", "£": "l"}
LEET_L = {**LEET, "1": "l", "|": "l"}
# A word with leetspeak: letters with digits/symbols among them (a plain number or "3-4" is left alone).
_LEET_WORD = re.compile(r"[\w@$!|+€£]*[a-z][\w@$!|+€£]*")
# Letters spaced or punctuated apart: "k i l l", "k.i.l.l", "g 0 r e" (three or more; leetspeak is read after).
_SPACED = re.compile(r"(?<![\w@$])[a-z0-9@$](?:[\s.\-_*·,/'~]+[a-z0-9@$](?![\w@$])){2,}")
_JOINERS = re.compile(r"[\s.\-_*·,/'~]+")
_REPEATS = re.compile(r"([a-z])\1{2,}")  # "kiiiill" -> "kill" (three or more of one letter)
_INNER_MARKS = re.compile(r"(?<=[a-z])[.\-_*·'~]+(?=[a-z])")  # "ki.ll", "g*re" -> "kill", "gre"


# Letters the confusables table pairs with no ASCII letter, which people still type for one.
EXTRA_LOOKALIKES = {"ε": "e", "κ": "k", "τ": "t", "η": "n", "ω": "w", "β": "b", "μ": "u", "χ": "x", "ι": "i", "п": "n"}


def _table_latin(ch: str) -> str | None:
    from confusable_homoglyphs import confusables

    for entry in confusables.is_confusable(ch, greedy=False, preferred_aliases=["latin"]) or ():
        for glyph in entry["homoglyphs"]:
            if glyph["c"].isascii() and glyph["c"].isalnum():
                return glyph["c"]
    return None


@lru_cache(maxsize=4096)
def _latin(ch: str) -> str:
    """A Latin look-alike of `ch` (the Unicode confusables table; a small letter whose capital has one,
    as Cyrillic к/К, takes that), or `ch` itself."""
    if ch in EXTRA_LOOKALIKES:
        return EXTRA_LOOKALIKES[ch]
    found = _table_latin(ch)
    if found is None and ch.upper() != ch:
        found = _table_latin(ch.upper())
    return found.lower() if found else ch


def fold(text: str) -> str:
    """NFKC, invisible (format) characters and accents dropped, other scripts' look-alikes as Latin, lower case."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(c for c in text if unicodedata.category(c) != "Cf")  # zero-width, soft hyphen, joiners
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).casefold()
    text = "".join(c if c.isascii() else _latin(c) for c in text)  # after casefold: capital iota is no "l"
    return unicodedata.normalize("NFKC", text).casefold()


def _unleet(text: str, table: dict[str, str]) -> str:
    def word(m: re.Match) -> str:
        w = m.group(0)
        core = w.rstrip("@$!|+€£")  # "kill!" ends a sentence: its "!" is not a letter
        if not any(c in table for c in core):
            return w
        return "".join(table.get(c, c) for c in core) + w[len(core):]

    return _LEET_WORD.sub(word, text)


def _despace(text: str) -> str:
    """Letters spaced apart joined; a wider gap ("s e x y  k i d s") stays between words."""
    return _SPACED.sub(lambda m: " ".join(_JOINERS.sub("", w) for w in re.split(r"\s{2,}", m.group(0))), text)


def _tidy(text: str) -> str:
    return " ".join(_REPEATS.sub(r"\1", text).split())


def views(text: str) -> tuple[str, ...]:
    """The spellings of `text` that the layers check (the first is the one the classifier reads)."""
    folded = fold(text)
    joined = _despace(folded)
    spelled = " ".join(_unleet(joined, LEET).split())  # runs of one letter kept: "xxx"
    main = _tidy(spelled)
    other = _tidy(_unleet(joined, LEET_L))
    unmarked = _tidy(_INNER_MARKS.sub("", main))
    return tuple(dict.fromkeys((main, other, unmarked, spelled)))


def normalize(text: str) -> str:
    """The main view: what the classifier embeds."""
    return views(text)[0]
