"""media under careless and hostile use: exports that cannot lose a clip, reads that are bounded."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from sorakit import media
from sorakit.recipe import Recipe


@pytest.fixture
def clip(square_clip):
    return square_clip(8)


# --- export ---------------------------------------------------------------------------------------
_SLOW_EXPORT = """
import sys
import numpy as np
from sorakit import media
video = np.random.default_rng(1).integers(0, 256, (120, 64, 64, 3), dtype=np.uint8)
media.export(video, sys.argv[1], fps=8, scale=8)  # 512x512 noise: seconds of libx264
"""


def test_a_kill_during_export_leaves_the_previous_clip_whole(tmp_path, clip):
    path = media.export(clip, tmp_path / "clip.mp4", recipe=Recipe("a red ball", seed=3))
    before = path.read_bytes()
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_EXPORT, str(path)],
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    try:
        deadline = time.monotonic() + 120
        while not list(tmp_path.glob(".clip.*.tmp.mp4")):  # the export is writing its temporary file
            assert proc.poll() is None, "the export finished before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        time.sleep(0.3)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert path.read_bytes() == before
    video, recipe = media.read_clip(path)
    assert recipe.prompt == "a red ball" and recipe.seed == 3 and video.shape == clip.shape


def test_a_failed_export_leaves_no_temporary_file_and_the_old_clip(tmp_path, clip, monkeypatch):
    path = media.export(clip, tmp_path / "clip.mp4", fps=8)
    before = path.read_bytes()

    def broken(frames, tmp, fps, comment):
        tmp.write_bytes(b"half a clip")
        raise OSError("disk full")

    monkeypatch.setattr(media, "_write_mp4", broken)
    with pytest.raises(OSError, match="disk full"):
        media.export(clip, path, fps=8)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "clip.mp4.json"]


@pytest.mark.parametrize("suffix", [".mp4", ".gif"])
def test_re_export_without_a_recipe_removes_the_old_sidecar(tmp_path, clip, suffix):
    path = media.export(clip, tmp_path / f"clip{suffix}", recipe=Recipe("a red ball", seed=3))
    assert media._sidecar(path).is_file()
    one_frame = np.zeros((1, 48, 40, 3), np.float32)  # outside the generation limits: no recipe at all
    media.export(one_frame, path, fps=8, scale=1)
    assert not media._sidecar(path).exists()
    video, recipe = media.read_clip(path)
    assert recipe is None and video.shape == (1, 48, 40, 3)


def test_re_export_rewrites_the_sidecar_with_the_new_recipe(tmp_path, clip):
    path = media.export(clip, tmp_path / "clip.mp4", recipe=Recipe("a red ball", seed=3))
    media.export(clip[:4], path, recipe=Recipe("a blue ball", seed=5))
    sidecar = Recipe.from_dict(json.loads(media._sidecar(path).read_text()))
    assert (sidecar.prompt, sidecar.seed, sidecar.frames) == ("a blue ball", 5, 4)
    assert media.read_metadata(path) == sidecar


# --- reading ----------------------------------------------------------------------------------------
def _ffmpeg(*args):
    import imageio_ffmpeg

    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", *map(str, args)], check=True)


def _testsrc(path, size, frames, rate=30):
    _ffmpeg("-f", "lavfi", "-i", f"testsrc=size={size}:rate={rate}", "-frames:v", frames, "-c:v", "libx264",
            "-preset", "ultrafast", "-pix_fmt", "yuv420p", path)
    return path


def test_a_truncated_mp4_is_refused_as_truncated(tmp_path, clip):
    whole = media.export(np.tile(clip, (2, 1, 1, 1)), tmp_path / "whole.mp4", recipe=Recipe("a red ball"))
    data = whole.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) * 6 // 10])
    with pytest.raises(ValueError, match="cut.mp4 is truncated"):
        media.read_clip(cut)
    cut.write_bytes(data[:-10])  # even the last few bytes
    with pytest.raises(ValueError, match="truncated"):
        media.read_video(cut)


def test_a_clip_with_fewer_frames_than_its_recipe_is_refused(tmp_path, clip):
    path = media.export(clip, tmp_path / "clip.gif", recipe=Recipe("a red ball"))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2] + b"\x3b")  # cut mid-way, then the gif trailer
    with pytest.raises(ValueError, match="(truncated|could not be decoded)"):
        media.read_clip(path)


@pytest.mark.parametrize("content, message", [
    (b"", "empty"), (b"hello, I am text\n", "not a video ffmpeg can read"),
], ids=["zero-bytes", "text"])
def test_files_that_are_not_videos_get_one_clear_error(tmp_path, content, message):
    path = tmp_path / "clip.mp4"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message):
        media.read_clip(path)


def test_an_audio_only_mp4_says_it_has_no_video(tmp_path):
    path = tmp_path / "audio.mp4"
    _ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=0.3", "-c:a", "aac", path)
    with pytest.raises(ValueError, match="no video stream"):
        media.read_clip(path)


def test_a_long_video_is_refused_at_the_frame_limit(tmp_path):
    from sorakit.limits import LIMITS

    path = _testsrc(tmp_path / "long.mp4", "64x48", LIMITS.frames[1] + 20)
    with pytest.raises(ValueError, match=f"more than {LIMITS.frames[1]} frames"):
        media.read_video(path)
    assert media.read_video(_testsrc(tmp_path / "ok.mp4", "64x48", LIMITS.frames[1])).shape[0] == LIMITS.frames[1]


def test_large_frames_are_downscaled_and_huge_ones_refused_from_the_header(tmp_path):
    from sorakit.limits import LIMITS

    video = media.read_video(_testsrc(tmp_path / "big.mp4", "1280x720", 2))
    assert video.shape == (2, 288, 512, 3) and LIMITS.side[1] == 512
    with pytest.raises(ValueError, match=f"at most {LIMITS.image_side[1]} px a side"):
        media.read_video(_testsrc(tmp_path / "wide.mp4", f"{LIMITS.image_side[1] + 64}x16", 1))


def test_a_gif_bomb_is_refused_before_it_is_decoded(tmp_path):
    from PIL import Image

    path = tmp_path / "bomb.gif"
    Image.new("P", (6000, 6000)).save(path)  # a few KB on disk, 108 MB as RGB
    assert path.stat().st_size < 100_000
    with pytest.raises(ValueError, match="px a side"):
        media.read_clip(path)


def test_many_frames_of_a_big_clip_are_read_within_the_pixel_budget(tmp_path, monkeypatch):
    import dataclasses

    from sorakit import media_read
    from sorakit.limits import LIMITS

    budget = 20 * 64 * 64  # a small budget, so that a small file exceeds it
    monkeypatch.setattr(media_read, "LIMITS", dataclasses.replace(LIMITS, read_pixels=budget))
    path = _testsrc(tmp_path / "many.mp4", "128x128", 20, rate=8)
    video = media.read_video(path)
    assert video.shape[0] == 20 and 60 <= video.shape[1] == video.shape[2] <= 64
    with pytest.raises(ValueError, match=f"at most {budget}"):
        media.read_video(path, size=(128, 128))  # an exact size asked for is refused, not shrunk
    with pytest.raises(ValueError, match="size must be"):
        media.read_video(path, size=(30000, 30000))


def _peak_bytes(fn) -> int:
    import tracemalloc

    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_tracking_and_probing_memory_grows_with_the_clip_not_faster():
    """Measured at two clip lengths: what each extra frame costs, against the frame's own size."""
    from sorakit import probes, world

    short, long = (world.sample(0, height=64, width=64, num_frames=f, scenario="collide").video for f in (72, 128))
    grown = long.nbytes - short.nbytes
    track_growth = _peak_bytes(lambda: world.track(long)) - _peak_bytes(lambda: world.track(short))
    # Before, every colour's coverage and its (F, H, W, colours) temporaries were whole-clip: ~10x the clip.
    assert track_growth < 0.25 * grown, track_growth / grown
    assert _peak_bytes(lambda: world.track(long)) < 64 * 2**20
    run = lambda v: lambda: probes.run(v, probes=["tracking", "temporal", "gravity"])  # noqa: E731
    probe_growth = _peak_bytes(run(long)) - _peak_bytes(run(short))
    assert probe_growth < 1.6 * grown, probe_growth / grown  # the probes' own copy of the clip, and little else
