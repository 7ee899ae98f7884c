"""The Studio's Storyboard tab and Remix panel, and the player's timeline marks: state and wiring
(the browser side is in test_story_browser.py)."""
from __future__ import annotations

import numpy as np
import pytest

from sorakit import media, ui
from sorakit.safety import Moderation
from sorakit.ui.studio import TABS

STEPS = 1  # plumbing, not quality


@pytest.fixture(scope="module")
def studio(tiny_pipe):
    studio = ui.Studio(tiny_pipe, "a red ball is thrown to the right", seed=1, steps=STEPS, seeds=2, moderation=False)
    assert studio.generate() is not None
    return studio


def test_player_markers_are_checked_cleared_and_clickable():
    player = ui.Player(np.zeros((10, 8, 8, 3), np.float32))
    player.show_markers([0, 6], ["shot 1", "shot 2"])
    assert player.markers == [{"frame": 0, "label": "shot 1"}, {"frame": 6, "label": "shot 2"}]
    with pytest.raises(ValueError, match="from 0 to 9"):
        player.show_markers([0, 10])
    with pytest.raises(ValueError, match="one label per frame"):
        player.show_markers([0, 6], ["only one"])
    clicked = []
    player.on_marker(clicked.append)
    player._handle_custom_msg({"event": "marker", "index": 1}, [])
    player._handle_custom_msg({"event": "marker", "index": 2}, [])  # stale: no such mark
    assert clicked == [1]
    player.show_video(np.zeros((4, 8, 8, 3), np.float32))
    assert player.markers == []  # a new clip has no marks of the old one


def test_shot_list_add_remove_move_edit(tiny_pipe):
    player = ui.Player()
    tab = ui.storyboard_tab.StoryboardTab(tiny_pipe, player, show=lambda g: None, current=lambda: None,
                                          prompts=["a red ball rolls"], moderation=False)
    assert tab.add_shot("a blue ball falls", "cut") and tab.add_shot("the ball stops")
    assert [s.prompt for s in tab.board.shots] == ["a red ball rolls", "a blue ball falls", "the ball stops"]
    assert len(tab.rows.children) == 3 and tab.new_prompt.value == ""
    assert tab.move_shot(2, 0) and tab.board.shots[0].prompt == "the ball stops"
    assert not tab.move_shot(0, -1)  # the first shot cannot move up
    # The row's widgets edit the board: prompt and transition.
    row = tab.rows.children[1]
    row.children[2].value = "a red ball bounces"
    row.children[1].value = "cut"
    assert tab.board.shots[1].prompt == "a red ball bounces" and tab.board.shots[1].transition == "cut"
    assert tab.remove_shot(0) and len(tab.board) == 2 and len(tab.rows.children) == 2
    assert not tab.add_shot("   ") and "prompt must be non-empty" in tab.error
    assert not tab.add_shot("a ball", "dissolve") and "'continue', 'cut'" in tab.error
    assert len(tab.board) == 2


def test_generate_all_shows_the_film_with_shot_marks(studio, tiny_pipe):
    tab = studio.storyboard
    assert studio.tabs.get_title(TABS.index("Storyboard")) == "Storyboard"
    tab.add_shot("a red ball bounces", "cut")
    tab.steps.value = STEPS
    film = tab.generate()
    assert film is not None, tab.error
    assert tab.progress.value == tab.progress.max == 2 and tab.progress.bar_style == "success"
    window = tiny_pipe.config.num_frames
    assert film.starts == (0, window) and len(film.video) == 2 * window
    assert studio.player.num_frames == len(film.video) and studio.player.is_showing(film.video)
    assert [m["frame"] for m in studio.player.markers] == [0, window]
    assert "(cut)" in studio.player.markers[1]["label"]
    assert studio.video is film.video and studio.generation.recipe.parents == tuple(r.id for r in film.recipes)
    assert studio.probes.video is not None and len(studio.probes.video) == len(film.video)

    # A click on the second mark picks shot 2: Remix acts on it and records it as the parent.
    studio.player._handle_custom_msg({"event": "marker", "index": 1}, [])
    assert tab.selected == 1 and studio.player.frame == window
    assert "shot 2" in tab.remix.target.value
    tab.steps.value = 2  # one step at strength 0.5 would run none of the schedule
    remixed = tab.remix.remix(strength=0.5)
    assert remixed is not None, tab.remix.error
    assert remixed.recipe.parents == (film.recipes[1].id,) and remixed.recipe.strength == 0.5
    assert studio.player.is_showing(remixed.video) and studio.player.markers == [] and tab.selected is None
    assert np.abs(remixed.video - film.shot_videos[1]).mean() > 0  # remade, not copied
    # The attention explorer keeps the clip it can sample again; a click on a remix says so.
    studio.tabs.selected_index = TABS.index("Attention")
    studio.player._handle_custom_msg({"event": "click", "frame": 1, "y": 4, "x": 4}, [])
    assert "made from a prompt" in studio.attention.status.value


def test_remix_and_extend_the_current_clip(studio, tmp_path):
    tab = studio.storyboard
    tab.select_shot(None)
    source = studio.generation
    assert "current clip" in tab.remix.target.value
    kept = tab.remix.remix(strength=0.0)  # strength 0 returns the clip itself
    np.testing.assert_array_equal(kept.video, source.video)
    assert kept.recipe.lineage == f"remix of {source.recipe.id} at strength 0"
    longer = tab.remix.extend(add=3)
    assert longer is not None, tab.remix.error
    assert len(longer.video) == len(source.video) + 3 and longer.recipe.derivation == "extension"
    np.testing.assert_array_equal(longer.video[:len(source.video)], source.video)  # its own frames kept
    path = studio.export(tmp_path / "extended.mp4")  # exports carry the lineage
    assert media.read_metadata(path).parents == (kept.recipe.id,)
    tab.remix.strength.value = 1.0
    tab.remix.prompt.value = ""
    assert tab.remix.extend(add=10_000) is None and "frames" in tab.remix.error


def test_moderation_reads_every_shot_and_the_remix_prompt(tiny_pipe):
    player = ui.Player()
    clip = ui.Generation(ui.Recipe("a red ball"), np.zeros((4, 32, 32, 3), np.float32), 8.0)
    tab = ui.storyboard_tab.StoryboardTab(tiny_pipe, player, show=lambda g: None, current=lambda: clip,
                                          prompts=["a red ball rolls", "n.a.k.e.d people"], steps=STEPS,
                                          moderation=Moderation(output_checks=False))
    assert tab.generate() is None and "sexual" in tab.error and tab.film is None
    tab.remix.prompt.value = "n.a.k.e.d people"
    assert tab.remix.remix() is None and "sexual" in tab.remix.error


def test_an_empty_storyboard_says_so(tiny_pipe):
    tab = ui.storyboard_tab.StoryboardTab(tiny_pipe, ui.Player(), show=lambda g: None, current=lambda: None,
                                          moderation=False)
    assert tab.generate() is None and "empty" in tab.error
    assert tab.remix.remix() is None and "no clip yet" in tab.remix.error
