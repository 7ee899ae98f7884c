"""Storyboards: shots joined with continue/cut transitions, one recipe per shot, and bad input refused."""
from __future__ import annotations

import numpy as np
import pytest

from sorakit import world
from sorakit.cut_frame import first_frame, shot_objects, with_sizes
from sorakit.recipe import Recipe, first_frame_digest
from sorakit.storyboard import Shot, Storyboard, storyboard

STEPS = 2
SHOTS = ["a red ball is thrown to the right", {"prompt": "the red ball bounces", "transition": "cut"},
         Shot("a red ball rolls to the left", seed=9, frames=6, transition="continue")]


@pytest.fixture(scope="module")
def film(tiny_pipe):
    return storyboard(tiny_pipe, SHOTS, seed=3, context=4, num_inference_steps=STEPS, progress=False)


def test_the_film_joins_the_shots_and_says_where_each_starts(tiny_pipe, film):
    window = tiny_pipe.config.num_frames
    assert [len(v) for v in film.shot_videos] == [window, window, 6]
    assert film.starts == (0, window, 2 * window) and film.boundaries == (window, 2 * window)
    assert film.video.shape == (2 * window + 6, 32, 32, 3)
    assert np.array_equal(film.video[window:2 * window], film.shot_videos[1])
    assert film.transitions == ("cut", "continue")


def test_a_continuing_shot_is_made_from_the_last_frames_of_the_one_before(tiny_pipe, film):
    cont = film.recipes[2]
    assert cont.first_frame_sha256 == first_frame_digest(film.shot_videos[1][-4:])
    assert cont.parents == (film.recipes[1].id,) and cont.extra["context_frames"] == 4
    assert cont.seed == 9  # its own seed; the others get the storyboard's seed + their index
    assert [r.seed for r in film.recipes[:2]] == [3, 4]


def test_each_shot_has_a_recipe_naming_its_storyboard_and_number(film):
    ids = [r.id for r in film.recipes]
    assert len(set(ids)) == 3
    assert all(r.storyboard == film.storyboard_id and r.shot == k for k, r in enumerate(film.recipes, 1))
    assert film.recipes[0].parents == () and film.recipes[0].lineage == f"shot 1 of storyboard {film.storyboard_id}"
    assert film.recipes[2].lineage == f"shot 3 of storyboard {film.storyboard_id}, after {ids[1]}"
    assert film.recipe.parents == tuple(ids) and film.recipe.shot is None and film.recipe.frames == len(film.video)
    for r in film.recipes:  # what a file stores reads back to the same recipe and id
        assert Recipe.from_dict(r.to_dict()) == r


def test_the_same_storyboard_gives_the_same_film_and_ids(tiny_pipe, film):
    again = Storyboard(list(SHOTS), seed=3).run(tiny_pipe, context=4, num_inference_steps=STEPS, progress=False)
    assert np.array_equal(again.video, film.video) and again.recipe.id == film.recipe.id
    other = storyboard(tiny_pipe, SHOTS, seed=4, context=4, num_inference_steps=STEPS, progress=False)
    assert other.storyboard_id != film.storyboard_id


def test_a_storyboard_is_edited_in_place():
    board = Storyboard(["a red ball drops"])
    board.add("a blue ball rolls", transition="cut").insert(0, "a red ball is thrown", seed=5)
    board.move(2, 1)
    board.edit(1, transition="continue")
    assert [s.prompt for s in board] == ["a red ball is thrown", "a blue ball rolls", "a red ball drops"]
    assert board[1].transition == "continue" and board[0].seed == 5
    board.remove(0)
    assert len(board) == 2 and "a blue ball rolls" in board._repr_html_()
    with pytest.raises(ValueError, match="transition must be one of 'continue', 'cut'"):
        board.edit(0, transition="dissolve")


