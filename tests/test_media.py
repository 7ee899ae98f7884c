"""media: export/read round trips, codec, provenance metadata, inline HTML, input validation."""

import base64
import dataclasses
import json
import re
import subprocess

import imageio_ffmpeg
import numpy as np
import pytest

from sorakit import media
from sorakit.recipe import Recipe


@pytest.fixture
def clip(square_clip):
    return square_clip(10)


def _ffmpeg_header(path):
    proc = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)],
                          capture_output=True, text=True)
    return proc.stderr  # ffmpeg prints the stream info on stderr (and exits 1: no output given)


def test_mp4_is_h264_yuv420p_upscaled_crisp(tmp_path, clip):
    # The codec's fidelity alone: the visible mark, drawn on purpose, is measured in test_provenance.py.
    path = media.export(clip, tmp_path / "clip.mp4", fps=8, watermark=False)
    header = _ffmpeg_header(path)
    video_line = next(line for line in header.splitlines() if "Video:" in line)
    assert "h264" in video_line and "yuv420p" in video_line, video_line
    assert re.search(r"\b256x256\b", video_line), video_line  # 32 px -> 8x nearest neighbour

    back = media.read_video(path)
    assert back.shape == (10, 256, 256, 3) and back.dtype == np.float32
    native = media.read_video(path, size=(32, 32))
    assert native.shape == clip.shape
    assert np.abs(native - clip).mean() < 0.01
    assert np.abs(native - clip).max() < 0.1


def test_gif_round_trip(tmp_path, clip):
    path = media.export(clip, tmp_path / "clip.gif", fps=8, scale=2, watermark=False)  # the palette's fidelity
    back = media.read_video(path)
    assert back.shape == (10, 64, 64, 3)
    assert np.abs(media.read_video(path, size=(32, 32)) - clip).max() < 0.02


def test_uint8_input_and_odd_sizes_are_padded_even(tmp_path):
    video = np.random.default_rng(0).integers(0, 256, (3, 15, 17, 3), dtype=np.uint8)
    path = media.export(video, tmp_path / "odd.mp4", scale=1)
    assert media.read_video(path).shape == (3, 16, 18, 3)


@pytest.mark.parametrize("suffix", [".mp4", ".gif"])
def test_recipe_round_trip_in_file_and_sidecar(tmp_path, clip, suffix):
    recipe = Recipe('a red ball; "bounces" = twice # \\ ok\nnew line', seed=np.int64(7), steps=20,
                    model_hash="abc123", extra={"attention_word": "red"})
    path = media.export(clip, tmp_path / f"clip{suffix}", recipe=recipe)
    expected = dataclasses.replace(recipe, fps=8.0).with_video(clip)  # export adds sizes, fps and the frame hash
    assert (expected.frames, expected.height, expected.width, expected.seed) == (10, 32, 32, 7)

    sidecar = tmp_path / f"clip{suffix}.json"
    assert json.loads(sidecar.read_text()) == expected.to_dict()
    back = media.read_metadata(path)
    assert back == expected and back.id == expected.id and back.created == recipe.created
    assert back["attention_word"] == "red" and back["seed"] == 7  # read by name, as the old dict was

    sidecar.unlink()  # now only the copy inside the file remains
    assert media.read_metadata(path) == expected


def test_a_dict_of_fields_is_still_accepted_as_metadata(tmp_path, clip):
    path = media.export(clip, tmp_path / "clip.mp4", fps=8, metadata={"prompt": "a ball", "guidance_scale": 2.0})
    back = media.read_metadata(path)
    assert back.prompt == "a ball" and back.guidance == 2.0 and back.seed is None  # absent = unknown


def test_every_export_says_its_size_and_a_foreign_file_has_no_recipe(tmp_path, clip):
    path = media.export(clip, tmp_path / "plain.mp4")
    bare = media.read_metadata(path)
    assert (bare.prompt, bare.seed, bare.height, bare.width, bare.fps) == ("", None, 32, 32, 8.0)
    video, recipe = media.read_clip(path)
    assert video.shape == clip.shape and recipe == bare
    path.with_name("plain.mp4.json").unlink()
    foreign = media.export(clip, tmp_path / "foreign.mp4")
    foreign.with_name("foreign.mp4.json").unlink()
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(path), "-c", "copy",
                    "-map_metadata", "-1", "-y", str(foreign)], check=True)
    assert media.read_metadata(foreign) is None
    assert media.read_clip(foreign)[0].shape == (10, 256, 256, 3)  # no recipe: read at the stored size
    (tmp_path / "foreign.mp4.json").write_text(json.dumps({"seed": 1}))
    assert media.read_metadata(foreign).seed == 1


def test_show_embeds_base64_h264_video(clip):
    html = media.show(clip, fps=8).data
    assert "<video" in html and "autoplay" in html and "loop" in html and "muted" in html
    assert "playsinline" in html and "controls" in html
    data = re.search(r'src="data:video/mp4;base64,([A-Za-z0-9+/=]+)"', html).group(1)
    assert base64.b64decode(data)[4:8] == b"ftyp"  # an mp4 container
    assert 'width="400"' in media.show(clip, width=400).data


def test_to_uint8():
    video = np.zeros((1, 2, 2, 3), np.float32)
    video[0, 0, 0] = 1.0
    out = media.to_uint8(video)
    assert out.dtype == np.uint8 and out[0, 0, 0, 0] == 255 and out[0, 1, 1, 0] == 0


@pytest.mark.parametrize("bad", [
    np.zeros((8, 8, 3), np.float32),           # no frame axis
    np.zeros((0, 8, 8, 3), np.float32),        # no frames
    np.zeros((2, 8, 8, 4), np.float32),        # RGBA
    np.full((2, 8, 8, 3), 2.0, np.float32),    # out of [0, 1]
    np.full((2, 8, 8, 3), np.nan, np.float32),
    np.zeros((2, 8, 8, 3), np.int64),          # ints other than uint8 are ambiguous
], ids=["3d", "empty", "rgba", "range", "nan", "int64"])
def test_bad_videos_raise_clear_value_error(tmp_path, bad):
    with pytest.raises(ValueError, match=r"\(F, H, W, 3\)"):
        media.export(bad, tmp_path / "bad.mp4")
    with pytest.raises(ValueError):
        media.show(bad)


def test_bad_paths_and_options_raise_value_error(tmp_path, clip):
    with pytest.raises(ValueError, match="mp4 or .gif"):
        media.export(clip, tmp_path / "clip.avi")
    with pytest.raises(ValueError, match="fps"):
        media.export(clip, tmp_path / "clip.mp4", fps=0)
    with pytest.raises(ValueError, match="scale"):
        media.export(clip, tmp_path / "clip.mp4", scale=0)
    with pytest.raises(ValueError, match="no such video"):
        media.read_video(tmp_path / "missing.mp4")
