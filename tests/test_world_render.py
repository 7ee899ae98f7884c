"""world rendering, captions, tracking and the clip stream: what the model sees matches the ground truth."""
import dataclasses
import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy import ndimage
from torch.utils.data import DataLoader

import sorakit
from sorakit import world
from sorakit.world import COLORS, SCENARIOS, Camera, WorldClips, sample_scene, simulate
from sorakit.world.captions import caption
from sorakit.world.render import BACKGROUND, FLOOR, HOOP, _static_layer

SEEDS = range(36)  # six of each scenario on average; every scenario is also forced below


def _digest(clip) -> str:
    return hashlib.sha256(clip.video.tobytes() + clip.caption.encode()).hexdigest()


# --- determinism ------------------------------------------------------------------------------

def test_same_seed_same_clip_bit_for_bit():
    for seed in (0, 3, 17):
        a, b = world.sample(seed), world.sample(seed)
        assert a.video.tobytes() == b.video.tobytes()
        assert a.caption == b.caption
        np.testing.assert_array_equal(a.masks, b.masks)
        np.testing.assert_array_equal(a.states.pos, b.states.pos)
        np.testing.assert_array_equal(a.states.vel, b.states.vel)
        assert a.events == b.events


def test_same_seed_same_clip_in_a_fresh_process():
    code = ("import hashlib; from sorakit import world; c = world.sample(5, height=48, width=48); "
            "print(hashlib.sha256(c.video.tobytes() + c.caption.encode()).hexdigest())")
    root = str(Path(sorakit.__file__).resolve().parents[1])  # import this sorakit, installed or not
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=env).stdout.strip()
    assert out == _digest(world.sample(5, height=48, width=48))


def test_other_seeds_give_other_clips():
    digests = {_digest(world.sample(s)) for s in range(12)}
    assert len(digests) == 12
    captions = {world.sample(s, scenario="throw").caption for s in range(12)}
    assert len(captions) >= 8


# --- shape, dtype, range ----------------------------------------------------------------------

@pytest.mark.parametrize("kw, shape", [
    ({}, (16, 32, 32)),
    ({"height": 48, "width": 48}, (16, 48, 48)),
    ({"height": 64, "width": 64, "num_frames": 24}, (24, 64, 64)),
    ({"height": 32, "width": 48, "num_frames": 8, "fps": 4.0}, (8, 32, 48)),
])
def test_shape_dtype_range(kw, shape):
    for seed in range(4):
        clip = world.sample(seed, **kw)
        n = len(clip.scene.balls)
        assert clip.video.shape == shape + (3,)
        assert clip.video.dtype == np.float32
        assert clip.video.min() >= 0.0 and clip.video.max() <= 1.0
        assert clip.masks.shape == (shape[0], n) + shape[1:] and clip.masks.dtype == bool
        assert clip.states.pos.shape == clip.states.vel.shape == (shape[0], n, 2)
        assert clip.states.visible.shape == (shape[0], n)
        np.testing.assert_allclose(clip.states.t, np.arange(shape[0]) / clip.fps)
        assert all(0 <= e.frame < shape[0] for e in clip.events)


# --- masks agree with the rendering -------------------------------------------------------------

@pytest.mark.parametrize("size", [32, 64])
def test_masks_agree_with_rendering(size):
    for seed in SEEDS:
        clip = world.sample(seed, height=size, width=size)
        scene, video, masks = clip.scene, clip.video, clip.masks
        under = [BACKGROUND, FLOOR, HOOP] + [np.asarray(b.rgb) for b in scene.balls]
        for i, ball in enumerate(scene.balls):
            rgb = np.asarray(ball.rgb, np.float32)
            m = masks[:, i]
            if not m.any():
                continue
            # a mask pixel is at least half this ball, the rest whatever is under it
            bound = 0.5 * max(np.abs(rgb - u).max() for u in under) + 1e-5
            assert np.abs(video[m] - rgb).max() <= bound
            # away from its edge a mask pixel is the ball's colour
            core = ndimage.binary_erosion(m, structure=np.ones((1, 3, 3), bool))
            if core.any():
                np.testing.assert_allclose(video[core], np.broadcast_to(rgb, video[core].shape), atol=1e-5)
        # pixels well away from every mask are the static scene (background, floor, hoop) exactly
        near = ndimage.binary_dilation(masks.any(1), structure=np.ones((1, 5, 5), bool))
        static = _static_layer(scene, Camera(size, size))
        far = ~near
        np.testing.assert_allclose(video[far], np.broadcast_to(static, video.shape)[far], atol=1e-6)
        for rgb in COLORS.values():
            assert (np.abs(video[far] - np.asarray(rgb)).max(-1) > 0.1).all()