@pytest.mark.parametrize("shots, kwargs, message", [
    ([], {}, "holds 1 to 16 shots; got 0"),
    (["a red ball"] * 17, {}, "holds 1 to 16 shots; got 17"),
    ("a red ball", {}, "shots must be a list of shots"),
    (["a red ball", {"prompt": "x", "transition": "fade"}], {}, "shot 2: transition must be one of 'continue', 'cut'"),
    (["a red ball", {"prompt": "x", "speed": 3}], {}, "shot 2 must be a prompt"),
    ([""], {}, "shot 1: prompt must be non-empty"),
    ([42], {}, "shot 1 must be a prompt"),
    ([Shot("a", seed=-1)], {}, "shot 1: seed must be None or a whole number from 0"),
    ([Shot("a", frames=200)], {}, "frames must be None or a whole number from 1 to 128"),
    ([Shot("a", frames=1)], {}, "starts fresh needs at least 2 frames"),
    ([Shot("a", frames=100), Shot("b", frames=40)], {}, r"the film would be 140 frames \(100 \+ 40\); at most 128"),
    (["a", "b"], {"context": 16}, "context must be a whole number of frames from 1 to 15"),
    (["a"], {"num_inference_steps": 0}, "num_inference_steps"),
])
def test_bad_storyboards_are_refused_naming_what_is_allowed(tiny_pipe, shots, kwargs, message):
    with pytest.raises(ValueError, match=message):
        storyboard(tiny_pipe, shots, progress=False, **kwargs)


def test_a_cut_starts_from_a_frame_holding_the_established_objects():
    draft = world.sample(11, scenario="drop", color="red", size="small", audio=False).video
    small = shot_objects(draft)["red"]
    frame = first_frame(draft, {"red": 2 * small, "blue": 0.5})
    drawn, seen = world.track(frame[None])["red"], world.track(draft[:1])["red"]
    assert drawn.radius[0] == pytest.approx(2 * small, rel=0.1)  # the established size, not the draft's
    assert abs(drawn.pos[0][0] - seen.pos[0][0]) < 0.2  # where the draft put it
    assert "blue" not in world.track(frame[None])  # an object the draft does not show is not invented
    assert first_frame(draft, {"green": 1.0}) is None  # nothing established in view: the draft stands


def test_a_cut_is_conditioned_on_that_frame(tiny_pipe, monkeypatch):
    """With the established object in the draft, the cut is made from the redrawn first frame."""
    import sorakit.storyboard as sb

    red = world.sample(11, scenario="drop", color="red", size="small", audio=False).video
    calls = []
    real = sb._fresh

    def fresh(pipe, prompt, frames, seed, call):
        calls.append(prompt)
        return red[:frames] if "red" in prompt else real(pipe, prompt, frames, seed, call)

    monkeypatch.setattr(sb, "_fresh", fresh)
    film = storyboard(tiny_pipe, ["a big red ball", Shot("a red ball drops", transition="cut")],
                      num_inference_steps=STEPS, progress=False)
    start = first_frame(red, shot_objects(red))
    assert film.recipes[1].first_frame_sha256 == first_frame_digest(start[None])
    assert np.array_equal(film.shot_videos[1][0], start) and film.recipes[1].parents == (film.recipes[0].id,)
    assert "red r=" in film.recipes[1].extra["cut_objects"]
    assert film.recipes[1].prompt == "a small red ball drops"  # the established size named, as it was run
    assert film.prompts[1] == "a red ball drops"  # the shot as written (continuity judges against it)


def test_a_cut_names_the_established_sizes_where_its_prompt_does_not():
    sizes = {"red": 1.1, "blue": 0.62}
    assert with_sizes("the red ball bounces, then a big blue one", sizes) == \
        "the large red ball bounces, then a big blue one"
    assert with_sizes("a tiny blue ball and a red, rolling", sizes) == "a tiny blue ball and a large red, rolling"
    assert with_sizes("a green ball", sizes) == "a green ball"
