"""Visible contacts as kinematic breakpoints: timed within the frame interval, with no world assumed,
and close to the simulator's sounding events on world clips."""
from __future__ import annotations

import mir_eval
import numpy as np
import pytest

from sorakit import probes, world
from sorakit.probes.breakpoints import contacts
from sorakit.probes.context import Context

FPS = 8.0
T = np.arange(16) / FPS


def _context(paths, noise=0.0, seed=0) -> Context:
    """A probes Context holding the given (F, 2) tracks (world units), with Gaussian tracking noise."""
    rng = np.random.default_rng(seed)
    frames = len(paths[0])
    tracks = {}
    for k, path in enumerate(paths):
        pos = np.asarray(path, float) + rng.normal(0.0, noise, (frames, 2))
        tracks[f"ball{k}"] = world.Track(f"ball{k}", np.ones(frames, bool), pos, np.full(frames, 0.5),
                                         np.ones(frames), np.ones(frames, int))
    return Context(np.zeros((frames, 32, 32, 3), np.float32), FPS, None, tracks, "generic")


def _bounce(t_hit: float, g: float = 4.0, floor: float = 2.0, e: float = 0.7) -> np.ndarray:
    """A ball falling under gravity g onto a floor at height `floor`, hitting it at t_hit: neither is the world's."""
    v0 = -3.0
    y0 = floor - v0 * t_hit + 0.5 * g * t_hit**2
    v_hit = v0 - g * t_hit
    d = T - t_hit
    y = np.where(T <= t_hit, y0 + v0 * T - 0.5 * g * T**2, floor - e * v_hit * d - 0.5 * g * d**2)
    return np.c_[1.0 + 1.5 * T, y]


@pytest.mark.parametrize("t_hit", [0.53, 0.61, 0.9, 1.02])  # early, late and mid-interval
@pytest.mark.parametrize("noise", [0.0, 0.03])  # 0.03 units: 0.1 px at 32 px
def test_a_bounce_is_timed_within_its_frame_interval_whatever_the_gravity_and_floor(t_hit, noise):
    found = contacts(_context([_bounce(t_hit)], noise))
    assert len(found) == 1 and found[0]["kind"] == "break"
    assert found[0]["time"] == pytest.approx(t_hit, abs=0.008)  # the interval is 125 ms; its centre was the old time


@pytest.mark.parametrize("noise", [0.0, 0.01, 0.03])
def test_free_flight_and_a_tracking_glitch_are_not_contacts(noise):
    path = np.c_[1 + 2 * T, 8 + T - 2.0 * T**2]
    assert contacts(_context([path], noise, seed=3)) == []
    path[7, 1] += 0.6  # one frame off the path, which goes on unbroken
    assert contacts(_context([path], noise, seed=3)) == []


def test_two_balls_breaking_together_close_by_are_one_collision():
    tc = 0.7

    def ball(x_at, v_before, v_after):  # head-on along x, centres 1.0 apart (two radii) at tc
        x = x_at + np.where(T <= tc, v_before, v_after) * (T - tc)
        return np.c_[x, 5.0 + 0.5 * T - 2.0 * T**2]

    found = contacts(_context([ball(4.5, 2.0, -1.0), ball(5.5, -1.0, 2.0)], 0.01))
    assert [c["kind"] for c in found] == ["collision"] and sorted(found[0]["objects"]) == ["ball0", "ball1"]
    assert found[0]["time"] == pytest.approx(tc, abs=0.01)


@pytest.fixture(scope="module")
def world_clips():
    return [world.sample(seed) for seed in range(1_000_000, 1_000_012)]  # unseen seeds, 10 of them with sound


def test_visible_contacts_are_the_simulators_sounding_events(world_clips):
    matched = n_events = n_found = 0
    offsets = []
    for clip in world_clips:
        found = probes.visible_contacts(clip.video, clip.fps)
        pairs = mir_eval.util.match_events(clip.onsets, found, 0.05) if len(found) and len(clip.onsets) else []
        matched, n_events, n_found = matched + len(pairs), n_events + len(clip.onsets), n_found + len(found)
        offsets += [found[j] - clip.onsets[i] for i, j in pairs]
    assert n_events == 31 and 2 * matched / (n_events + n_found) >= 0.9  # measured 0.93 (28 of 31, 29 found)
    assert np.median(np.abs(offsets)) < 0.01  # timed inside the interval, not at its centre


def test_the_true_soundtrack_follows_the_visible_contacts(world_clips):
    f1 = [probes.av_sync(c.video, c.audio, c.sample_rate).metrics["f1"] for c in world_clips]
    scored = [x for x in f1 if x is not None]
    assert len(scored) == 10 and np.mean(scored) >= 0.9  # measured 0.93 (the bounce and collision probes': ~0.5)
