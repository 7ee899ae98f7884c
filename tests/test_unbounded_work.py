"""Requests that would run for hours or allocate until the machine fails are refused up front."""
from __future__ import annotations

import json
import time

import pytest
import torch

from sorakit import world
from sorakit.cli import main
from sorakit.limits import LIMITS


@pytest.mark.parametrize("kwargs, field", [
    (dict(num_frames=10**6), "num_frames"), (dict(num_frames=LIMITS.frames[1] + 1), "num_frames"),
    (dict(fps=1e-6), "fps"), (dict(fps=float("inf")), "fps"), (dict(fps="8"), "fps"), (dict(fps=True), "fps"),
    (dict(seed=-1), "seed"), (dict(seed=1.5), "seed"), (dict(gravity="9.8"), "gravity"),
    (dict(radius=5e-307), "radius"),
    (dict(ball_restitution=None), "ball_restitution"), (dict(n_balls="2", scenario="several"), "n_balls"),
])
def test_world_sample_refuses_unbounded_or_wrong_settings_at_once(kwargs, field):
    start = time.perf_counter()
    with pytest.raises(ValueError, match=field):
        world.sample(**kwargs)
    assert time.perf_counter() - start < 1.0


def test_world_sample_at_the_limits_still_works():
    clip = world.sample(1, num_frames=LIMITS.frames[1], fps=LIMITS.fps[0], height=8, width=8)
    assert clip.video.shape == (LIMITS.frames[1], 8, 8, 3) and clip.fps == LIMITS.fps[0]


def test_world_preview_count_is_bounded(tmp_path, capsys):
    lo, hi = LIMITS.preview_clips
    with pytest.raises(ValueError, match=f"from {lo} to {hi}"):
        world.preview(str(tmp_path / "p.gif"), n=10**6)
    with pytest.raises(SystemExit) as exit_:
        main(["world", "--preview", str(tmp_path / "p.gif"), "--n", "1000000"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--n: must be a whole number" in err
    assert not (tmp_path / "p.gif").exists()


# --- model folders ----------------------------------------------------------------------------------
def _folder(tmp_path, transformer=None, pipeline=None, vae=None):
    from sorakit.model import TRANSFORMER_CONFIG

    (tmp_path / "transformer").mkdir()
    config = {"_class_name": "WanTransformer3DModel", **TRANSFORMER_CONFIG, **(transformer or {})}
    (tmp_path / "transformer" / "config.json").write_text(json.dumps(config))
    meta = {"pipeline": {"num_frames": 16, "height": 32, "width": 32, "fps": 8.0, "max_text_tokens": 32,
                         **(pipeline or {})}}
    (tmp_path / "sorakit.json").write_text(json.dumps(meta))
    if vae is not None:
        (tmp_path / "vae").mkdir()
        (tmp_path / "vae" / "config.json").write_text(json.dumps(vae))
    return tmp_path


@pytest.mark.parametrize("parts, message", [
    (dict(transformer={"num_layers": 100_000}), "num_layers must be a whole number from 1 to 64"),
    (dict(transformer={"num_attention_heads": 128, "attention_head_dim": 512, "num_layers": 64}), "GB of weights"),
    (dict(transformer={"patch_size": [1, 0, 4]}), r"patch_size\[1\]"),
    (dict(transformer={"ffn_dim": "512"}), "ffn_dim"),
    (dict(pipeline={"max_text_tokens": 10**8}), "max_text_tokens must be a whole number from 1 to 512"),
    (dict(pipeline={"height": 30000}), "height"),
    (dict(pipeline={"fps": 1e-9}), "fps"),
    (dict(pipeline={"text_layers": [-1, 99]}), "text_layers"),
    (dict(vae={"block_out_channels": [64] * 100}), "block_out_channels"),
], ids=["layers", "weights", "patch", "text-ffn", "tokens", "height", "fps", "text-layers", "vae"])
def test_load_checks_a_folders_configs_before_building(tmp_path, parts, message):
    import sorakit
    import sorakit.loading  # noqa: F401  (imports diffusers: not part of the time measured)

    start = time.perf_counter()
    with pytest.raises(ValueError, match=message):
        sorakit.load(_folder(tmp_path, **parts))
    assert time.perf_counter() - start < 5.0


def test_a_config_that_is_not_json_is_refused(tmp_path):
    import sorakit

    folder = _folder(tmp_path)
    (folder / "transformer" / "config.json").write_text("[" * 100_000)
    with pytest.raises(ValueError, match="not valid JSON"):
        sorakit.load(folder)


# --- outputs ----------------------------------------------------------------------------------------
def test_nan_weights_are_reported_not_returned_as_frames(tiny_pipe):
    from sorakit.model import build_transformer
    from sorakit.pipeline import SpacetimePipeline

    broken = build_transformer(num_layers=1).eval()
    with torch.no_grad():
        broken.proj_out.weight.fill_(float("nan"))
    pipe = SpacetimePipeline(tiny_pipe.tokenizer, tiny_pipe.text_encoder, broken, tiny_pipe.scheduler)
    pipe.set_progress_bar_config(disable=True)
    for output_type in ("np", "latent"):
        with pytest.raises(ValueError, match="NaN or infinite"):
            pipe("a red ball", num_frames=2, height=8, width=8, num_inference_steps=1, output_type=output_type)
