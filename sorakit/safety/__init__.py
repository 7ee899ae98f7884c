"""Moderation before and after generation: a declared policy, checked on prompts and on finished clips.

    from sorakit import safety
    moderation = safety.Moderation()            # the shipped policy.toml, or $SORAKIT_POLICY, or a path
    moderation.check_prompt("a red ball bounces")   # raises safety.PolicyRefusal(category=...) if refused
    moderation.check_clip(video, recipe)         # the output checks: scene description, flashing, your own

Every surface (CLI, Studio, demo, sweeps) runs `check_recipe` before sampling and `check_clip` after;
see docs/moderation.md for the layers, the measured recall and false positives, and the limits.
Importing this package is light: MiniLM loads at the first prompt the keyword layer lets through.
"""
from .moderation import Moderation, OutputCheck, PolicyRefusal, Verdict, default_moderation, resolve
from .normalize import normalize, views
from .policy import SHIPPED_POLICY, Category, ClassifierSettings, Policy, load_policy, parse_policy


def describe_clip(frames) -> str:
    """What the clip shows, in the world's words (the built-in scene check's input)."""
    from .output import describe_clip as describe

    return describe(frames)


__all__ = ["Category", "ClassifierSettings", "Moderation", "OutputCheck", "Policy", "PolicyRefusal", "SHIPPED_POLICY",
           "Verdict", "default_moderation", "describe_clip", "load_policy", "normalize", "parse_policy", "resolve",
           "views"]