def test_visible_matches_masks_and_occlusion_hides_the_ball_behind():
    for seed in SEEDS:
        clip = world.sample(seed)
        np.testing.assert_array_equal(clip.states.visible, clip.masks.any((2, 3)))
        assert not (clip.masks.sum(1) > 1).any()  # a pixel belongs to at most one ball


# --- captions state the scene's facts -----------------------------------------------------------

_IN = ("goes in", "through the hoop", "scores")
_COUNT = {1: "once", 2: "twice", 3: "three times"}
_SIZE_WORDS = {"small": ("small", "little", "tiny"), "large": ("large", "big", "huge")}


def _caption_cases():
    for scenario in SCENARIOS:
        for seed in range(40):
            yield scenario, seed


def test_captions_state_the_scenes_facts():
    for scenario, seed in _caption_cases():
        scene = sample_scene(seed, scenario=scenario)
        traj = simulate(scene)
        text = caption(scene, traj)
        words = set(re.findall(r"[a-z-]+", text))
        assert text == text.strip() and "  " not in text
        for ball in scene.balls:
            assert ball.color in words, (text, ball.color)
        if scenario in ("drop", "throw", "roll", "hoop"):
            ball = scene.balls[0]
            if ball.size in _SIZE_WORDS:
                assert words & set(_SIZE_WORDS[ball.size]), (text, ball.size)
        if scenario in ("throw", "roll", "hoop"):
            other = "left" if scene.direction == "right" else "right"
            assert scene.direction in text and other not in text, text
        if scenario == "hoop":
            if traj.outcome == "in":
                assert any(p in text for p in _IN) and "miss" not in text, text
            else:
                assert "miss" in text and not any(p in text for p in _IN), text
                assert ("rim" in text) == (traj.count("rim_hit", 0) > 0), text
        if scenario in ("drop", "throw"):
            n = traj.count("floor_bounce", 0)
            if n == 0:
                assert "bounc" not in text, text
            elif scene.bounciness == "dead" and n == 1:
                assert any(p in text for p in ("thud", "without bouncing", "lands dead")), text
            else:
                assert _COUNT.get(n, "several times") in text, (text, n)
                assert not any(w in text for k, w in _COUNT.items() if k != n), (text, n)
        if scenario in ("collide", "several") and traj.count("collision"):
            assert re.search(r"collide|hit|crash", text), text


def test_captions_name_the_material_in_about_half_of_the_scenes():
    """The material word is drawn on its own: with it or without it the caption's other words agree."""
    from sorakit.probes.adherence import parse
    named = 0
    for seed in range(60):
        scene = sample_scene(seed, scenario=("drop", "throw", "roll")[seed % 3])
        traj = simulate(scene)
        always, never, drawn = (caption(scene, traj, material=m) for m in (True, False, None))
        assert parse(always)["material"] == scene.bounciness, always
        assert "material" not in parse(never.replace("lands dead", "lands")), never  # that phrase names it too
        assert len(always.split()) == len(never.split()) + 1
        assert set(never.split()) <= set(always.split()), (always, never)
        assert drawn in (always, never)
        named += drawn == always
    assert 20 <= named <= 40, named
    scene = sample_scene(0, scenario="collide")  # no material set: nothing named even when asked
    assert caption(scene, simulate(scene), material=True) == caption(scene, simulate(scene), material=False)


