"""Prompt panel, seed grid, attention explorer and Studio on the tiny pipeline (2-step samples)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from sorakit import media, ui
from sorakit.ui.recipe import Recipe, run_recipe

STEPS = 2


def test_run_recipe_is_the_plain_pipeline_call(tiny_pipe):
    calls = []
    gen = run_recipe(tiny_pipe, Recipe("a red ball", seed=3, steps=STEPS), on_step=lambda d, n: calls.append((d, n)))
    direct = tiny_pipe("a red ball", generator=torch.Generator().manual_seed(3), num_inference_steps=STEPS).frames[0]
    np.testing.assert_array_equal(gen.video, direct)
    assert calls == [(1, STEPS), (2, STEPS)]
    assert tiny_pipe._progress_bar_config == {"disable": True}  # the fixture's setting is restored


def test_prompt_panel_generates_with_progress(tiny_pipe):
    panel = ui.PromptPanel(tiny_pipe, "a blue ball rolls to the left", seed=5, steps=STEPS)
    seen = []
    panel.on_result(seen.append)
    gen = panel.generate()
    assert gen is not None and seen == [gen] and panel.result is gen
    assert gen.video.shape == (16, 32, 32, 3) and gen.recipe.seed == 5
    assert panel.progress.value == panel.progress.max == STEPS and panel.progress.bar_style == "success"
    assert panel.status.value.startswith("done in") and not panel.button.disabled


@pytest.mark.parametrize("prompt, seed_msg", [("", "prompt must not be empty"), ("x" * 1001, "at most 1000")])
def test_prompt_panel_shows_errors_instead_of_raising(tiny_pipe, prompt, seed_msg):
    panel = ui.PromptPanel(tiny_pipe, prompt, steps=STEPS)
    assert panel.generate() is None
    assert seed_msg in panel.error and "ValueError" not in panel.error  # the user's to fix: message only
    assert "sorakit-error" in panel.status.value and seed_msg in panel.status.value
    assert panel.progress.bar_style == "danger" and not panel.button.disabled
    assert "Traceback" in panel.error_traceback  # kept for debugging, not shown


def test_prompt_panel_reports_unexpected_failures(tiny_pipe):
    def broken(pipe, recipe, on_step=None):
        raise RuntimeError("out of memory")

    panel = ui.PromptPanel(tiny_pipe, "a ball", runner=broken)
    assert panel.generate() is None and panel.error == "RuntimeError: out of memory"


def test_randomize_and_set_recipe(tiny_pipe):
    panel = ui.PromptPanel(tiny_pipe, "a ball")
    seeds = {panel.randomize_seed() for _ in range(5)}
    assert len(seeds) > 1 and all(0 <= s <= ui.prompt_panel.MAX_SEED for s in seeds)
    recipe = Recipe("a green ball", seed=7, steps=3, guidance=2.5, frames=8, negative_prompt="blur")
    panel.set_recipe(recipe)
    assert panel.recipe() == recipe


def test_seed_grid_runs_variants_by_seeds_and_picks(tiny_pipe):
    grid = ui.SeedGrid(tiny_pipe, ["a red ball", "a blue ball"], seeds=[4, 9], steps=STEPS)
    gens = grid.run()
    assert [(g.recipe.prompt, g.recipe.seed) for g in gens] == [
        ("a red ball", 4), ("a red ball", 9), ("a blue ball", 4), ("a blue ball", 9)]
    assert grid.view.columns == 2 and len(grid.view.clips) == 4
    assert [c["row"] for c in grid.view.clips] == ["a red ball"] * 2 + ["a blue ball"] * 2
    assert not np.array_equal(gens[0].video, gens[1].video)  # seeds differ
    picked = []
    grid.on_pick(picked.append)
    grid.view._handle_custom_msg({"event": "pick", "index": 3}, [])
    assert picked == [gens[3]] and grid.view.picked == 3
    grid.view._handle_custom_msg({"event": "pick", "index": 7}, [])
    assert "no clip 7" in grid.status.value and picked == [gens[3]]


@pytest.mark.parametrize("seeds, msg", [("1, x", "seeds must be whole numbers from 0 to 4294967295"),
                                        ("", "seeds must be")])
def test_seed_grid_shows_bad_seeds(tiny_pipe, seeds, msg):
    grid = ui.SeedGrid(tiny_pipe, "a ball", steps=STEPS)
    grid.seeds.value = seeds
    assert grid.run() == [] and msg in grid.status.value and grid.progress.bar_style == "danger"


@pytest.fixture(scope="module")
def studio(tiny_pipe):
    studio = ui.Studio(tiny_pipe, "a red ball is thrown to the right", seed=1, steps=STEPS, seeds=2)
    assert studio.generate() is not None
    return studio


def test_studio_generate_feeds_player_and_chips(studio):
    assert studio.player.clip_id >= 1 and studio.player.num_frames == 16
    np.testing.assert_array_equal(studio.player.video, media.to_uint8(studio.video))
    assert studio.attention.chips.words == ["a", "red", "ball", "is", "thrown", "to", "the", "right"]
    assert studio.generation.capture is not None  # captured while generating
    assert studio.attention.matrix.value[:4] == b"\x89PNG"


def test_word_chip_draws_heat(studio):
    before = studio.player.heat_id
    studio.attention.chips.selected = "red"
    heat = studio.player.heat
    assert studio.player.heat_id == before + 1 and heat.shape == (16, 32, 32)
    assert heat.min() >= 0 and heat.max() == pytest.approx(1.0)
    # The sliders start at the attention module's defaults (the layers/steps that localize best).
    np.testing.assert_allclose(heat, studio.generation.capture.word_map("red"), atol=1e-6)
    default = studio.attention.layers.value
    studio.attention.layers.value = (1, 1)  # a layer range re-reads the map
    np.testing.assert_allclose(studio.player.heat, studio.generation.capture.word_map("red", layers=[1],
                               **{"steps": studio.attention._ranges()["steps"]}), atol=1e-6)
    studio.attention.layers.value = default
    studio.attention.chips.selected = ""
    assert studio.player.heat is None


def test_pixel_click_shows_query_map(studio):
    studio.tabs.selected_index = 0
    studio.player._handle_custom_msg({"event": "click", "frame": 5, "y": 10, "x": 20}, [])
    assert studio.attention.query_point == (5, 10, 20)
    assert studio.player.heat.shape == (16, 32, 32) and "self-attention" in studio.player.heat_label


def test_clicks_on_the_probes_tab_track_instead(studio):
    studio.tabs.selected_index = ui.studio.TABS.index("Probes")
    query = studio.attention.query_point
    studio.player._handle_custom_msg({"event": "click", "frame": 1, "y": 16, "x": 16}, [])
    assert studio.probes.point_track is not None and studio.attention.query_point == query
    studio.tabs.selected_index = 0


def test_explorer_captures_a_clip_that_came_without_one(tiny_pipe, studio):
    plain = run_recipe(tiny_pipe, studio.generation.recipe)
    explorer = ui.AttentionExplorer(tiny_pipe, generation=plain)
    heat = explorer.show_word("ball")
    np.testing.assert_allclose(heat, studio.generation.capture.word_map("ball"), atol=1e-6)  # same seed, same maps
    assert explorer.show_word("purple") is None and "not a word of the prompt" in explorer.status.value


def test_grid_pick_goes_into_the_studio(studio):
    studio.seed_grid.seeds.value = "0, 3"
    gens = studio.seed_grid.run()
    studio.seed_grid.pick(1)
    assert studio.prompt_panel.seed.value == 3 and studio.generation is gens[1]
    np.testing.assert_array_equal(studio.player.video, media.to_uint8(gens[1].video))


def test_studio_export_and_fallback(studio, tmp_path):
    path = studio.export(tmp_path / "clip.mp4")
    recipe = media.read_metadata(path)
    assert recipe.seed == studio.generation.recipe.seed and recipe.id == studio.generation.recipe.id
    assert (recipe.height, recipe.width, recipe.fps) == (32, 32, 8.0) and recipe.model_hash
    data, _ = studio._repr_mimebundle_()
    assert "<video" in data["text/html"] and data["image/png"]


def test_studio_fallback_keeps_the_clip_sound_muted_as_the_studio_was(studio, tmp_path):
    import base64
    import re

    from sorakit.audio import read_audio

    assert studio.player.audio is not None  # the Studio's clips play with the sound add_sound hears in them

    def fallback_mp4(name):
        data, _ = studio._repr_mimebundle_()
        (payload,) = re.findall(r'src="data:video/mp4;base64,([^"]+)"', data["text/html"])
        (tmp_path / name).write_bytes(base64.b64decode(payload))
        return tmp_path / name, re.search(r"<video[^>]*>", data["text/html"]).group(0)

    path, tag = fallback_mp4("sound.mp4")
    seconds = studio.player.num_frames / studio.player.fps
    assert abs(len(read_audio(path, 16_000)) / 16_000 - seconds) < 0.1 and " muted" not in tag
    studio.mute.value = True
    try:
        assert " muted" in fallback_mp4("muted.mp4")[1]
    finally:
        studio.mute.value = False


@pytest.fixture(scope="module")
def thrown():
    from sorakit import world

    return world.sample(seed=3, scenario="throw")


def test_probe_panel_runs_chosen_probes(thrown):
    panel = ui.ProbePanel()
    assert panel.run() is None and "no clip yet" in panel.verdicts.value
    panel.set_clip(thrown.video, thrown.caption, fps=8)
    for name, box in panel.checks.items():
        box.value = name in ("tracking", "gravity", "persistence")
    report = panel.run()
    assert list(report.results) == ["tracking", "gravity", "persistence"]
    assert report.verdicts.get("persistence") is True  # a ground-truth world clip keeps its ball
    assert "persistence" in panel.verdicts.value and "PASS" in panel.verdicts.value
    assert panel.plot.value[:4] == b"\x89PNG"
    for box in panel.checks.values():
        box.value = False
    assert panel.run() is None and "choose at least one probe" in panel.verdicts.value


def test_click_a_ball_tracks_it(thrown):
    from sorakit import world

    player = ui.Player(thrown.video)
    panel = ui.ProbePanel(player)
    panel.set_clip(thrown.video, thrown.caption)
    cam = world.Camera(*thrown.video.shape[1:3])
    truth = cam.to_pixels(thrown.states.pos[:, 0])[:, ::-1]  # (F, 2) (row, col) of the first ball
    f = 2
    player._handle_custom_msg({"event": "click", "frame": f, "y": int(truth[f, 0]), "x": int(truth[f, 1])}, [])
    pt = panel.point_track
    assert pt is not None and pt.present[f]
    ok = pt.present & thrown.states.visible[:, 0]
    assert ok.sum() >= len(ok) // 2
    assert np.median(np.linalg.norm(pt.pixel[ok] - truth[ok], axis=-1)) < 2.0  # pixels
    assert sum(p is not None for p in player.points) == int(pt.present.sum())
    assert "tracked the point" in panel.track_status.value


def test_a_click_in_the_same_patch_reuses_the_recorded_row(tiny_pipe, studio, monkeypatch):
    studio.tabs.selected_index = 0
    studio.attention.query(5, 10, 20)
    calls = []
    monkeypatch.setattr("sorakit.ui.attention_explorer.run_recipe", lambda *a, **k: calls.append(1))
    heat = studio.attention.query(5, 11, 21)  # same 4x4 patch: no new sampling
    assert calls == [] and heat.shape == (16, 32, 32)
