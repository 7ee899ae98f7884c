"""The Studio's parts, `sorakit generate --model` and `sorakit demo --model` on diffusers video pipelines:
controls start at the pipeline's defaults (`sorakit.families.defaults`), frame counts follow its VAE,
and one generate call gives a clip the probes, attention and export read. Tiny offline builds, 1-2 steps."""
from __future__ import annotations

from functools import partial

import numpy as np
import pytest
import torch

from sorakit import cli, media, ui
from sorakit.families import tiny
from sorakit.families.defaults import SORAKIT, call_kwargs, pipeline_defaults
from sorakit.recipe import Recipe
from sorakit.ui.attention_explorer import sample_with_capture

SMALL = dict(num_frames=9, height=32, width=32)  # a clip every tiny pipeline makes in about a second


@pytest.fixture(scope="module")
def wan():
    return tiny.build("wan")


@pytest.fixture(scope="module")
def wan_folder(wan, tmp_path_factory):
    folder = tmp_path_factory.mktemp("wan") / "pipe"
    wan.save_pretrained(folder, safe_serialization=True)
    return folder


# (frames, height, width, steps, guidance, fps, frame rule, size multiple) of each tiny build; sizes are the
# real models' defaults except CogVideoX's, which come from its (tiny) transformer's sample size.
EXPECTED = {
    "wan": (81, 480, 832, 50, 5.0, 16.0, "4k+1", 16), "skyreels_v2": (97, 544, 960, 50, 6.0, 24.0, "4k+1", 16),
    "ltx": (161, 512, 704, 50, 3.0, 25.0, "4k+1", 4), "cogvideox": (9, 32, 32, 50, 6.0, 8.0, "4k+1", 16),
    "hunyuan": (129, 720, 1280, 50, 6.0, 15.0, "4k+1", 8), "mochi": (19, 480, 848, 64, 4.5, 30.0, "6k+1", 16),
}


@pytest.mark.parametrize("family", EXPECTED)
def test_defaults_come_from_each_pipeline(family):
    spec = pipeline_defaults(tiny.build(family))
    got = (spec.num_frames, spec.height, spec.width, spec.steps, spec.guidance, spec.fps, spec.frame_rule,
           spec.size_step)
    assert got == EXPECTED[family]
    assert spec.negative_prompt and spec.first_frame is None and spec.sizes
    assert spec.frames_ok(spec.num_frames) and not spec.frames_ok(spec.num_frames + 1)


@pytest.mark.parametrize("family", tiny.FAMILIES)
def test_every_family_makes_a_clip_the_tools_read(family):
    """The Studio's Generate (run_recipe under the attention capture) on each family: frames as sorakit's own
    pipeline gives them, the recipe names the model and the family's fps, and word maps come back."""
    pipe = tiny.build(family)
    frames = 7 if family == "mochi" else 9
    gen = sample_with_capture(pipe, Recipe("a red ball", seed=1, steps=2, frames=frames, height=32, width=32),
                              moderation=False)
    assert gen.video.shape == (frames, 32, 32, 3) and gen.video.dtype == np.float32
    assert 0 <= gen.video.min() and gen.video.max() <= 1 and np.isfinite(gen.video).all()
    assert gen.recipe.model == type(pipe).__name__ and gen.fps == pipeline_defaults(pipe).fps
    assert gen.capture.word_map("red").shape == (frames, 32, 32)
    # HunyuanVideo's default template crops a Llama tokenizer's count of system-prompt tokens; the tiny build's
    # MiniLM tokenizer counts fewer, so some template words stay: the prompt's words come last either way.
    words = gen.capture.words
    assert words[-3:] == ["a", "red", "ball"] and (family == "hunyuan" or len(words) == 3)


def test_a_clip_too_large_to_capture_is_still_made(wan, monkeypatch):
    from sorakit import attention
    from sorakit.ui import attention_explorer

    monkeypatch.setattr(attention_explorer, "capture_all", lambda pipe: attention.capture(pipe, budget=1))
    gen = sample_with_capture(wan, Recipe("a red ball", steps=2, frames=9, height=32, width=32), moderation=False)
    assert gen.video.shape == (9, 32, 32, 3) and gen.capture is None


