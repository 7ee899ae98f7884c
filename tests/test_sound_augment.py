"""The sound model's training augmentation: world clips showing generated clips' artefacts, labelled silent."""
from __future__ import annotations

import json

import numpy as np
import pytest

from sorakit import world
from sorakit.sound.augment import augmented_clip
from sorakit.sound.contacts import ball_tracks
from sorakit.training.sound import example, main
from sorakit.world.render import Camera
from sorakit.world.scene import sample_scene
from sorakit.world.simulate import simulate


def _overlap(pos: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """(F,) how far the first two balls' discs overlap (positive: overlapping), world units."""
    return radius[0] + radius[1] - np.linalg.norm(pos[:, 0] - pos[:, 1], axis=-1)


def test_balls_pass_through_each_other_only_when_asked():
    scene = sample_scene(5, scenario="collide")
    radius = np.array([b.radius for b in scene.balls])
    default, passing = simulate(scene), simulate(scene, ball_collisions=False)
    assert np.array_equal(default.pos, simulate(scene, ball_collisions=True).pos)  # the default is untouched
    assert any(e.kind == "collision" for e in default.events) and _overlap(default.pos, radius).max() < 0.05
    assert not any(e.kind == "collision" for e in passing.events)
    assert _overlap(passing.pos, radius).max() > 0.5  # deep overlap: they went through each other


def test_passing_clips_show_overlapping_balls_and_hear_no_collision():
    overlapping = 0
    for seed in range(200_000, 200_006):
        video, events, balls = augmented_clip(seed, "passing")
        assert video.shape == (16, 32, 32, 3) and len(balls) >= 2
        assert not any(e.kind == "collision" for e in events)
        pos, radius = ball_tracks(video)
        overlapping += bool(np.nan_to_num(_overlap(pos, radius), nan=-1).max() > 0) if len(radius) >= 2 else 0
    assert overlapping >= 2  # the tracker sees overlapping balls in several clips
    kinds = example(200_000, augment="passing")["kind"]
    assert "collision" in world.sound.SOUNDING and (kinds != world.sound.SOUNDING.index("collision")).all()


def test_wobbly_clips_jitter_the_picture_but_not_the_sound():
    seed = 200_003
    clean = world.sample(seed, audio=False)
    video, events, balls = augmented_clip(seed, "wobbly")
    assert events == clean.events and balls == clean.scene.balls  # same scene, same simulator events
    assert not np.array_equal(video, clean.video)
    moved, truth = ball_tracks(video)[0], ball_tracks(clean.video)[0]
    shift_px = np.nanmedian(np.linalg.norm(moved - truth, axis=-1)) * Camera(32, 32).scale
    assert 0.05 < shift_px < 1.5, shift_px  # a fraction of a pixel, as generated clips wobble
    again, _, _ = augmented_clip(seed, "wobbly")
    assert np.array_equal(video, again)  # deterministic in its seed


def test_unknown_augmentation_is_refused():
    with pytest.raises(ValueError, match="allowed: passing, wobbly"):
        augmented_clip(0, "blurry")


def test_training_entry_point_adds_augmented_clips(tmp_path):
    main(["--clips", "4", "--epochs", "1", "--passing", "2", "--wobbly", "2", "--out", str(tmp_path)])
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["augmented"] == {"passing": 2, "wobbly": 2} and config["clips"] == 4
    assert (tmp_path / "model.safetensors").is_file()
