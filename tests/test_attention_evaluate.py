"""The localization metrics, and a tiny end-to-end call of attention.localization."""
from __future__ import annotations

import numpy as np
import pytest

from sorakit import attention
from sorakit.eval.attention import THRESHOLDS, _iou, _pointing


def test_metrics_on_known_maps():
    mask = np.zeros((3, 8, 8), bool)
    mask[:2, 2:4, 2:4] = True  # visible in frames 0 and 1 only
    perfect = mask.astype(np.float32)
    np.testing.assert_allclose(_iou(perfect, mask), 1.0)
    assert _pointing(perfect, mask) == (2, 2)
    half = perfect.copy()
    half[:2, 2:4, 4:6] = 0.5  # a second blob of equal area at half heat
    iou = _iou(half, mask)
    np.testing.assert_allclose(iou[THRESHOLDS <= 0.5], 0.5)
    np.testing.assert_allclose(iou[THRESHOLDS > 0.5], 1.0)
    wrong = np.zeros_like(perfect)
    wrong[:, 7, 7] = 1
    assert _pointing(wrong, mask) == (0, 2) and _iou(wrong, mask).max() == 0


def test_localization_smoke(tiny_pipe):
    out = attention.localization(tiny_pipe, n=2, noise_levels=(0.5,), n_generated=1, num_inference_steps=3)
    tf = out["teacher_forced"]["t=0.5"]
    assert set(tf) == {"layer 0", "layer 1", "first third", "middle third", "last third", "all layers"}
    assert set(out["generated"]) <= {"all steps", "steps first third", "steps middle third", "steps last third"}
    for row in tf.values():
        assert 0 <= row["miou@0.4"] <= row["miou_best"] <= 1 and 0 <= row["pointing"] <= 1 and row["maps"] >= 2
    assert 0 < out["chance"]["pointing"] < 0.5
    with pytest.raises(ValueError, match="noise_levels"):
        attention.localization(tiny_pipe, n=1, noise_levels=(1.5,))


def test_default_fractions():
    from sorakit.attention.capture import DEFAULT_LAYERS, DEFAULT_STEPS, fraction_range

    assert fraction_range(6, DEFAULT_LAYERS) == [2, 3]  # the shipped model's middle blocks
    assert fraction_range(20, DEFAULT_STEPS) == list(range(13, 20))
    assert fraction_range(1, DEFAULT_STEPS) == [0] and fraction_range(2, DEFAULT_LAYERS) == [0, 1]


def test_sampled_clips_are_spread_through_the_jobs():
    from sorakit.eval.attention import spread

    assert spread(4, 2) == [0, 4, 1, 2, 5, 3] and spread(3, 0) == [0, 1, 2]
    jobs = spread(32, 8)
    assert sorted(jobs) == list(range(40))
    for share in (jobs[:20], jobs[20:]):  # what each of 2 processes gets: half the sampled clips
        assert sum(j >= 32 for j in share) == 4
    assert [j for j in jobs if j >= 32] == list(range(32, 40))  # each kind in its own order
