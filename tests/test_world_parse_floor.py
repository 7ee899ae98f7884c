"""The ground-truth parse floor: tracking rendered ground truth gives back the simulator's velocities."""
import json

import numpy as np
import pytest

from sorakit import world
from sorakit.world.parse_floor import central_velocity


def test_central_velocity_is_exact_on_a_parabola():
    t = np.arange(10) / 8.0
    pos = np.stack([2.0 * t, 1.0 + 3.0 * t - 4.9 * t**2], -1)
    vel = central_velocity(pos, 8.0)
    assert np.isnan(vel[0]).all() and np.isnan(vel[-1]).all()
    np.testing.assert_allclose(vel[1:-1], np.stack([np.full(8, 2.0), 3.0 - 9.8 * t[1:-1]], -1), atol=1e-12)


def test_parse_floor_is_small_and_json_able():
    r = world.parse_floor(n=12, seed=0, height=32, width=32, progress=False)
    json.dumps(r)
    assert (r["height"], r["width"], r["clips"]) == (32, 32, 12)
    assert r["samples"] > 100
    assert r["mean"] < 0.05 and r["median"] <= r["mean"] * 1.5  # world units/s; the world is 10 wide
    assert r["relative"] < 0.02 and r["mean_speed"] > 1.0
    assert r["position_px"]["max"] < 1.0
    # differencing alone (true positions) costs less than parsing the pixels does
    assert r["fd_only"]["mean"] < r["mean"]
    assert r["excluded"]["contact"] > 0 and r["excluded"]["untracked"] == 0
    assert set(r["per_scenario"]) <= set(world.SCENARIOS)


def test_parse_floor_shrinks_with_resolution():
    small = world.parse_floor(n=6, seed=50, height=32, width=32, progress=False)
    large = world.parse_floor(n=6, seed=50, height=64, width=64, progress=False)
    assert large["mean"] < small["mean"]


def test_parse_floor_rejects_no_clips():
    with pytest.raises(ValueError, match=">= 1"):
        world.parse_floor(n=0)