def test_frame_counts_steps_and_inputs_are_checked_with_the_allowed_values(tiny_pipe):
    mochi = pipeline_defaults(tiny.build("mochi"))
    assert mochi.allowed_frames(2, 32) == [7, 13, 19, 25, 31] and mochi.fit_frames(2, 32) == 19
    with pytest.raises(ValueError, match=r"frames must be one of 7, 13, 19, 25, 31, 37, \.\.\., 1021 \(6k\+1"):
        mochi.check(frames=8)
    with pytest.raises(ValueError, match="MochiPipeline needs at least 2 steps"):  # diffusers divides by zero
        mochi.check(steps=1)
    with pytest.raises(ValueError, match="height must be a multiple of 16"):
        mochi.check(height=40)
    ours = pipeline_defaults(tiny_pipe)  # sorakit's pipeline: its config, its own first-frame argument
    assert (ours.family, ours.num_frames, ours.height, ours.fps, ours.sizes) == (SORAKIT, 16, 32, 8.0, False)
    frame = np.zeros((32, 32, 3), np.float32)
    assert call_kwargs(tiny_pipe, Recipe("a ball"), frame)["frames"].shape == (1, 32, 32, 3)


def test_image_to_video_and_video_to_video_pipelines(wan):
    from diffusers import LTXImageToVideoPipeline, WanVideoToVideoPipeline

    i2v = LTXImageToVideoPipeline(**tiny.build("ltx").components)
    spec = pipeline_defaults(i2v)
    assert spec.first_frame == "image" and spec.first_frame_required
    frame = np.zeros((32, 32, 3), np.float32)
    assert call_kwargs(i2v, Recipe("a ball", steps=2, frames=9, height=32, width=32), frame)["image"] is frame
    with pytest.raises(ValueError, match=r"LTXImageToVideoPipeline makes a clip from a first frame \(image=\)"):
        call_kwargs(i2v, Recipe("a ball", steps=2, frames=9, height=32, width=32))
    parts = {k: wan.components[k] for k in ("tokenizer", "text_encoder", "transformer", "vae", "scheduler")}
    with pytest.raises(ValueError, match="from a source video"):
        pipeline_defaults(WanVideoToVideoPipeline(**parts))
    with pytest.raises(ValueError, match="takes no first frame"):
        pipeline_defaults(wan).first_frame_kwargs(frame)


def test_studio_follows_wan_and_makes_a_clip_for_every_tool(wan, tmp_path):
    panel = ui.PromptPanel(wan, "a red ball")
    assert (panel.num_frames.value, panel.num_frames.min, panel.num_frames.step) == (81, 5, 4)
    assert (panel.height.value, panel.width.value, panel.height.step) == (480, 832, 16)
    assert (panel.steps.value, panel.guidance.value) == (50, 5.0) and panel.negative in panel.children

    studio = ui.Studio(wan, "a red ball", seed=3, steps=2, seeds=1, moderation=False, **SMALL)
    assert studio.player.fps == 16.0 and studio.seed_grid.num_frames.value == 9
    assert [studio.tabs.get_title(i) for i in range(len(studio.tabs.children))] == ["Attention", "Probes", "Seeds"]
    gen = studio.generate()
    assert studio.prompt_panel.error is None and studio.video is gen.video
    assert gen.video.shape == (9, 32, 32, 3) and gen.video.dtype == np.float32
    assert 0 <= gen.video.min() and gen.video.max() <= 1 and gen.fps == 16.0
    assert gen.recipe.model == "WanPipeline" and gen.recipe.model_hash and gen.recipe.frames == 9
    assert studio.player.is_showing(gen.video) and studio.probes.video is gen.video
    assert studio.attention.chips.words == ["a", "red", "ball"]
    heat = studio.attention.show_word("red")  # from the capture taken while generating
    assert heat.shape == (9, 32, 32) and heat.max() == pytest.approx(1.0)
    assert studio.probes.run() is not None
    stored = media.read_metadata(studio.export(tmp_path / "clip.mp4"))
    assert (stored.model, stored.frames, stored.fps, stored.id) == ("WanPipeline", 9, 16.0, gen.recipe.id)

    studio.prompt_panel.num_frames.value = 10  # not 4k+1: refused before sampling, naming the counts Wan takes
    assert studio.generate() is None and "frames must be one of 5, 9, 13" in studio.prompt_panel.error


