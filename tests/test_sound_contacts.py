"""Contact-time features (sorakit.sound.contacts) and the sound model's material head, on world clips."""
from __future__ import annotations

import numpy as np
import pytest

import sorakit
from sorakit import world
from sorakit.sound.contacts import SURFACES, contact_dim, contact_features, rim_line
from sorakit.sound.features import DIM, clip_features, mirrored
from sorakit.sound.model import targets
from sorakit.training.sound import impact_onsets

BINS, FPS = 8, 8.0


def _surface(feats: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(F, BINS) forward and backward crossings of one surface."""
    start = SURFACES.index(name) * (2 * BINS + 2)
    return feats[:, start:start + BINS], feats[:, start + BINS:start + 2 * BINS]


def _centres(row: np.ndarray) -> list[float]:
    """Weighted centres (in bins) of the separate runs of non-zero bins in one interval's crossings."""
    runs, current = [], []
    for b, w in enumerate(row):
        if w > 0:
            current.append(b)
        elif current:
            runs.append(current)
            current = []
    runs += [current] if current else []
    return [float(np.average(r, weights=row[r])) for r in runs]


def test_two_floor_bounces_in_one_frame_interval_stay_two_at_their_times():
    """Seed 244: two balls land 60 ms apart inside one 125 ms frame interval; the forward paths place
    each landing within a third of a bin (5 ms) of the simulator's contact time."""
    clip = world.sample(244, audio=False)
    times = [e.time for e in clip.events if e.kind == "floor_bounce"]
    assert len(times) == 2 and int(times[0] * FPS) == int(times[1] * FPS) == 7
    feats = contact_features(clip.video, FPS, BINS)
    assert feats.shape == (16, contact_dim(BINS)) and not feats[-1].any()
    forward, backward = _surface(feats, "floor")
    found = [(7 + (c + 0.5) / BINS) / FPS for c in _centres(forward[7])]
    assert np.allclose(found, times, atol=0.005), (found, times)
    assert len(_centres(backward[7])) == 2  # and both are left again in the same interval
    assert not forward[[4, 5, 9, 10]].any()  # in flight: no floor before or after


def test_contact_features_do_not_change_when_the_clip_is_mirrored():
    """Walls and rims are pooled left with right, so the features of a mirrored clip are the same: the
    training's mirroring only reverses the motion profiles' columns."""
    video = world.sample(13, audio=False).video
    feats = clip_features(video, FPS, contacts=True)
    assert feats.shape == (16, DIM + contact_dim(BINS))
    np.testing.assert_allclose(clip_features(video[:, :, ::-1], FPS, contacts=True), mirrored(feats), atol=1e-4)


def test_the_hoop_is_found_where_the_scene_put_it_and_nowhere_else():
    clip = world.sample(1_000_000, audio=False)
    hoop = clip.scene.hoop
    x, y, half = rim_line(clip.video)
    pixel = world.scene.WORLD_WIDTH / 32
    assert abs(x - hoop.x) < pixel and abs(y - hoop.y) < pixel and abs(half - hoop.half_width) < pixel
    assert rim_line(world.sample(244, audio=False).video) is None
    assert not contact_features(np.zeros((6, 32, 32, 3), np.float32), FPS, BINS).any()  # nothing to track


def test_targets_carry_each_onsets_restitution():
    clip = world.sample(244, audio=False)
    onsets = impact_onsets(clip.events, balls=clip.scene.balls)
    assert [o[3] for o in onsets] == [clip.scene.balls[i].restitution for i in (0, 1)]
    t = targets(onsets, 16, FPS)
    assert sorted(t["restitution"][t["onset"] > 0]) == pytest.approx(sorted(o[3] for o in onsets))
    assert (t["restitution"][t["onset"] == 0] == 0.75).all()


def test_add_sound_hears_dead_balls_thud_and_bouncy_ones_ring():
    """Unseen drops and throws: the material head gives every heard impact of a dead ball (restitution
    0.15-0.3) a lower restitution than every impact of a bouncy one (0.75-0.9), so its sound decays faster."""
    heard = {}
    for bounciness in ("dead", "bouncy"):
        for seed in range(1_000_000, 1_000_004):
            clip = world.sample(seed, scenario="drop", bounciness=bounciness, audio=False)
            heard.setdefault(bounciness, []).extend(i.balls[0][1] for i in sorakit.sound.predict_impacts(clip.video))
    assert len(heard["dead"]) >= 4 and len(heard["bouncy"]) >= 4, heard
    assert max(heard["dead"]) < 0.5 < min(heard["bouncy"]), heard
