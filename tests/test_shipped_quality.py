"""The shipped model, measured on clips it generates from held-out captions (not assumed).

Thresholds sit below what the committed weights measured (README, Model section) so that
numerical noise between machines does not flip them, and above what an untrained or broken
model scores (0 for colour and count on the tiny untrained pipeline).
"""
from __future__ import annotations

import pytest

import sorakit
from sorakit.loading import WEIGHTS_DIR
from sorakit.training.monitor import monitor_clips, sample_and_score

# measured on the committed weights: see README "Model"
MIN_COLOUR = 0.75  # the prompt's colour is present in most frames (step 1500: 64/64 clips)
MIN_COUNT = 0.5  # exactly the named balls, each one blob, in most frames (step 1500: 43/64 clips)
# Direction is not tested yet: at step 1500 it is followed in 22/40 clips, no better than chance.


@pytest.fixture(scope="module")
def shipped_scores():
    if not (WEIGHTS_DIR / "transformer" / "config.json").exists():
        pytest.fail("the shipped weights are missing from sorakit/weights/")
    pipe = sorakit.load()
    pipe.set_progress_bar_config(disable=True)
    _, scores = sample_and_score(pipe, monitor_clips(8))
    return scores


def test_prompt_colour_is_drawn(shipped_scores):
    assert shipped_scores["colour"] >= MIN_COLOUR, shipped_scores


def test_balls_are_whole_and_counted_right(shipped_scores):
    assert shipped_scores["count"] >= MIN_COUNT, shipped_scores


def test_untrained_model_fails_the_same_measure(tiny_pipe):
    """The measure can fail: an untrained pipeline draws no ball of the prompt's colour."""
    _, scores = sample_and_score(tiny_pipe, monitor_clips(2), steps=2)
    assert scores["colour"] < MIN_COLOUR and scores["count"] < MIN_COUNT
