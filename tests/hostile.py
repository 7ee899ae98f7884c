"""Helpers of the hostile-input fuzz tests: hostile values, a time bound, and outcome counts.

Each fuzz case ends in exactly one outcome. Acceptable: "correct" (a result that passed the
surface's own correctness check), "refused" (ValueError or TypeError, or exit status 2 with one
line on stderr). Anything else fails the test: another exception ("traceback"), a run past the time
bound ("hang"), a result that fails its check ("wrong").
"""
from __future__ import annotations

import json
import os
import signal
import time
from collections import Counter, defaultdict
from contextlib import contextmanager

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

OUTCOMES: defaultdict[str, Counter] = defaultdict(Counter)  # surface -> outcome -> cases
# Fixed cases by default (CI stays deterministic); SORAKIT_FUZZ_RANDOM=1 explores new ones on each run.
FAST = dict(max_examples=20, deadline=None, derandomize=not os.environ.get("SORAKIT_FUZZ_RANDOM"), database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
SLOW = {**FAST, "max_examples": 220}


def fast(fn):
    return settings(**FAST)(fn)


def slow(fn):
    return settings(**SLOW)(fn)


class Hang(Exception):
    pass


@contextmanager
def time_bound(seconds: float):
    """Raise Hang in the main thread when the body runs longer than `seconds` (SIGALRM)."""
    def expire(signum, frame):
        raise Hang(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def judge(surface: str, call, check=None, seconds: float = 60.0):
    """Run `call()` within `seconds`; `check(result)` must pass for a result. Records the outcome and
    raises AssertionError for an unacceptable one (hypothesis then shrinks the case)."""
    start = time.perf_counter()
    try:
        with time_bound(seconds):
            result = call()
    except (ValueError, TypeError) as exc:
        OUTCOMES[surface]["refused"] += 1
        message = str(exc)
        assert message and "Traceback" not in message, f"refusal without a message: {exc!r}"
        return None
    except Hang:
        OUTCOMES[surface]["hang"] += 1
        raise AssertionError(f"{surface}: no answer within {seconds} s") from None
    except Exception as exc:  # an assert inside the library too: the caller sees a traceback
        OUTCOMES[surface]["traceback"] += 1
        raise AssertionError(f"{surface}: {type(exc).__name__}: {exc}") from exc
    try:
        if check is not None:
            check(result)
    except AssertionError:
        OUTCOMES[surface]["wrong"] += 1
        raise
    OUTCOMES[surface]["correct"] += 1
    OUTCOMES[surface]["seconds_max"] = max(OUTCOMES[surface]["seconds_max"], round(time.perf_counter() - start))
    return result


def report_outcomes() -> str:
    """The counts as JSON; also written to $SORAKIT_FUZZ_REPORT when set."""
    text = json.dumps({k: dict(v) for k, v in sorted(OUTCOMES.items())}, indent=1, sort_keys=True)
    if os.environ.get("SORAKIT_FUZZ_REPORT"):
        with open(os.environ["SORAKIT_FUZZ_REPORT"], "a") as f:
            f.write(text + "\n")
    return text


# --- hostile values ---------------------------------------------------------------------------------
BAD_TEXT = ["", " ", "\ud800", "a red ball \udcff", "a\x00b", "x" * 1001, "💥" * 10, "\u202e\u0000", "a\nb"]
SPECIAL_NUMBERS = [0, -1, 1, 2**31, 2**63, 2**64, 10**100, -(10**9), float("nan"), float("inf"), -float("inf"),
                   1e-9, 1e-300, 1e300, 0.5, -0.0, True, False, np.int64(16), np.float32(8.0), np.bool_(True),
                   np.uint8(255), "8", "16", None, [16], (16,), {"a": 1}, b"16", complex(1, 1)]


def numbers(valid: st.SearchStrategy) -> st.SearchStrategy:
    """Mostly valid values (so the valid path is exercised), plus every kind of hostile number."""
    return st.one_of(valid, valid, st.sampled_from(SPECIAL_NUMBERS), st.integers(-(10**12), 10**12),
                     st.floats(allow_nan=True, allow_infinity=True))


def texts(valid: st.SearchStrategy | None = None) -> st.SearchStrategy:
    valid = valid or st.sampled_from(["a red ball is thrown to the right", "a big blue ball rolls", "Ball"])
    return st.one_of(valid, valid, st.sampled_from(BAD_TEXT), st.text(max_size=40),
                     st.sampled_from([None, 3, 2.5, ["a red ball"], b"a ball"]))


def cases(valid: dict[str, st.SearchStrategy], hostile: dict[str, st.SearchStrategy], max_bad: int = 2):
    """Keyword arguments drawn valid, then up to `max_bad` of them replaced by hostile values: each case
    exercises one or two bad fields (or none) rather than failing on the first of many."""
    @st.composite
    def draw(data):
        values = {k: data(s) for k, s in valid.items()}
        for key in data(st.lists(st.sampled_from(sorted(hostile)), max_size=max_bad, unique=True)):
            values[key] = data(hostile[key])
        return values
    return draw()
