"""Probes on footage that does not look like training: world scenes rendered on other backgrounds,
frame shapes and framings, tracked by the general object tracker and probed in given units."""
from dataclasses import replace

import cv2
import numpy as np
import pytest

from sorakit import probes, world
from sorakit.world import Camera, render, simulate
from sorakit.world.render import BACKGROUND


def gradient(height, width):
    rows = np.linspace(0, 1, height)[:, None, None]
    cols = np.linspace(0, 1, width)[None, :, None]
    return np.clip(np.concatenate([0.15 + 0.35 * rows + 0 * cols, 0.2 + 0.3 * cols + 0 * rows,
                                   0.45 - 0.25 * rows + 0.1 * cols], -1), 0, 1).astype(np.float32)


def texture(height, width, seed=0):
    noise = np.random.default_rng(seed).random((height // 4 + 1, width // 4 + 1, 3)).astype(np.float32)
    return np.clip(0.2 + 0.35 * cv2.resize(noise, (width, height), interpolation=cv2.INTER_CUBIC), 0, 1)


# name: (height, width, camera options, background)
VIEWS = {
    "wide": (144, 256, {}, None),  # non-square, the world's framing: a ball may start above the frame
    "gradient": (64, 64, {}, gradient),
    "texture": (96, 96, {}, texture),
    "off-centre": (96, 128, {"scale": 8.0, "origin": (34.0, 70.0)}, texture),  # zoomed out, shifted right and up
}
# name: (scenario, seed, bounciness, frames). The dead throw hops twice and comes to rest: the ball lies still
# for most of the clip, so a plain temporal median would take it for background, and the floor is where it rests.
SCENES = {"throw": ("throw", 0, "bouncy", 16), "throw twice": ("throw", 7, "bouncy", 24),
          "drop": ("drop", 4, "bouncy", 16), "dead throw": ("throw", 4, "dead", 16)}


def view(name, scene):
    height, width, options, background = VIEWS[name]
    camera = Camera(height, width, **options)
    traj = simulate(scene)
    video, masks = render(scene, traj, height, width, camera=camera,
                          background=None if background is None else background(height, width))
    return video, masks, traj, camera


def click_on_ball(masks, frame=None):
    seen = np.flatnonzero(masks[:, 0].sum((1, 2)) > 4)
    frame = int(seen[len(seen) // 2]) if frame is None else frame
    rows, cols = np.nonzero(masks[frame, 0])
    return frame, (cols.mean() + 0.5, rows.mean() + 0.5), (cols.min(), rows.min(), np.ptp(cols) + 1, np.ptp(rows) + 1)


def scene_of(key):
    scenario, seed, bounciness, frames = SCENES[key]
    return world.sample_scene(seed, scenario=scenario, bounciness=bounciness, num_frames=frames)


# --- the renderer's options ---------------------------------------------------------------------------------------

def test_training_rendering_is_unchanged_by_the_new_options():
    scene = world.sample_scene(3, scenario="hoop")
    traj = simulate(scene)
    plain = render(scene, traj, 32, 48)
    explicit = render(scene, traj, 32, 48, camera=Camera(32, 48),
                      background=np.broadcast_to(BACKGROUND, (32, 48, 3)))
    assert plain[0].tobytes() == explicit[0].tobytes() and (plain[1] == explicit[1]).all()
    assert plain[0].tobytes() == world.clip_of(scene, 32, 48).video.tobytes()


def test_views_draw_the_background_and_frame_the_world_as_asked():
    scene = scene_of("throw")
    video, masks, traj, camera = view("off-centre", scene)
    assert video.shape == (16, 96, 128, 3)
    np.testing.assert_allclose(video[:, 0, 0], np.broadcast_to(texture(96, 128)[0, 0], (16, 3)), atol=1e-6)
    rows, cols = np.nonzero(masks[5, 0])
    centre = camera.to_pixels(traj.pos[5, 0])
    assert abs(cols.mean() + 0.5 - centre[0]) < 0.3 and abs(rows.mean() + 0.5 - centre[1]) < 0.3
    # The floor surface sits at the origin's row, not the training framing's.
    assert camera.floor_row == 70.0 and Camera(96, 128).floor_row != 70.0


def test_bad_view_options_are_refused():
    scene = scene_of("throw")
    traj = simulate(scene)
    with pytest.raises(ValueError, match="camera is 32x32"):
        render(scene, traj, 64, 64, camera=Camera(32, 32))
    with pytest.raises(ValueError, match="background must be a"):
        render(scene, traj, 32, 32, background=np.zeros((32, 31, 3)))
    with pytest.raises(ValueError, match="scale must be"):
        Camera(32, 32, scale=0)


# --- gravity, bounces and persistence on differently rendered scenes -------------------------------------------

@pytest.mark.parametrize("name", list(VIEWS))
@pytest.mark.parametrize("key", list(SCENES))
def test_probes_find_g_and_the_bounces_on_every_view(name, key):
    scene = scene_of(key)
    video, masks, traj, camera = view(name, scene)
    frame, click, _ = click_on_ball(masks)
    track = probes.track_object(video, click=click, frame=frame)
    r = scene.balls[0].radius
    report = probes.run_footage(video, track, fps=scene.fps, scale=(2 * r * camera.scale, 2 * r),
                                unit="world units", gravity_reference=world.GRAVITY)
    g = report["gravity"]
    assert g.passed and abs(g.metrics["g"] / world.GRAVITY - 1) <= 0.05, g
    assert g.metrics["units"] == {"length": "world units", "pixels_per_unit": pytest.approx(camera.scale),
                                  "source": "scale given"}
    assert "world units/s²" in g.reason
    floor_hits = sum(e.kind == "floor_bounce" for e in traj.events)
    assert report["bounces"].metrics["floor_bounces"] == {"object0": floor_hits}
    assert report["persistence"].passed, report["persistence"]
    # The floor is found where the bounces are: on the floor surface the camera put there.
    assert abs(report.context.camera.floor_row - camera.floor_row) < 0.5


def test_a_wrong_gravity_is_caught_on_footage():
    scene = replace(scene_of("throw"), gravity=5.0)
    video, masks, traj, camera = view("texture", scene)
    frame, click, _ = click_on_ball(masks)
    r = scene.balls[0].radius
    report = probes.run_footage(video, probes.track_object(video, click=click, frame=frame), fps=scene.fps,
                                scale=(2 * r * camera.scale, 2 * r), unit="m")
    g = report["gravity"]
    assert g.ran and not g.passed and "too weak" in g.reason and "m/s²" in g.reason
    assert g.metrics["g_reference"] == pytest.approx(9.81) and abs(g.metrics["g"] / 5.0 - 1) < 0.05


def test_without_a_scale_results_are_in_pixels_and_g_has_no_verdict():
    scene = scene_of("throw")
    video, masks, traj, camera = view("wide", scene)
    frame, click, _ = click_on_ball(masks)
    report = probes.run_footage(video, probes.track_object(video, click=click, frame=frame), fps=scene.fps)
    g = report["gravity"]
    assert g.passed is None and g.metrics["units"]["length"] == "px" and "px/s²" in g.reason
    assert abs(g.metrics["g"] / (world.GRAVITY * camera.scale) - 1) < 0.05
    assert report["bounces"].metrics["units"]["length"] == "px"
    assert report["bounces"].metrics["gravity_used"] == pytest.approx(g.metrics["g"])


def test_box_and_colour_picks_follow_the_same_ball_as_a_click():
    scene = scene_of("throw")
    video, masks, traj, camera = view("gradient", scene)
    frame, click, box = click_on_ball(masks)
    truth = camera.to_pixels(traj.pos[:, 0])
    by_click = probes.track_object(video, click=click, frame=frame)
    by_box = probes.track_object(video, box=box, frame=frame)
    by_colour = probes.track_object(video, color=scene.balls[0].color)
    for track in (by_click, by_box, by_colour):
        assert track.present.all() and np.abs(track.center - truth).max() < 0.1
        assert np.nanmedian(track.radius) == pytest.approx(scene.balls[0].radius * camera.scale, rel=0.05)


def test_mil_follows_a_box_and_loses_an_object_that_left():
    scene = scene_of("drop")
    video, masks, traj, camera = view("wide", scene)  # the dropped ball starts above the frame
    frame, _, box = click_on_ball(masks)
    track = probes.track_object(video, box=box, frame=frame, method="mil")
    truth, r = camera.to_pixels(traj.pos[:, 0]), scene.balls[0].radius * camera.scale
    # Partly out of view, the visible part's centre is not the ball's: judge the frames that show it whole.
    whole = (truth - r >= 0).all(1) & (truth[:, 0] + r <= 256) & (truth[:, 1] + r <= 144)
    assert track.method == "mil" and (track.present <= masks[:, 0].any((1, 2))).all() and not track.present.all()
    assert whole.sum() >= 5 and track.present[whole].all()
    assert np.linalg.norm(track.center - truth, axis=1)[whole].max() < 0.1


def test_lk_follows_a_textured_point():
    base = texture(48, 64, seed=3)
    shift = np.arange(8) * 1.5  # px per frame to the right, a camera pan
    frames = [cv2.warpAffine(base, np.float32([[1, 0, s], [0, 1, 0]]), (64, 48), borderMode=cv2.BORDER_REFLECT)
              for s in shift]
    track = probes.track_object(np.stack(frames), click=(20.5, 24.5), method="lk")
    assert track.present.all() and track.method == "lk"
    np.testing.assert_allclose(track.center[:, 0] - 20.5, shift, atol=0.25)


def test_bad_picks_and_settings_are_refused_with_what_is_allowed():
    scene = scene_of("throw")
    video, masks, traj, camera = view("gradient", scene)
    frame, click, box = click_on_ball(masks)
    track = probes.track_object(video, click=click, frame=frame)
    bad = [
        (dict(click=click, box=box), "exactly one of"),
        (dict(), "exactly one of"),
        (dict(click=(64.0, 3.0)), "inside the 64x64"),
        (dict(box=(0, 0, 1, 5)), "w, h >= 2"),
        (dict(color="magenta"), "unknown colour"),
        (dict(color=(1.2, 0, 0)), r"in \[0, 1\]"),
        (dict(click=click, frame=99), "frame must be"),
        (dict(click=click, method="csrt"), "allowed: color, mil, lk"),
        (dict(box=box, method="lk"), "click="),
        (dict(click=click, method="mil"), "box="),
    ]
    for kwargs, message in bad:
        with pytest.raises(ValueError, match=message):
            probes.track_object(video, **kwargs)
    for kwargs, message in [(dict(scale=(10, 0)), "scale must be"), (dict(scale=(10, 1), unit=" "), "unit must"),
                            (dict(floor="bottom"), "floor must be"), (dict(probes="collisions"), "allowed: gravity"),
                            (dict(gravity_reference=-1), "gravity_reference")]:
        with pytest.raises(ValueError, match=message):
            probes.run_footage(video, track, **kwargs)
    with pytest.raises(ValueError, match="ObjectTrack"):
        probes.run_footage(video, "ball")
    with pytest.raises(ValueError, match="has 16 frames, the video 8"):
        probes.run_footage(video[:8], track)


def test_persistence_on_footage_catches_a_vanish_a_split_and_a_jump():
    from sorakit.world.render import _static_layer

    scene = scene_of("throw twice")
    video, masks, traj, camera = view("texture", scene)
    still = _static_layer(scene, camera, texture(96, 96))
    frame, click, _ = click_on_ball(masks, frame=2)
    centre = camera.to_pixels(traj.pos[:, 0])

    def verdict(clip, **tracking):
        track = probes.track_object(clip, click=click, frame=frame, **tracking)
        report = probes.run_footage(clip, track, fps=scene.fps, probes="persistence")
        return report["persistence"]

    assert verdict(video).passed
    gone = video.copy()
    gone[12:14] = still  # the ball vanishes in mid-air for two frames
    assert not verdict(gone).passed and "vanishes at frame 12" in verdict(gone).reason
    cut = video.copy()
    col = int(centre[9, 0])
    cut[9, :, col - 1: col + 2] = still[:, col - 1: col + 2]  # a gap through the ball: two halves
    assert not verdict(cut).passed and "splits into 2 pieces at frame 9" in verdict(cut).reason
    jump = video.copy()
    jump[4] = video[16]  # one frame from much later: the ball is elsewhere
    assert "vanishes at frame 4" in verdict(jump).reason  # beyond the tracker's max_jump: lost there
    r = verdict(jump, max_jump=96)
    assert not r.passed and "jumps" in r.reason and "px at frame" in r.reason and r.metrics["units"]["length"] == "px"


def test_several_objects_picked_by_colour_are_probed_together():
    scene = world.sample_scene(1, scenario="collide", num_frames=16)
    video, masks, traj, camera = view("texture", scene)
    tracks = {b.color: probes.track_object(video, color=b.color) for b in scene.balls}
    for i, b in enumerate(scene.balls):
        assert np.abs(tracks[b.color].center - camera.to_pixels(traj.pos[:, i])).max() < 0.1
    report = probes.run_footage(video, tracks, fps=scene.fps, scale=(camera.scale, 1.0), unit="world units",
                                gravity_reference=world.GRAVITY)
    assert abs(report["gravity"].metrics["g"] / world.GRAVITY - 1) < 0.05
    assert report["persistence"].passed and report["persistence"].metrics["objects"] == 2
    assert sorted(report.to_dict()["objects"]) == sorted(b.color for b in scene.balls)


def test_units_on_a_track_known_exactly():
    fps, frames = 20.0, 12
    t = np.arange(frames) / fps
    still = np.zeros((frames, 120, 160, 3), np.float32)  # the video only gives the frame size here

    def fall(sideways):  # falling 200 px/s² (y down), in pixels, never touching anything
        centre = np.stack([40 + 30 * t + 0.5 * sideways * t**2, 20 + 0.5 * 200 * t**2], -1)
        return probes.ObjectTrack(centre, np.full(frames, 5.0), np.ones(frames, bool), np.ones(frames, int), "color")

    px = probes.run_footage(still, fall(0.0), fps=fps, floor=None, probes="gravity")["gravity"]
    assert px.passed is None and px.metrics["g"] == pytest.approx(200, rel=1e-6) and "px/s²" in px.reason
    metres = probes.run_footage(still, fall(0.0), fps=fps, floor=None, scale=(50, 1.0), probes="gravity")["gravity"]
    assert metres.metrics["g"] == pytest.approx(4.0, rel=1e-6) and metres.metrics["g_reference"] == pytest.approx(9.81)
    assert metres.passed is False and "4.00 m/s² is too weak" in metres.reason
    pushed = probes.run_footage(still, fall(120.0), fps=fps, floor=None, probes="gravity")["gravity"]
    assert pushed.passed is False and "horizontal acceleration 120.00 px/s²" in pushed.reason
