"""Prompt tokens -> words: sub-word pieces merged, special tokens dropped."""
from __future__ import annotations

import re

_MARKERS = ("\u2581", "\u0120")  # SentencePiece (T5, Wan) and byte-level BPE word-start marks


def normalize(word: str) -> str:
    """Lower case, surrounding punctuation stripped: how words are compared."""
    return re.sub(r"^\W+|\W+$", "", word.lower())


def merge_words(tokenizer, ids) -> list[tuple[str, list[int]]]:
    """[(word, token positions)] in prompt order.

    WordPiece (MiniLM/BERT) marks continuations with '##'; SentencePiece and byte-level BPE mark
    word starts instead. Special tokens ([CLS], [SEP], </s>, padding) belong to no word; pieces
    without letters or digits (punctuation) are dropped from the word list.
    """
    ids = [int(i) for i in ids]
    tokens = tokenizer.convert_ids_to_tokens(ids)
    special = set(getattr(tokenizer, "all_special_ids", []))
    marks_starts = any(t.startswith(_MARKERS) for t in tokens)
    words: list[tuple[str, list[int]]] = []
    current: list | None = None
    for pos, (tid, tok) in enumerate(zip(ids, tokens)):
        if tid in special:
            current = None
            continue
        if marks_starts:
            starts = tok.startswith(_MARKERS) or current is None
            piece = tok.lstrip("".join(_MARKERS))
        else:
            starts = not (tok.startswith("##") and current is not None)
            piece = tok[2:] if not starts else tok
        if starts:
            current = [piece, [pos]]
            words.append(current)
        else:
            current[0] += piece
            current[1].append(pos)
    merged = [(normalize(w), pos) for w, pos in words]
    return [(w, pos) for w, pos in merged if w]