def test_seed_grid_follows_mochi(tiny_pipe):
    mochi = tiny.build("mochi")
    grid = ui.SeedGrid(mochi, "a ball", seeds=[1, 2])
    assert (grid.num_frames.value, grid.num_frames.step, grid.steps.value, grid.steps.min) == (19, 6, 64, 2)
    assert grid.view.fps == 30.0 and (grid.height.value, grid.width.value) == (480, 848)
    grid = ui.SeedGrid(mochi, "a ball", seeds=[1], steps=2, num_frames=7, height=32, width=32,
                       runner=partial(ui.run_recipe, moderation=False))
    gens = grid.run()
    assert len(gens) == 1 and gens[0].video.shape == (7, 32, 32, 3) and gens[0].recipe.model == "MochiPipeline"
    ours = ui.SeedGrid(tiny_pipe, "a ball")  # sorakit's pipeline keeps its trained size: no size sliders
    assert ours.height not in ours.children and ours.num_frames.value == 16


def test_generate_cli_on_a_saved_pipeline(wan_folder, tmp_path, capsys):
    out = tmp_path / "clip.mp4"
    argv = ["generate", "a red ball", "--model", str(wan_folder), "--steps", "2", "--frames", "9", "--height", "32",
            "--width", "32", "--out", str(out)]
    assert cli.main(argv) == 0
    recipe = media.read_metadata(out)
    assert (recipe.model, recipe.frames, recipe.height, recipe.fps, recipe.steps) == (str(wan_folder), 9, 32, 16.0, 2)
    assert media.read_clip(out)[0].shape == (9, 32, 32, 3)

    assert cli.main([*argv[:-1], str(tmp_path / "bad.mp4"), "--frames", "10"]) == 2
    assert "frames must be one of 5, 9, 13" in capsys.readouterr().err


def test_generate_and_demo_refuse_pickle_weights(wan_folder, tmp_path, capsys):
    import shutil

    folder = shutil.copytree(wan_folder, tmp_path / "pickled")
    for weights in folder.rglob("*.safetensors"):
        weights.rename(weights.with_suffix(".bin"))
    for argv in (["generate", "a ball", "--model", str(folder), "--out", str(tmp_path / "c.mp4")],
                 ["demo", "--model", str(folder), "--no-moderation"]):
        assert cli.main(argv) == 2
        assert "safetensors only" in capsys.readouterr().err


def test_demo_cli_loads_the_model_and_the_app_follows_it(wan_folder, monkeypatch):
    pytest.importorskip("gradio")
    import gradio as gr

    from sorakit import demo

    launched = {}
    monkeypatch.setattr(demo, "launch", lambda **kwargs: launched.update(kwargs))
    assert cli.main(["demo", "--model", str(wan_folder), "--height", "32", "--width", "32", "--no-moderation"]) == 0
    pipe = launched["pipe"]
    assert type(pipe).__name__ == "WanPipeline" and launched["size"] == (32, 32)
    app = demo.build_app(pipe, moderation=False, size=launched["size"])
    try:
        inputs = {b.label: b for b in app.blocks.values() if getattr(b, "label", None)}
        frames = inputs["Frames"]
        assert (frames.minimum, frames.maximum, frames.step, frames.value) == (5, 29, 4, 29)
        assert inputs["Steps"].value == 50 and inputs["Guidance"].value == 5.0
        assert inputs["Negative prompt"].visible and not inputs["First frame (optional: image-to-video)"].visible
        endpoints = app.sorakit_handlers
        path, seed, _ = endpoints.generate("a red ball", seed=4, steps=2, frames=9)
        recipe = media.read_metadata(path)
        assert (recipe.model, recipe.frames, recipe.height, recipe.fps, seed) == (str(wan_folder), 9, 32, 16.0, 4)
        with pytest.raises(gr.Error, match="frames must be one of 5, 9, 13"):
            endpoints.generate("a red ball", steps=2, frames=10)
        with pytest.raises(gr.Error, match="makes clips from text alone"):
            endpoints.generate("a red ball", steps=2, frames=9, image="first.png")
    finally:
        app.close()


def test_model_hash_covers_wan22_second_expert():
    """Wan 2.2 denoises its low-noise steps with transformer_2: other weights there make other clips."""
    from sorakit.loading import model_hash

    pipe = tiny.build("wan2.2")
    before = model_hash(pipe)
    weight = next(pipe.transformer_2.parameters())
    with torch.no_grad():
        weight.add_(1.0)
    assert model_hash(pipe) != before
