"""Probes on any input: clear ValueErrors for bad clips, reports for degenerate ones, other trackers, the CLI."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sorakit import cli, export, probes, world


@pytest.fixture(scope="module")
def clip():
    return world.sample(2, scenario="throw")


@pytest.mark.parametrize("video, match", [
    (None, "video is None"),
    (np.zeros((16, 32, 32)), "shape"),
    (np.zeros((16, 32, 32, 4)), "shape"),
    (np.zeros((0, 32, 32, 3)), "no frames"),
    (np.zeros((4, 4, 4, 3)), "at least 8x8"),
    (np.zeros((4, 32, 32, 3), bool), "dtype"),
    (np.zeros((4, 32, 32, 3), np.int64), "dtype"),
    (np.full((4, 32, 32, 3), np.nan), "NaN"),
    (np.full((4, 32, 32, 3), -0.5), "\\(x \\+ 1\\) / 2"),
    (np.full((4, 32, 32, 3), 3.0), "in \\[0, 1\\]"),
    ([[1, 2], [3]], "array of shape"),
])
def test_bad_videos_raise_clear_errors(video, match):
    with pytest.raises(ValueError, match=match):
        probes.run(video)


@pytest.mark.parametrize("kwargs, match", [
    (dict(fps=0), "fps"), (dict(fps=float("nan")), "fps"), (dict(fps="fast"), "fps"),
    (dict(prompt=3), "prompt must be a string"), (dict(prompt="x" * 2000), "at most"),
    (dict(probes=["gravity", "magic"]), "unknown probe"), (dict(tracker="sonar"), "tracking method"),
    (dict(given=1), "given"),
])
def test_bad_options_raise_clear_errors(clip, kwargs, match):
    with pytest.raises(ValueError, match=match):
        probes.run(clip.video, **kwargs)


def test_one_frame_clip_reports_what_could_not_run(clip):
    report = probes.run(clip.video[:1], prompt=clip.caption)
    for name in ("gravity", "bounces", "persistence", "consistency", "temporal"):
        assert report[name].passed is None and "frame" in report[name].reason
    assert report.verdicts == {"adherence": True}  # colour and count are visible in one frame
    json.dumps(report.to_dict(), allow_nan=False)


def test_empty_scene_reports_no_object():
    dark = np.zeros((16, 32, 32, 3), np.float32)
    report = probes.run(dark, prompt="a red ball")
    assert report.verdicts == {"adherence": False, "temporal": True}
    assert "no object" in report["gravity"].reason


def test_uint8_torch_and_batched_inputs_agree(clip):
    ref = probes.gravity(clip.video).metrics["g"]
    as_uint8 = (clip.video * 255).round().astype(np.uint8)
    assert probes.gravity(as_uint8).metrics["g"] == pytest.approx(ref, rel=0.02)
    assert probes.gravity(torch.from_numpy(clip.video)).metrics["g"] == pytest.approx(ref, rel=1e-6)
    assert probes.gravity(clip.video[None]).metrics["g"] == pytest.approx(ref, rel=1e-6)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(frames=st.integers(1, 6), height=st.integers(8, 20), width=st.integers(8, 20), seed=st.integers(0, 2**16),
       kind=st.sampled_from(["noise", "blobs", "constant", "nan", "uint8", "range"]))
def test_fuzzed_clips_give_a_report_or_a_value_error(frames, height, width, seed, kind):
    rng = np.random.default_rng(seed)
    video = rng.random((frames, height, width, 3)).astype(np.float32)
    if kind == "blobs":  # world colours in random places: tracks that jump around
        names = list(world.COLORS)
        for f in range(frames):
            y, x = rng.integers(0, height - 3), rng.integers(0, width - 3)
            video[f] = 0.06
            video[f, y:y + 3, x:x + 3] = world.COLORS[names[rng.integers(len(names))]]
    elif kind == "constant":
        video[:] = rng.random()
    elif kind == "nan":
        video[rng.integers(frames), 0, 0, 0] = np.nan
    elif kind == "uint8":
        video = (video * 255).astype(np.uint8)
    elif kind == "range":
        video = video * 4 - 2
    try:
        report = probes.run(video, prompt="a red ball bounces twice to the left and misses the hoop")
    except ValueError as exc:
        assert kind in ("nan", "range") and str(exc)
        return
    assert kind not in ("nan", "range")
    for name, result in report.results.items():
        assert not result.reason.startswith("could not run"), (name, result.reason)
    json.dumps(report.to_dict(), allow_nan=False)


def test_generic_tracker_follows_a_ball_without_its_palette(clip):
    negative = 1 - clip.video  # a light scene: nothing is the world's background or palette
    tracks, method = probes.track(negative)
    assert method == "generic" and len(tracks) == 1
    t = next(iter(tracks.values()))
    err = np.linalg.norm(t.pos[t.present] - clip.states.pos[t.present, 0], axis=-1)
    assert t.present.sum() >= 14 and err.max() < 0.35
    report = probes.run(negative)
    assert report.verdicts["persistence"] and report.verdicts["gravity"]


def test_lucas_kanade_follows_a_chosen_point(clip):
    cam = world.Camera(32, 32)
    col, row = cam.to_pixels(clip.states.pos[0, 0])
    point = probes.track_point(clip.video, 0, row, col)
    truth = cam.to_pixels(clip.states.pos[:, 0])[:, ::-1]
    err = np.linalg.norm(point.pixel[:6] - truth[:6], axis=-1)
    assert point.present[:6].all() and err.max() < 1.0
    with pytest.raises(ValueError, match="inside"):
        probes.track_point(clip.video, 0, 40, 3)


def test_cli_probes_an_exported_clip(tmp_path, capsys, clip):
    path = export(clip.video, tmp_path / "clip.mp4", fps=8,
                  metadata={"prompt": clip.caption, "height": 32, "width": 32, "fps": 8})
    assert cli.main(["probe", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["prompt"] == clip.caption and data["tracker"] == "world"
    assert data["verdicts"]["persistence"] and data["verdicts"]["adherence"] and data["verdicts"]["gravity"]
    assert cli.main(["probe", str(path)]) == 0
    assert "persistence  PASS" in capsys.readouterr().out
