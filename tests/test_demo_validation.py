"""The demo's input rules, output folder and result cache, without a server."""
from __future__ import annotations

import os
import time

import numpy as np
import pytest
from PIL import Image

from sorakit.demo.endpoints import OutputDir, ResultCache
from sorakit.demo.validation import Checks, Limits, float_error, int_error, load_first_frame, word_error


@pytest.fixture(scope="module")
def checks(tiny_pipe):
    return Checks(tiny_pipe)


def _png(path, w, h, colour=(200, 30, 30)):
    Image.new("RGB", (w, h), colour).save(path)
    return str(path)


def test_a_good_recipe_passes(checks, tmp_path):
    errors = checks.recipe("a red ball bounces", "", 7, 20, 4.0, 16, _png(tmp_path / "f.png", 40, 36))
    assert errors == [None] * 7


@pytest.mark.parametrize("fields, index, words", [
    (("", "", 0, 20, 4.0, 16, None), 0, "empty"),
    (("a" * 1001, "", 0, 20, 4.0, 16, None), 0, "at most 1000"),
    ((" ".join(["ball"] * 40), "", 0, 20, 4.0, 16, None), 0, "at most 32"),
    (("a ball", " ".join(["ball"] * 40), 0, 20, 4.0, 16, None), 1, "negative prompt"),
    (("a ball", "", -1, 20, 4.0, 16, None), 2, "0 to 4294967295"),
    (("a ball", "", 2.5, 20, 4.0, 16, None), 2, "whole number"),
    (("a ball", "", 0, 0, 4.0, 16, None), 3, "1 to 50"),
    (("a ball", "", 0, "20", 4.0, 16, None), 3, "'20'"),
    (("a ball", "", 0, 20, float("nan"), 16, None), 4, "0 to 12"),
    (("a ball", "", 0, 20, 4.0, 33, None), 5, "2 to 32"),
    (("a ball", "", 0, 20, 4.0, 16, 3), 6, "uploaded image"),
])
def test_each_bad_field_is_named_with_what_is_allowed(checks, fields, index, words):
    errors = checks.recipe(*fields)
    assert [i for i, e in enumerate(errors) if e] == [index]
    assert words in errors[index]


def test_first_frame_is_resized_to_the_model_frame(tmp_path):
    img = np.zeros((48, 48, 3), np.uint8)
    img[:24] = (255, 0, 0)  # top half red, bottom half black
    Image.fromarray(img).save(tmp_path / "f.png")
    frame = load_first_frame(str(tmp_path / "f.png"), 32, 32)
    assert frame.shape == (32, 32, 3) and frame.dtype == np.float32
    assert np.allclose(frame[:16], [1, 0, 0]) and np.allclose(frame[16:], 0)


@pytest.mark.parametrize("make, words", [
    (lambda p: _png(p, 100, 40), "roughly square"),
    (lambda p: _png(p, 8, 8), "16 to 4096"),
    (lambda p: _png(p, 5000, 5000), "16 to 4096"),
    (lambda p: (p.write_text("not an image"), str(p))[1], "not a readable image"),
])
def test_wrong_images_are_refused(tmp_path, make, words):
    path = make(tmp_path / "bad.png")
    with pytest.raises(ValueError, match=words):
        load_first_frame(path, 32, 32)


def test_words_follow_the_attention_maps(checks):
    words = checks.words("A crimson ball, thrown leftward, bounces!")
    assert words == ["a", "crimson", "ball", "thrown", "leftward", "bounces"]  # sub-words merged
    assert word_error("Ball", words) is None
    assert "choose one of: a, crimson" in word_error("cube", words)
    assert "choose a word" in word_error("", words)


def test_number_rules_at_the_edges():
    assert int_error("steps", 50, (1, 50)) is None and int_error("steps", 51, (1, 50))
    assert int_error("steps", 3.0, (1, 50)) is None and int_error("steps", True, (1, 50))
    assert float_error("g", 12, (0, 12)) is None and float_error("g", float("inf"), (0, 12))
    assert Limits().frames[0] >= 2  # image-to-video needs a frame after the given one


def test_output_dir_names_files_itself_and_cleans_up():
    out = OutputDir(max_age=60)
    a, b = out.new("clip", ".mp4"), out.new("clip", ".mp4")
    assert a != b and a.parent == out.path and a.name.startswith("clip-") and a.suffix == ".mp4"
    a.write_bytes(b"x")
    old = out.path / "old.mp4"
    old.write_bytes(b"x")
    os.utime(old, (time.time() - 120, time.time() - 120))
    assert out.prune() == 1 and a.exists() and not old.exists()
    out.cleanup()
    assert not out.path.exists() and out.closed
    c = out.new("clip", ".mp4")  # usable again after close (relaunch)
    assert c.parent.is_dir() and c.parent != a.parent
    out.cleanup()


def test_recipe_cache_is_lru_and_merges_results():
    cache = ResultCache(size=2)
    keys = [f"settings-{s}" for s in range(3)]
    cache.put(keys[0], video=1)
    cache.put(keys[1], video=2)
    cache.get(keys[0])  # touch: keys[1] is now the oldest
    cache.put(keys[2], video=3)
    assert cache.get(keys[1]) == {} and cache.get(keys[0]) == {"video": 1}
    cache.put(keys[0], capture="c")
    assert cache.get(keys[0]) == {"video": 1, "capture": "c"}


def test_accepted_inputs_become_the_clips_recipe(checks, tmp_path):
    """The cache key is the recipe's settings id: a different first frame is a different clip."""
    recipe, first = checks.accept(" a red ball ", "", 7, 2, 1.0, 4, None)
    assert first is None and recipe.prompt == "a red ball" and (recipe.seed, recipe.frames) == (7, 4)
    assert (recipe.height, recipe.width, recipe.fps) == (32, 32, 8.0) and recipe.model_hash
    red, _ = checks.accept("a ball", "", 0, 2, 1.0, 4, _png(tmp_path / "red.png", 32, 32))
    blue, _ = checks.accept("a ball", "", 0, 2, 1.0, 4, _png(tmp_path / "blue.png", 32, 32, (30, 30, 200)))
    assert red.first_frame_sha256 and red.settings_id != blue.settings_id