def test_captions_are_varied():
    texts = [world.sample(s, scenario="drop", color="red", size="small", bounciness="bouncy").caption
             for s in range(40)]
    assert len(set(texts)) >= 10
    assert all("red" in t for t in texts)


def test_forced_facts_show_in_captions():
    for seed in range(10):
        clip = world.sample(seed, scenario="throw", color="cyan", direction="left")
        assert "cyan" in clip.caption and "left" in clip.caption
        clip = world.sample(seed, scenario="hoop", outcome="miss")
        assert "miss" in clip.caption


# --- track() ------------------------------------------------------------------------------------

def _clear_frames(clip, i, cam, margin_px=1.0):
    """(F,) bool: ball i fully inside the image and more than margin_px away from every other ball."""
    st = clip.states
    c = cam.to_pixels(st.pos[:, i])
    r = st.radius[i] * cam.scale
    ok = (c[:, 0] >= r) & (c[:, 0] + r <= cam.width) & (c[:, 1] >= r) & (c[:, 1] + r <= cam.height)
    for j in range(len(st.radius)):
        if j != i:
            ok &= np.linalg.norm(c - cam.to_pixels(st.pos[:, j]), axis=-1) > r + st.radius[j] * cam.scale + margin_px
    return ok


@pytest.mark.parametrize("size", [32, 48, 64])
def test_track_recovers_ground_truth_within_a_pixel(size):
    cam = Camera(size, size)
    checked = 0
    for seed in SEEDS:
        clip = world.sample(seed, height=size, width=size)
        tracks = world.track(clip.video)
        assert set(tracks) == set(clip.states.color)  # no ghosts of absent colours
        for i, color in enumerate(clip.states.color):
            tr = tracks[color]
            np.testing.assert_array_equal(tr.present, clip.states.visible[:, i])
            ok = _clear_frames(clip, i, cam)
            err = np.linalg.norm(cam.to_pixels(tr.pos[ok]) - cam.to_pixels(clip.states.pos[ok, i]), axis=-1)
            assert err.max() < 1.0, (seed, color, err.max())
            assert np.abs(tr.radius[ok] / clip.states.radius[i] - 1).max() < 0.1
            assert (tr.components[ok] == 1).all()
            checked += ok.sum()
    assert checked > 500


def test_track_tolerates_mild_noise():
    """Generated clips are noisy; faint noise must neither invent balls nor drag centroids."""
    rng = np.random.default_rng(0)
    cam = Camera(32, 32)
    errors = []
    for seed in range(12):
        clip = world.sample(seed)
        noisy = np.clip(clip.video + rng.normal(0, 0.02, clip.video.shape), 0, 1).astype(np.float32)
        tracks = world.track(noisy)
        assert set(tracks) == set(clip.states.color)
        for i, color in enumerate(clip.states.color):
            ok = _clear_frames(clip, i, cam)
            diff = cam.to_pixels(tracks[color].pos[ok]) - cam.to_pixels(clip.states.pos[ok, i])
            errors += list(np.linalg.norm(diff, axis=-1))
    assert np.median(errors) < 0.1 and np.max(errors) < 1.0


def test_track_one_colour_and_uint8():
    clip = world.sample(2, height=48, width=48)
    color = clip.states.color[0]
    a = world.track(clip.video, colors=[color])
    assert list(a) == [color]
    b = world.track((clip.video * 255).round().astype(np.uint8))
    ok = a[color].present
    assert np.nanmax(np.abs(a[color].pos[ok] - b[color].pos[ok])) < 0.05  # 8-bit rounding moves little


