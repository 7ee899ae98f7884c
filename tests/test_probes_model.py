"""Probes that need a pipeline: hidden-state linear probes and the physics evaluation (tiny model)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from sorakit import probes, world
from sorakit.eval import physics


def test_hidden_probe_heatmap_shape_and_values(tiny_pipe):
    result = probes.hidden.run(tiny_pipe, n_clips=12, noise_levels=(0.2, 0.8), progress=False)
    assert result.layers == ["embed", "block 0", "block 1"]
    assert result.r2.shape == (3, 2, 2) and np.isfinite(result.r2).all()
    assert (result.r2 <= 1).all()
    best = result.best("velocity")
    assert best["layer"] in result.layers and best["noise_level"] in (0.2, 0.8)
    json.dumps(result.to_dict(), allow_nan=False)
    assert len(result.plot().axes) == 4  # two heatmaps and their colour bars


def test_hidden_probe_records_one_feature_per_frame_and_layer(tiny_pipe):
    clips = [world.sample(k, scenario="throw") for k in range(3)]
    feats = probes.hidden.record(tiny_pipe, clips, layers=[1], noise_level=0.5, batch_size=2)
    dim = tiny_pipe.transformer.config.num_attention_heads * tiny_pipe.transformer.config.attention_head_dim
    assert feats.shape == (2, 3, 16, dim)
    assert not np.allclose(feats[0], feats[1])  # a block changes its input


def test_ridge_probe_recovers_a_linear_signal():
    rng = np.random.default_rng(0)
    feats = rng.normal(size=(20, 16, 8))
    targets = np.concatenate([feats[..., :2] @ rng.normal(size=(2, 2)), feats[..., 2:4] * 3], -1)
    r2, _ = probes.hidden.fit_probe(feats, targets, train=np.arange(15), test=np.arange(15, 20))
    assert (r2 > 0.98).all()
    noise, _ = probes.hidden.fit_probe(feats, rng.normal(size=(20, 16, 4)), np.arange(15), np.arange(15, 20))
    assert (noise < 0.1).all()


@pytest.mark.parametrize("kwargs, match", [
    (dict(layers=[7]), "block indices"), (dict(noise_levels=(1.5,)), "noise_levels"), (dict(n_clips=4), "n_clips"),
])
def test_hidden_probe_rejects_bad_options(tiny_pipe, kwargs, match):
    with pytest.raises(ValueError, match=match):
        probes.hidden.run(tiny_pipe, progress=False, **kwargs)


def test_eval_splits_are_held_out_and_out_of_range():
    ood = physics.split_clips("ood", 4)
    speeds = [np.abs(c.states.vel[0, 0, 0]) for c in ood[::2] if c.scene.scenario != "drop"]
    assert all(s == pytest.approx(physics.OOD_SPEED) for s in speeds)
    assert {round(c.states.radius[0], 2) for c in ood[1::2]} == set(physics.OOD_RADII)
    for clip in physics.split_clips("combinatorial", 4):  # launched toward the nearer wall
        x, vx = clip.states.pos[0, 0, 0], clip.states.vel[0, 0, 0]
        assert np.sign(vx) == np.sign(x - 5.0)
    assert all(c.scene.seed >= physics.EVAL_SEED for c in physics.split_clips("id", 2))


def test_evaluate_physics_runs_batched_and_tabulates(tiny_pipe):
    result = probes.evaluate_physics(n=3, pipe=tiny_pipe, steps=1, batch_size=4, progress=False, keep_videos=True)
    assert list(result.summary) == [f"{s}/{m}" for s in physics.SPLITS for m in ("truth", "continuation", "text")]
    truth = result.summary["id/truth"]
    assert truth["floor_ratio"] < 3 and truth["persistence"] == 1.0  # the world itself scores at the floor
    assert result.videos["id/continuation"][0].shape == (16, 32, 32, 3)
    given = physics.split_clips("id", 1)[0].video[: physics.GIVEN]
    np.testing.assert_allclose(result.videos["id/continuation"][0][: physics.GIVEN], given, atol=1e-6)
    table = result.table()
    assert table.count("\n") == 1 + 9 and "× parse floor" in table
    json.dumps(result.to_dict(), allow_nan=False)
    with pytest.raises(ValueError, match="modes"):
        probes.evaluate_physics(n=3, pipe=tiny_pipe, modes=("dream",))


def test_pipeline_takes_one_leading_clip_per_prompt(tiny_pipe):
    clips = [world.sample(k).video[:2] for k in range(3)]
    out = tiny_pipe(["a", "b"], frames=np.stack(clips[:2]), num_inference_steps=1, output_type="np").frames
    for video, given in zip(out, clips[:2]):
        np.testing.assert_allclose(video[:2], given, atol=1e-6)
    with pytest.raises(ValueError, match="one clip per prompt"):
        tiny_pipe(["a", "b"], frames=np.stack(clips), num_inference_steps=1)


def test_cli_eval_prints_the_table(monkeypatch, capsys):
    from sorakit import cli

    calls = {}

    def fake(n, pipe, steps):
        calls.update(n=n, pipe=pipe, steps=steps)
        return physics.PhysicsEval({"id/truth": physics.summarize([], probes.PARSE_FLOOR)}, config={"n": n})

    import types

    import sorakit

    shipped = types.SimpleNamespace(set_progress_bar_config=lambda **kwargs: None)
    loaded = []  # the shipped model, loaded on this process's device (under accelerate launch: its own)
    monkeypatch.setattr(sorakit, "load", lambda *a, **k: loaded.append(k) or shipped)
    monkeypatch.setattr(physics, "evaluate_physics", fake)
    assert cli.main(["eval", "physics", "--n", "6", "--steps", "3"]) == 0
    assert calls == {"n": 6, "pipe": shipped, "steps": 3} and "device" in loaded[0]
    assert capsys.readouterr().out.startswith("| split | mode |")
    assert cli.main(["eval", "physics", "--n", "6", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["config"] == {"n": 6}
