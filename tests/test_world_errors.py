"""world: impossible requests fail early with a ValueError that says what is allowed."""
import numpy as np
import pytest

from sorakit import world
from sorakit.world import COLORS, SCENARIOS, SIZES


def _raises(match_all, **kw):
    with pytest.raises(ValueError) as info:
        world.sample(**kw)
    message = str(info.value)
    for word in match_all:
        assert word in message, (message, word)
    return message


def test_unknown_colour_names_the_colours():
    _raises(["pink", *COLORS], color="pink")
    _raises(["pink", *COLORS], scenario="collide", colors=("red", "pink"))


def test_unknown_scenario_names_the_scenarios():
    _raises(["juggle", *SCENARIOS], scenario="juggle")


def test_unknown_size_direction_bounciness_outcome():
    _raises(["huge", *SIZES], size="huge")
    _raises(["up", "left", "right"], scenario="throw", direction="up")
    _raises(["springy", "bouncy", "dead"], scenario="drop", bounciness="springy")
    _raises(["maybe", "in", "miss"], scenario="hoop", outcome="maybe")


@pytest.mark.parametrize("radius", [-1.0, 0.0, float("nan"), float("inf")])
def test_bad_radius(radius):
    _raises(["radius", "positive", "2.5"], radius=radius)


def test_radius_too_big_for_the_scenario_names_its_limit():
    _raises(["radius", "1.25", "hoop"], scenario="hoop", radius=2.0)
    _raises(["radius", "1.6", "several"], scenario="several", radius=2.0)
    # within the limits the balls start clear of the walls and of each other
    for scenario in SCENARIOS:
        limit = world.scene.MAX_RADIUS[scenario]
        scene = world.sample_scene(3, scenario=scenario, radius=limit)
        for b in scene.balls:
            assert b.radius <= b.x <= 10 - b.radius and b.y >= b.radius
        for i, a in enumerate(scene.balls):
            for b in scene.balls[i + 1:]:
                assert np.hypot(a.x - b.x, a.y - b.y) > a.radius + b.radius


@pytest.mark.parametrize("num_frames", [0, 1, -3, 2.5])
def test_bad_frame_count(num_frames):
    _raises(["num_frames", ">= 2"], num_frames=num_frames)


@pytest.mark.parametrize("size", [dict(height=0), dict(width=4), dict(height=1024), dict(width=32.0), dict(height=-32)])
def test_bad_image_size(size):
    _raises([next(iter(size)), "[8, 512]"], **size)


def test_bad_fps_gravity_speed_restitution():
    _raises(["fps", "positive"], fps=0)
    _raises(["gravity", "positive"], gravity=-9.8)
    _raises(["speed", "positive"], speed=-1)
    _raises(["ball_restitution", "[0, 1]"], ball_restitution=1.5)


def test_outcome_only_for_the_hoop():
    message = _raises(["outcome", "hoop", "drop"], scenario="drop", outcome="in")
    assert "'in'" in message and "'miss'" in message


def test_outcome_alone_picks_the_hoop():
    """Asking for an outcome without a scenario used to fail or not depending on the seed."""
    for seed in range(8):
        clip = world.sample(seed, outcome="miss")
        assert clip.scene.scenario == "hoop" and clip.trajectory.outcome == "miss"


def test_colours_and_ball_count():
    _raises(["distinct", "red"], scenario="collide", colors=("red", "red"))
    _raises(["at most 1"], scenario="drop", colors=("red", "blue"))
    _raises(["n_balls", "1, 2 or 3"], scenario="several", n_balls=4)
    _raises(["'collide'", "2 ball"], scenario="collide", n_balls=3)
    assert world.sample(0, scenario="drop", colors="red").states.color == ["red"]  # a lone string is one colour


def test_radius_names_a_matching_size():
    """A pinned radius labels the ball with the nearest size word, so the caption is not a lie."""
    for radius, size in ((0.5, "small"), (0.9, "medium"), (2.0, "large")):
        assert world.sample_scene(1, scenario="drop", radius=radius).balls[0].size == size


def test_track_rejects_bad_input():
    with pytest.raises(ValueError, match="red"):
        world.track(np.zeros((2, 8, 8, 3), np.float32), colors=["mauve"])
    with pytest.raises(ValueError, match=r"\(F, H, W, 3\)"):
        world.track(np.zeros((8, 8, 3), np.float32))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        world.track(np.full((2, 8, 8, 3), 2.0, np.float32))


def test_preview_rejects_no_clips(tmp_path):
    with pytest.raises(ValueError, match="from 1 to"):
        world.preview(str(tmp_path / "x.gif"), n=0)