def test_track_on_a_clip_with_no_objects_is_empty():
    assert world.track(np.broadcast_to(BACKGROUND, (4, 32, 32, 3)).copy()) == {}
    assert world.track(np.zeros((3, 16, 16, 3), np.float32)) == {}
    assert world.track(np.ones((3, 16, 16, 3), np.float32)) == {}
    # the scenery alone: floor and hoop (their anti-aliased edges must not read as balls)
    for seed in range(6):
        for size in (32, 64):
            scene = sample_scene(seed, scenario="hoop")
            static = _static_layer(scene, Camera(size, size))
            assert world.track(np.repeat(static[None], 8, 0)) == {}
    # a rendered clip with its balls painted out
    clip = world.sample(0, height=48, width=48)
    video = clip.video.copy()
    video[ndimage.binary_dilation(clip.masks.any(1), structure=np.ones((1, 5, 5), bool))] = BACKGROUND
    assert world.track(video) == {}


# --- WorldClips ---------------------------------------------------------------------------------

def test_worldclips_yields_model_tensors():
    items = list(WorldClips(start_seed=10, limit=3))
    assert [it["seed"] for it in items] == [10, 11, 12]
    for it in items:
        video = it["video"]
        assert isinstance(video, torch.Tensor) and video.dtype == torch.float32
        assert video.shape == (3, 16, 32, 32)
        assert video.min() >= -1 and video.max() <= 1
        clip = world.sample(it["seed"])
        assert it["caption"] == clip.caption
        torch.testing.assert_close(video, torch.from_numpy(clip.video).permute(3, 0, 1, 2) * 2 - 1, rtol=0, atol=0)


def test_worldclips_options_and_determinism():
    ds = WorldClips(start_seed=3, height=48, width=48, num_frames=12, limit=2, scenario="hoop", outcome="in")
    a, b = list(ds), list(ds)
    assert [x["caption"] for x in a] == [x["caption"] for x in b]
    for x, y in zip(a, b):
        assert torch.equal(x["video"], y["video"])
        assert x["video"].shape == (3, 12, 48, 48)
        assert "hoop" in x["caption"]


def test_worldclips_split_across_workers():
    ds = WorldClips(start_seed=100, limit=9)
    loader = DataLoader(ds, batch_size=None, num_workers=2)
    seen = [(int(it["seed"]), it["caption"]) for it in loader]
    seeds = [s for s, _ in seen]
    assert sorted(seeds) == list(range(100, 109))  # every seed once: disjoint and complete
    single = {it["seed"]: it["caption"] for it in ds}
    assert all(single[s] == c for s, c in seen)  # a worker's clip is the same clip


# --- mirrored pairs (training's direction contrast) ------------------------------------------------

def _mirrored_scene(scene):
    balls = [dataclasses.replace(b, x=world.scene.WORLD_WIDTH - b.x, vx=-b.vx) for b in scene.balls]
    hoop = scene.hoop and dataclasses.replace(scene.hoop, x=world.scene.WORLD_WIDTH - scene.hoop.x)
    direction = scene.direction and {"left": "right", "right": "left"}[scene.direction]
    return dataclasses.replace(scene, balls=tuple(balls), hoop=hoop, direction=direction)


@pytest.mark.parametrize("scenario", ["throw", "roll", "hoop"])
def test_a_mirrored_batch_is_the_world_of_the_mirrored_scene(scenario):
    """Flipping a clip and swapping "left"/"right" gives exactly what the world renders and says
    for the mirror-image scene: the pairs training adds are true clips, not an approximation."""
    clip = world.sample(21, scenario=scenario)
    batch = world.with_mirrors({"video": world.to_model_space(clip.video)[None], "caption": [clip.caption],
                                "seed": torch.tensor([21])})
    mirror = world.clip_of(_mirrored_scene(clip.scene))
    assert batch["caption"] == [clip.caption, mirror.caption]
    assert ("left" in clip.caption) != ("left" in mirror.caption)
    torch.testing.assert_close(batch["video"][1], world.to_model_space(mirror.video), rtol=0, atol=2e-3)


def test_mirror_caption_swaps_only_direction_words():
    assert world.mirror_caption("a ball is thrown leftward at the hoop on the right") == \
        "a ball is thrown rightward at the hoop on the left"
    assert world.mirror_caption("a bright red ball falls") == "a bright red ball falls"
