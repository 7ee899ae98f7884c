"""Corrupted ground truth: each physics violation makes the probe that watches for it fail."""
from __future__ import annotations

import copy
from dataclasses import replace

import numpy as np
import pytest

from sorakit import probes, world


def rerender(clip: world.Clip, pos: np.ndarray, scene: world.Scene | None = None) -> np.ndarray:
    """The clip drawn along other (impossible) positions."""
    traj = copy.copy(clip.trajectory)
    traj.pos = pos
    return world.render(scene or clip.scene, traj, *clip.video.shape[1:3])[0]


@pytest.fixture(scope="module")
def throw():
    return world.sample(5, scenario="throw", bounciness="bouncy")


def test_a_one_frame_teleport_is_caught(throw):
    pos = throw.trajectory.pos.copy()
    pos[8, 0, 0] += 3.0
    r = probes.persistence(rerender(throw, pos))
    assert not r.passed and r.metrics["violations"][0]["kind"] == "teleport"
    assert r.metrics["violations"][0]["frame"] == 8


def test_a_permanent_jump_is_caught(throw):
    pos = throw.trajectory.pos.copy()
    pos[8:, 0, 0] -= 2.5
    r = probes.persistence(rerender(throw, pos))
    assert not r.passed and "jumps" in r.reason


def test_a_ball_deleted_mid_way_vanishes(throw):
    pos = throw.trajectory.pos.copy()
    pos[6:10, 0] = -50.0  # drawn far outside the image
    r = probes.persistence(rerender(throw, pos))
    kinds = [(v["kind"], v["frame"]) for v in r.metrics["violations"]]
    assert not r.passed and ("vanish", 6) in kinds and ("appear", 10) in kinds


def test_a_colour_swap_is_named(throw):
    other = "blue" if throw.states.color[0] != "blue" else "red"
    swapped = world.with_balls(throw.scene, [replace(throw.scene.balls[0], color=other)])
    video = np.concatenate([throw.video[:8], world.render(swapped, throw.trajectory, 32, 32)[0][8:]])
    r = probes.persistence(video)
    assert not r.passed and r.reason.startswith(f"{throw.states.color[0]} turns {other} at frame 8")
    assert not probes.adherence(video, throw.caption).passed  # the prompt's colour is gone half the clip


def test_shuffled_frames_fail(throw):
    video = throw.video[np.random.default_rng(0).permutation(len(throw.video))]
    report = probes.run(video, prompt=throw.caption)
    assert report.verdicts["persistence"] is False
    assert report.verdicts.get("gravity") is not True and report.verdicts.get("consistency") is not True


def test_time_reversal_makes_bounces_gain_energy():
    for seed in range(3):
        clip = world.sample(seed, scenario="drop", bounciness="bouncy")
        assert probes.bounces(clip.video).passed
        r = probes.bounces(clip.video[::-1])
        assert r.passed is False and "faster than it arrived" in r.reason


def test_upward_gravity_fails(throw):
    pos = throw.trajectory.pos.copy()
    y0 = pos[0, 0, 1]
    pos[:, 0, 1] = np.minimum(2 * y0 - pos[:, 0, 1], 8.0)  # mirrored in height: falls up
    r = probes.gravity(rerender(throw, pos))
    assert r.passed is False and r.metrics["g"] < 0 and "upward" in r.reason


def test_consistency_catches_a_wrong_continuation(throw):
    pos = throw.trajectory.pos.copy()
    pos[6:, 0, 0] = pos[6, 0, 0] + (pos[6:, 0, 0] - pos[6, 0, 0]) * 0.3  # slows down with no cause
    r = probes.consistency(rerender(throw, pos), scene=throw.scene)
    assert r.passed is False and r.metrics["floor_ratio"] > 20


def test_a_collision_that_creates_momentum_fails():
    for seed in range(20):
        clip = world.sample(seed, scenario="collide")
        r = probes.collisions(clip.video)
        if not r.ran:
            continue
        c = r.metrics["collisions"][0]
        hit = int(np.ceil(c["time"] * clip.fps))
        pos = clip.trajectory.pos.copy()
        # after the hit ball 0 moves three times as far per frame horizontally as it should
        pos[hit:, 0, 0] = pos[hit, 0, 0] + 3 * (pos[hit:, 0, 0] - pos[hit, 0, 0])
        bad = probes.collisions(rerender(clip, pos))
        if bad.ran:
            c = bad.metrics["collisions"][0]
            assert bad.passed is False and (c["momentum_change"] > 0.2 or c["energy_ratio"] > 1.1)
            return
    pytest.fail("no measurable collision among the seeds")


def test_adherence_fails_on_the_wrong_prompt(throw):
    colour, direction = throw.states.color[0], throw.scene.direction
    wrong_colour = "cyan" if colour != "cyan" else "red"
    wrong_way = "left" if direction == "right" else "right"
    assert not probes.adherence(throw.video, f"a {wrong_colour} ball is thrown").passed
    r = probes.adherence(throw.video, f"a {colour} ball is thrown to the {wrong_way}")
    assert not r.passed and "direction" in r.reason
    assert not probes.adherence(throw.video, f"two balls, one {colour} and one {wrong_colour}, collide").passed


def test_adherence_checks_hoop_outcomes():
    clip = world.sample(0, outcome="in")
    assert probes.adherence(clip.video, "a ball is thrown at the hoop and goes in").passed
    assert not probes.adherence(clip.video, "a ball is thrown at the hoop and misses").passed


def test_flicker_is_measured_on_the_background(throw):
    noisy = np.clip(throw.video + np.random.default_rng(0).normal(0, 0.06, throw.video.shape), 0, 1).astype(np.float32)
    r = probes.temporal(noisy)
    assert r.passed is False and r.metrics["flicker"] > 0.02
