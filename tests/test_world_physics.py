"""world physics: the simulator obeys the laws the captions and probes assume.

Simulations run at a fine frame rate (120 or 960 fps) so velocities are read straight from the
simulator close to each event. The internal step is 1/960 s at every frame rate that divides 960,
so a fine run is the same trajectory as the 8 fps clip, only sampled more densely.
"""
import dataclasses

import numpy as np
import pytest

from sorakit import world
from sorakit.world import sample_scene, simulate

FINE = 120.0


def fine(scene, fps=FINE):
    """The same scene sampled at `fps` over the same duration."""
    factor = int(round(fps / scene.fps))
    return dataclasses.replace(scene, fps=fps, num_frames=(scene.num_frames - 1) * factor + 1)


def free_flight(traj, i=0):
    """(F,) bool: frames before ball i first touched anything."""
    touched = np.cumsum(traj.impacts[:, i] > 0) > 0
    return ~touched


def test_fine_sampling_is_the_same_trajectory():
    scene = sample_scene(4, scenario="throw")
    coarse, dense = simulate(scene), simulate(fine(scene, 960.0))
    np.testing.assert_array_equal(dense.pos[::120], coarse.pos)
    np.testing.assert_array_equal(dense.vel[::120], coarse.vel)


@pytest.mark.parametrize("gravity", [world.GRAVITY, 4.0])
@pytest.mark.parametrize("seed", range(4))
def test_free_flight_is_a_parabola_with_the_set_gravity(seed, gravity):
    scene = fine(sample_scene(seed, scenario="throw", gravity=gravity))
    traj = simulate(scene)
    free = free_flight(traj)
    assert free.sum() >= 30, "the throw should fly for a while before it lands"
    t, pos, vel = traj.t[free], traj.pos[free, 0], traj.vel[free, 0]
    a2, b, c = np.polyfit(t, pos[:, 1], 2)
    assert 2 * a2 == pytest.approx(-gravity, rel=0.01)
    assert b == pytest.approx(scene.balls[0].vy, abs=0.05)  # starts with the launch velocity
    fit = np.polyval([a2, b, c], t)
    assert np.abs(fit - pos[:, 1]).max() < 1e-3  # a parabola, not just something with that curvature
    # horizontally: constant velocity, straight line
    assert np.ptp(vel[:, 0]) < 1e-9
    assert vel[0, 0] == pytest.approx(scene.balls[0].vx)
    k, x0 = np.polyfit(t, pos[:, 0], 1)
    assert np.abs(np.polyval([k, x0], t) - pos[:, 0]).max() < 1e-6
    # the simulator's velocities are the derivative of its positions (free fall: vy = vy0 - g t)
    np.testing.assert_allclose(vel[:, 1], scene.balls[0].vy - gravity * t, atol=0.02)


def _bounce_ratio(traj, scene, kind="floor_bounce", axis=1):
    """Post/pre speed along the contact normal at the first `kind` event, corrected to the contact time."""
    event = next(e for e in traj.events if e.kind == kind)
    k = int(np.floor(event.time * scene.fps + 1e-9))
    g = scene.gravity if axis == 1 else 0.0
    pre = traj.vel[k, 0, axis] - g * (event.time - traj.t[k])
    post = traj.vel[k + 1, 0, axis] + g * (traj.t[k + 1] - event.time)
    return -post / pre, event


@pytest.mark.parametrize("restitution", [0.2, 0.5, 0.8, 0.95])
def test_floor_restitution_is_as_set(restitution):
    scene = sample_scene(0, scenario="drop")
    ball = dataclasses.replace(scene.balls[0], restitution=restitution)
    scene = fine(dataclasses.replace(scene, balls=(ball,)))
    traj = simulate(scene)
    ratio, event = _bounce_ratio(traj, scene)
    assert ratio == pytest.approx(restitution, rel=0.05)
    # the event's impact speed is the speed the ball fell with
    assert event.speed == pytest.approx(np.sqrt(2 * scene.gravity * (ball.y - ball.radius)), rel=0.02)


def test_wall_restitution_is_as_set():
    scene = sample_scene(1, scenario="throw", direction="right", speed=9.0)
    ball = dataclasses.replace(scene.balls[0], restitution=0.6, vy=0.0, y=6.0)
    scene = fine(dataclasses.replace(scene, balls=(ball,)))
    traj = simulate(scene)
    assert traj.events[0].kind == "wall_bounce"
    ratio, _ = _bounce_ratio(traj, scene, "wall_bounce", axis=0)
    assert ratio == pytest.approx(0.6, rel=0.05)


def _first_collision(traj):
    """(k, event): the frame just before the first ball-ball contact; neither ball touched anything earlier."""
    event = next(e for e in traj.events if e.kind == "collision")
    k = int(np.floor(event.time * FINE + 1e-9))
    return k, event


def _clean_collisions(seeds, **constraints):
    """Collide scenes whose balls meet in mid-air before touching anything else."""
    found = []
    for seed in seeds:
        scene = fine(sample_scene(seed, scenario="collide", **constraints))
        traj = simulate(scene)
        if not traj.count("collision"):
            continue
        k, _ = _first_collision(traj)
        if (traj.impacts[: k + 1] == 0).all() and (traj.impacts[k + 1] > 0).all():
            found.append((scene, traj, k))
    assert len(found) >= 3, "the collide scenario should usually collide in flight"
    return found


