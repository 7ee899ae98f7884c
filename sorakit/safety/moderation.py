"""Moderation: the policy's three text layers on prompts (input), and checks on finished clips (output).

Input: normalise (normalize.py), then keywords (keywords.py), then the classifier (classifier.py);
the first layer that objects decides, and a refusal is a `PolicyRefusal` naming the category.
Output: each registered check receives the frames and the recipe; the built-in ones describe what
is seen (output.py) and run the description through the same text layers, and look for flashing.
"""
from __future__ import annotations

import logging
import os
import threading
from dataclasses import astuple, dataclass
from typing import Any, Callable

from . import keywords, normalize
from .policy import Policy, load_policy

logger = logging.getLogger("sorakit.safety")

# A check on a finished clip: (frames (F, H, W, 3) in [0, 1], recipe or None) -> a category name, or None.
OutputCheck = Callable[[Any, Any], "str | None"]


class PolicyRefusal(ValueError):
    """A prompt or clip the moderation policy refuses. `category` names the policy category; `stage` is
    "input" (the prompt) or "output" (the clip); `layer` says which check decided."""

    def __init__(self, category: str, description: str, stage: str, layer: str, prompt: str | None = None):
        self.category, self.description, self.stage, self.layer = category, description, stage, layer
        what = "prompt" if stage == "input" else "clip"
        which = f" {prompt[:80]!r}" if prompt is not None else ""  # one of several: say which
        super().__init__(f"the {what}{which} is refused by the moderation policy: {category} ({description})")


@dataclass(frozen=True)
class Verdict:
    """What the text layers say about one text: allowed, or the category and the layer that refused it."""

    category: str | None = None
    layer: str | None = None  # "keyword" or "classifier"
    evidence: str = ""  # the matched keyword, or the clause nearest an example
    similarity: float | None = None  # the classifier's cosine similarity to that category's nearest example

    @property
    def allowed(self) -> bool:
        return self.category is None


class Moderation:
    """The declared policy and the output checks, shared by every surface (CLI, Studio, demo, sweeps).

    policy: a Policy, a path to a TOML file, or None (the file named by $SORAKIT_POLICY, else the shipped
    one). The classifier (MiniLM) loads at the first text the keywords let through, not before.
    """

    def __init__(self, policy: Policy | str | os.PathLike | None = None, *, output_checks: bool = True):
        self.policy = policy if isinstance(policy, Policy) else load_policy(policy)
        self._index = None
        self._lock = threading.Lock()
        self.output_checks: list[tuple[str, OutputCheck]] = []
        if output_checks:
            from .output import builtin_checks

            for name, check in builtin_checks(self):
                self.add_output_check(check, name)

    # --- text --------------------------------------------------------------------------------------
    @property
    def index(self):
        with self._lock:  # one load, however many demo workers ask at once
            if self._index is None:
                from .classifier import ExampleIndex

                self._index = ExampleIndex(self.policy)
            return self._index

    def warm(self) -> Moderation:
        """Load the classifier now (MiniLM, the examples' embeddings), so a server's first request does not wait."""
        if self.index.names:
            self.index.nearest(["a red ball bounces on the floor"])
        return self

    def screen(self, texts: str | list[str]) -> Verdict | list[Verdict]:
        """The verdict on a text (or one per text, batched through the classifier); never raises."""
        single = isinstance(texts, str)
        items = [texts] if single else list(texts)
        verdicts: list[Verdict | None] = []
        for text in items:
            hit = keywords.find_keyword(self.policy, normalize.views(text))
            verdicts.append(Verdict(hit[0], "keyword", hit[1]) if hit else None)
        rest = [i for i, v in enumerate(verdicts) if v is None]
        if rest and self.index.names:
            found = self.index.nearest([normalize.normalize(items[i]) for i in rest])
            for i, n in zip(rest, found):
                verdicts[i] = Verdict(n.category, "classifier", n.text, n.similarity) if self.index.refuses(n) else None
        out = [Verdict(keywords.refine(self.policy, v.category, normalize.views(text)), *astuple(v)[1:])
               if v else Verdict() for text, v in zip(items, verdicts)]
        return out[0] if single else out

    def refusal(self, verdict: Verdict, stage: str, prompt: str | None = None) -> PolicyRefusal:
        try:
            description = self.policy.category(verdict.category).description
        except KeyError:  # an output check may name a category of its own (its evidence says what)
            description = verdict.evidence or verdict.category
        return PolicyRefusal(verdict.category, description, stage, verdict.layer or "", prompt)

    def check_prompt(self, prompt: str | list[str]) -> None:
        """Raise PolicyRefusal if the policy refuses the prompt (or any of a list of prompts).

        Negative prompts are not checked: guidance only applies them above 1, where it steers away from them.
        """
        single = isinstance(prompt, str)
        prompts = [prompt] if single else list(prompt)
        for text, verdict in zip(prompts, self.screen(prompts)):
            if not verdict.allowed:
                self._log("input", verdict, text)
                raise self.refusal(verdict, "input", None if single else text)

    def check_recipe(self, recipe) -> None:
        """check_prompt on the recipe's prompt."""
        self.check_prompt(recipe.prompt)

    # --- clips -------------------------------------------------------------------------------------
    def add_output_check(self, check: OutputCheck, name: str | None = None) -> None:
        """Run `check(frames, recipe)` on every finished clip; it returns a category name to refuse the clip,
        or None. Checks run in the order added (the built-in ones first)."""
        if not callable(check):
            raise TypeError(f"an output check must be callable as check(frames, recipe); got {type(check).__name__}")
        self.output_checks.append((name or getattr(check, "__name__", "check"), check))

    def check_clip(self, frames, recipe=None) -> None:
        """Raise PolicyRefusal (stage "output") if any output check refuses the clip."""
        for name, check in self.output_checks:
            category = check(frames, recipe)
            if category is not None:
                verdict = category if isinstance(category, Verdict) else Verdict(str(category), name)
                self._log("output", verdict, getattr(recipe, "prompt", ""))
                raise self.refusal(verdict, "output")

    @staticmethod
    def _log(stage: str, verdict: Verdict, text: str) -> None:
        """Refusals are logged with the category and the prompt, never with the clip."""
        logger.warning("moderation refused (%s, %s layer): %s; prompt %r", stage, verdict.layer, verdict.category,
                       text[:200])


_DEFAULT: dict[str, Moderation] = {}
_DEFAULT_LOCK = threading.Lock()


def default_moderation() -> Moderation:
    """The shared Moderation of the policy file in use ($SORAKIT_POLICY or the shipped one), made once."""
    key = os.environ.get("SORAKIT_POLICY") or ""
    with _DEFAULT_LOCK:
        if key not in _DEFAULT:
            _DEFAULT[key] = Moderation(key or None)
        return _DEFAULT[key]


def resolve(moderation: Moderation | bool | str | os.PathLike | None) -> Moderation | None:
    """What surfaces accept as `moderation=`: True (the policy in use), False or None (off), a policy file's
    path, or a Moderation."""
    if moderation is True:
        return default_moderation()
    if moderation is False or moderation is None:
        return None
    if isinstance(moderation, (str, os.PathLike)):
        return Moderation(moderation)
    if not isinstance(moderation, Moderation):
        raise ValueError(f"moderation must be True, False, a policy file or a sorakit.safety.Moderation; "
                         f"got {moderation!r:.80}")
    return moderation
