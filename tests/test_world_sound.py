"""The world's sound: it follows what was simulated (size, speed, material, surface, place) and costs
nothing when not asked for."""
from __future__ import annotations

import hashlib
from dataclasses import replace

import numpy as np
import pytest

from sorakit import world

SR = world.SAMPLE_RATE


def _window(clip, t0: float, a: float, b: float) -> np.ndarray:
    mono = clip.audio.mean(axis=1)
    return mono[int((t0 + a) * SR):int((t0 + b) * SR)]


def _centroid(x: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    freq = np.fft.rfftfreq(len(x), 1 / SR)
    keep = freq > 100
    return float((spectrum[keep] * freq[keep]).sum() / spectrum[keep].sum())


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x ** 2)))


def test_audio_is_stereo_float32_for_the_clip_length_and_deterministic():
    a, b = world.sample(0), world.sample(0)
    assert a.audio.dtype == np.float32 and a.audio.shape == (int(a.scene.duration * SR), 2) and a.sample_rate == SR
    assert np.abs(a.audio).max() <= 1.0 and np.abs(a.audio).max() > 0.05
    assert a.audio.tobytes() == b.audio.tobytes() and a.sounds == b.sounds
    assert world.sample(1, scenario="several").audio.tobytes() != a.audio.tobytes()


def test_audio_false_skips_sound_and_leaves_the_clip_as_it_was():
    with_sound, silent = world.sample(5), world.sample(5, audio=False)
    assert silent.audio is None and silent.sounds == [] and silent.sample_rate is None
    assert with_sound.video.tobytes() == silent.video.tobytes()
    assert with_sound.caption == silent.caption and with_sound.events == silent.events
    item = next(iter(world.WorldClips(start_seed=5, limit=1)))  # training data: same frames, no sound work
    assert np.array_equal(item["video"].numpy(), world.to_model_space(silent.video).numpy())
    with pytest.raises(ValueError, match="audio must be True or False"):
        world.sample(0, audio="yes")


def test_trajectories_and_events_are_unchanged_by_sound():
    """Positions were added to the events; everything the simulator recorded before is bit-identical."""
    digest = hashlib.sha256()
    for seed in range(6):
        traj = world.sample(seed, audio=False).trajectory
        digest.update(traj.pos.tobytes() + traj.vel.tobytes() + traj.impacts.tobytes())
        digest.update(repr([(e.kind, e.frame, e.time, e.objects, e.speed) for e in traj.events]).encode())
    assert digest.hexdigest()[:16] == "ffb704556f3e97ee"  # as before events had positions


def test_every_sounding_event_is_a_sound_at_its_simulator_time_with_a_position():
    clip = world.sample(0, scenario="several")
    sounding = [e for e in clip.events if e.kind in world.sound.SOUNDING]
    assert len(sounding) >= 3 and all(e.position is not None for e in clip.events)
    assert sorted(s.time for s in clip.sounds if s.kind != "roll") == sorted(e.time for e in sounding)
    assert any(abs(e.time * clip.fps - round(e.time * clip.fps)) > 0.05 for e in sounding)  # not frame times


def test_smaller_balls_sound_higher():
    centroids = {size: np.mean([_centroid(_window(c, c.events[0].time, 0, 0.1)) for c in
                                (world.sample(s, scenario="drop", size=size, bounciness="bouncy") for s in range(2))])
                 for size in ("small", "medium", "large")}
    assert centroids["small"] > 1.15 * centroids["medium"] > 1.15 * 1.15 * centroids["large"], centroids


def test_faster_impacts_are_louder():
    base = world.sample(0, scenario="drop", size="medium", bounciness="bouncy")
    speeds, peaks = [], []
    for height in (2.0, 4.0, 8.0):
        clip = world.clip_of(world.with_balls(base.scene, [replace(base.scene.balls[0], y=height)]))
        hit = clip.events[0]
        speeds.append(hit.speed)
        peaks.append(np.abs(_window(clip, hit.time, 0, 0.05)).max())
    assert speeds == sorted(speeds) and peaks == sorted(peaks)
    assert peaks[2] / peaks[0] == pytest.approx(speeds[2] / speeds[0], rel=0.25)  # amplitude ~ normal speed


def test_bouncy_balls_ring_longer_than_dead_ones():
    def tail_ratio(bounciness):
        clip = world.sample(1, scenario="drop", bounciness=bounciness)
        x = _window(clip, clip.events[0].time, 0, 0.3)
        return _rms(x[int(0.06 * SR):]) / _rms(x[:int(0.06 * SR)])

    assert tail_ratio("bouncy") > 1.6 * tail_ratio("dead")


def test_the_rim_rings_like_metal_and_the_floor_does_not():
    rim = world.sample(0, scenario="hoop")
    hit, *rest = [s for s in rim.sounds if s.kind != "roll"]
    assert hit.kind == "rim_hit" and all(s.time - hit.time > 0.6 for s in rest)  # nothing else sounds in the window
    floor = world.sample(1, scenario="drop", bounciness="bouncy")

    def ring(clip, t0):
        x = _window(clip, t0, 0, 0.6)
        return _rms(x[int(0.3 * SR):]) / np.abs(x).max()

    assert ring(rim, hit.time) > 0.1 > 0.01 > ring(floor, floor.events[0].time)


def test_sound_pans_with_where_it_happened():
    for seed in range(40):
        clip = world.sample(seed, scenario="drop")
        x = clip.events[0].position[0]
        if abs(x - 5) > 2:
            left, right = (_rms(_window_channel(clip, ch)) for ch in (0, 1))
            assert (left > 1.5 * right) == (x < 5) and (right > 1.5 * left) == (x > 5)
            return
    pytest.fail("no drop off-centre in 40 seeds")


def _window_channel(clip, channel: int) -> np.ndarray:
    t0 = clip.events[0].time
    return clip.audio[int(t0 * SR):int((t0 + 0.1) * SR), channel]


def test_rolling_is_quiet_noise_without_impacts():
    clip = world.sample(1, scenario="roll")
    assert [s.kind for s in clip.sounds] == ["roll"] and not clip.events
    assert 0.002 < np.abs(clip.audio).max() < 0.05  # audible, far below the impacts
    assert clip.onsets.size == 0


def test_onsets_merge_sounds_closer_than_50_ms():
    sounds = [world.Sound("floor_bounce", t, 0.1, 0.5, (0,)) for t in (0.1, 0.13, 0.4)]
    assert world.onset_times(sounds).tolist() == [0.1, 0.4]


def test_bad_sample_rate_is_refused():
    clip = world.sample(0, audio=False)
    for bad in (0, 44100.0, True, 10**6):
        with pytest.raises(ValueError, match="sample_rate must be an integer"):
            world.synthesize(clip.scene, clip.trajectory, bad)