def test_equal_mass_elastic_head_on_collision_swaps_velocities():
    for scene, traj, k in _clean_collisions(range(8), size="medium", ball_restitution=1.0):
        before, after = traj.vel[k], traj.vel[k + 1]
        dt = traj.t[k + 1] - traj.t[k]
        gravity = np.array([0.0, -scene.gravity * dt])
        assert abs(before[0, 0] - before[1, 0]) > 2.0  # they really are flying at each other
        np.testing.assert_allclose(after, before[::-1] + gravity, atol=0.02)
        m = np.array([b.mass for b in scene.balls])
        p0, p1 = (m[:, None] * before).sum(0), (m[:, None] * (after - gravity)).sum(0)
        np.testing.assert_allclose(p1, p0, rtol=0.02, atol=0.02)
        ke0 = (0.5 * m * (before**2).sum(1)).sum()
        ke1 = (0.5 * m * ((after - gravity) ** 2).sum(1)).sum()
        assert ke1 == pytest.approx(ke0, rel=0.02)


def test_ball_restitution_sets_the_relative_speed_after_a_collision():
    for scene, traj, k in _clean_collisions(range(8), size="medium", ball_restitution=0.5):
        before, after = traj.vel[k], traj.vel[k + 1]
        rel_before, rel_after = before[0, 0] - before[1, 0], after[0, 0] - after[1, 0]
        assert -rel_after / rel_before == pytest.approx(0.5, rel=0.05)
        m = np.array([b.mass for b in scene.balls])
        assert (m * after[:, 0]).sum() == pytest.approx((m * before[:, 0]).sum(), abs=0.02)


# --- the hoop ---------------------------------------------------------------------------------

def _hoop_path(scene):
    """Per internal step (960 fps) trajectory of the shot, and the coarse clip's trajectory."""
    return simulate(fine(scene, 960.0)), simulate(scene)


def _rim_line_crossings(scene, pos):
    """(down, up): steps where the ball's centre crosses the rim line between the rims."""
    h = scene.hoop
    between = np.abs(pos[1:, 0] - h.x) < h.half_width - h.rim_radius
    down = between & (pos[:-1, 1] >= h.y) & (pos[1:, 1] < h.y)
    up = between & (pos[:-1, 1] < h.y) & (pos[1:, 1] >= h.y)
    return down, up


def test_hoop_in_is_reachable_and_goes_through_the_hoop():
    for seed in range(12):
        scene = sample_scene(seed, scenario="hoop", outcome="in")
        dense, traj = _hoop_path(scene)
        assert traj.outcome == dense.outcome == "in"
        assert [e.kind for e in traj.events].count("hoop_in") == 1
        down, up = _rim_line_crossings(scene, dense.pos[:, 0])
        assert down.any() and not up[: np.argmax(down)].any()  # in from above, never from below
        event = next(e for e in traj.events if e.kind == "hoop_in")
        assert event.time == pytest.approx(dense.t[np.argmax(down) + 1], abs=1e-6)


def test_hoop_miss_is_reachable_and_stays_out():
    rim_misses = 0
    for seed in range(16):
        scene = sample_scene(seed, scenario="hoop", outcome="miss")
        dense, traj = _hoop_path(scene)
        h, r = scene.hoop, scene.balls[0].radius
        assert traj.outcome == dense.outcome == "miss"
        assert [e.kind for e in traj.events].count("hoop_miss") == 1
        pos = dense.pos[:, 0]
        down, up = _rim_line_crossings(scene, pos)
        assert not down.any() and not up.any()
        touched = min(np.linalg.norm(pos - np.array(rim), axis=-1).min() for rim in h.rims) <= r + h.rim_radius + 1e-3
        if touched:
            rim_misses += 1
            assert traj.count("rim_hit", 0) >= 1
        # at the end the ball is not inside the hoop (between the rims, in the net below the rim line)
        x, y = pos[-1]
        assert not (abs(x - h.x) < h.half_width and h.y - 0.9 < y < h.y)
    assert rim_misses >= 3, "misses off the rim are what the model must learn"


def test_outcome_constraint_agrees_with_an_unconstrained_draw():
    """`outcome=` redraws the aim until it happens; the simulator, not the sampler, decides."""
    outcomes = {simulate(sample_scene(s, scenario="hoop")).outcome for s in range(12)}
    assert outcomes == {"in", "miss"}


def test_impacts_mark_every_contact_and_only_contacts():
    clip = world.sample(11, scenario="drop")
    impacts, events = clip.trajectory.impacts, clip.events
    assert impacts.shape == (clip.scene.num_frames, 1) and impacts[0, 0] == 0
    for e in events:
        if e.kind == "floor_bounce":
            k = int(np.floor(e.time * clip.fps)) + 1  # interval (k-1, k] holds the contact
            assert impacts[k, 0] == pytest.approx(e.speed)
    assert (impacts[: int(np.floor(events[0].time * clip.fps)) + 1] == 0).all()
    # between impacts the motion is smooth: velocity changes by gravity alone in mid-air
    scene = fine(clip.scene)
    traj = simulate(scene)
    jumps = np.abs(np.diff(traj.vel[:, 0, 1]) + scene.gravity / scene.fps) > 0.5
    assert (traj.impacts[1:, 0][jumps] > 0).all()
