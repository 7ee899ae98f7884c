"""Player, word chips, codec and static fallbacks: traits, messages and what goes over the wire."""
from __future__ import annotations

import base64
import io

import numpy as np
import pytest
import traitlets
from ipywidgets.widgets.widget import _remove_buffers
from PIL import Image

from sorakit import ui
from sorakit.media import to_uint8
from sorakit.ui.codec import decode_strip, heat_strip, video_strip


@pytest.fixture
def video():
    rng = np.random.default_rng(0)
    return rng.random((6, 8, 12, 3), dtype=np.float32)


def test_video_strip_round_trips_exactly(video):
    data, shape = video_strip(video)
    assert shape == (6, 8, 12)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    np.testing.assert_array_equal(decode_strip(data, 6), to_uint8(video))


def test_heat_strip_quantizes_to_one_level():
    heat = np.linspace(0, 1, 6 * 4 * 5, dtype=np.float32).reshape(6, 4, 5)
    data, shape = heat_strip(heat)
    back = decode_strip(data, 6).astype(np.float32) / 255
    assert shape == (6, 4, 5) and back.shape == heat.shape
    assert np.abs(back - heat).max() <= 0.5 / 255 + 1e-6


@pytest.mark.parametrize("bad", [np.zeros((4, 4)), np.full((2, 4, 4), np.nan)])
def test_heat_strip_rejects_bad_heat(bad):
    with pytest.raises(ValueError, match="heat"):
        heat_strip(bad)


def test_show_video_sets_traits_and_clears_overlay(video):
    player = ui.Player(video, fps=4, label="hello")
    assert (player.num_frames, player.frame_height, player.frame_width) == (6, 8, 12)
    assert player.fps == 4 and player.label == "hello" and player.clip_id == 1
    player.show_heat(np.full((6, 2, 3), 0.5, np.float32), label="red")
    assert player.heat_frames == 6 and (player.heat_height, player.heat_width) == (2, 3)
    player.frame = 3
    player.show_video(video[:4])
    assert player.clip_id == 2 and player.num_frames == 4 and player.frame == 0
    assert player.heat_png == b"" and player.heat_frames == 0 and player.heat is None


def test_an_empty_player_keeps_its_fps_for_the_clips_it_is_given(video):
    player = ui.Player(fps=12)
    assert player.fps == 12
    player.show_video(video)
    assert player.fps == 12  # a clip without its own rate plays at the Player's


@pytest.mark.parametrize("bad", [0, -1, 0.5, 500, float("nan"), float("inf"), "8", True])
def test_player_rejects_a_bad_fps_with_or_without_a_clip(video, bad):
    with pytest.raises(ValueError, match="fps must be a number from 1 to 120"):
        ui.Player(fps=bad)
    with pytest.raises(ValueError, match="fps must be a number from 1 to 120"):
        ui.Player(video, fps=bad)


def test_clip_travels_as_a_binary_buffer(video):
    player = ui.Player(video)
    state, paths, buffers = _remove_buffers(player.get_state())
    assert ["video_png"] in paths
    assert bytes(buffers[paths.index(["video_png"])]) == player.video_png


def test_player_validates_input(video):
    player = ui.Player()
    with pytest.raises(ValueError, match="show a clip"):
        player.show_heat(np.zeros((6, 8, 12)))
    player.show_video(video)
    with pytest.raises(ValueError, match="heat has 5 frames but the clip has 6"):
        player.show_heat(np.zeros((5, 8, 12)))
    with pytest.raises(ValueError, match="expected a video"):
        player.show_video(np.zeros((6, 8, 12)))
    with pytest.raises(traitlets.TraitError, match="speed must be one of"):
        player.speed = 3.0
    with pytest.raises(traitlets.TraitError, match="opacity"):
        player.opacity = 1.5
    player.frame = 99
    assert player.frame == 5  # clamped to the clip
    with pytest.raises(ValueError, match="one entry per frame"):
        player.show_points([(1, 1)])


def test_click_messages_reach_handlers_in_clip_pixels(video):
    player = ui.Player(video)
    clicks = []
    player.on_click(lambda f, y, x: clicks.append((f, y, x)))
    player._handle_custom_msg({"event": "click", "frame": 2, "y": 7, "x": 11}, [])
    player._handle_custom_msg({"event": "click", "frame": 2, "y": 8, "x": 0}, [])  # outside: y < 8
    player._handle_custom_msg({"event": "pick", "index": 0}, [])                  # not a click
    assert clicks == [(2, 7, 11)]


def test_points_none_where_untracked(video):
    player = ui.Player(video)
    player.show_points([(1.0, 2.0), None, (np.nan, 1.0), (3, 4), None, (0, 0)])
    assert player.points == [[1.0, 2.0], None, None, [3.0, 4.0], None, [0.0, 0.0]]


def test_static_fallback_embeds_video_and_poster(video):
    data, _ = ui.Player(video, fps=8, label="a <red> ball")._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in data
    assert "<video" in data["text/html"] and "base64," in data["text/html"]
    assert "a &lt;red&gt; ball" in data["text/html"]
    poster = Image.open(io.BytesIO(base64.b64decode(data["image/png"])))
    assert poster.size == (6 * 12 * 16, 8 * 16)  # 6 frames side by side, 8 px upscaled 16x to 128 px
    empty, _ = ui.Player()._repr_mimebundle_()
    assert "text/html" not in empty and "image/png" not in empty


def test_poster_of_a_large_clip_is_reduced_not_enlarged():
    """A 480x832 clip (Wan's size) gives a 128-px strip, not a 4x-enlarged 1920-px one."""
    from sorakit.ui.fallback import poster

    video = np.zeros((9, 480, 832, 3), np.float32)
    video[:, 200:280, 100:180, 0] = 1.0
    strip = Image.open(io.BytesIO(poster(video)))
    assert strip.size == (round(8 * 832 * 128 / 480), 128)
    assert np.asarray(strip)[64, 37, 0] > 200  # the red square survives the reduction


def test_word_chips_only_select_their_words():
    chips = ui.WordChips(words=["a", "red", "ball"])
    chips.selected = "red"
    with pytest.raises(traitlets.TraitError, match="not one of the chips"):
        chips.selected = "blue"
    chips.selected = ""
    assert chips.selected == ""


def test_browser_modules_ship_with_the_package():
    for widget in (ui.Player(), ui.WordChips(), ui.seed_grid.GridView()):
        assert "export default" in widget._esm and "function h(" in widget._esm  # self-contained module
        assert "http://" not in widget._esm and "https://" not in widget._esm  # no CDN imports
        assert ".sorakit-player" in widget._css


def test_nbconvert_shows_the_fallback_when_widget_state_is_missing(video):
    """What nbviewer/GitHub-style renderers do with a saved output: no widget state -> the embedded video."""
    import nbformat
    from nbconvert import HTMLExporter

    data, _ = ui.Player(video, label="saved clip")._repr_mimebundle_()
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell("ui.Player(video)", outputs=[
        nbformat.v4.new_output("display_data", data=data)]))
    html, _ = HTMLExporter().from_notebook_node(nb)
    assert "<video" in html and "saved clip" in html
