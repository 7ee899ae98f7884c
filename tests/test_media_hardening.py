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
def clip():
    video = np.full((8, 32, 32, 3), 0.5, np.float32)
    for t in range(8):
        video[t, 4:12, 2 + t:10 + t] = (1.0, 0.0, 0.0)
    return video


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
