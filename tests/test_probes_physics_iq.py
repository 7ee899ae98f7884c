"""Physics-IQ's motion metrics (spatial, spatiotemporal and weighted spatial IoU of motion masks, and MSE)
on world clips: a clip scores perfectly against itself and worse, monotonically, the further it is shifted."""
import numpy as np
import pytest

from sorakit import probes, world

METRICS = ("spatial_iou", "spatiotemporal_iou", "weighted_spatial_iou")


@pytest.fixture(scope="module")
def throw():
    return world.clip_of(world.sample_scene(3, scenario="throw", num_frames=24), 64, 64).video


def square_clip(frames=8, height=40, width=56, x0=4, step=3, side=10):
    video = np.zeros((frames, height, width, 3), np.uint8)
    for f in range(frames):
        video[f, 10: 10 + side, x0 + step * f: x0 + step * f + side] = 255
    return video


def test_a_clip_against_itself_scores_perfectly(throw):
    r = probes.physics_iq(throw[:16], throw[:16])
    assert (r.spatial_iou, r.spatiotemporal_iou, r.weighted_spatial_iou, r.mse) == (1.0, 1.0, 1.0, 0.0)
    assert set(r.to_dict()) == {*METRICS, "mse", "per_frame"} and len(r.per_frame["mse"]) == 16
    assert probes.motion_masks(throw[:16])[1:].any((1, 2)).all()  # the ball moves in every frame: not trivially 1


def test_scores_worsen_monotonically_with_a_time_shift_and_for_a_mirror(throw):
    reference = throw[:16]
    scores = [probes.physics_iq(throw[s: s + 16], reference) for s in (0, 1, 2, 4)]
    for name in METRICS:
        values = [getattr(r, name) for r in scores]
        assert all(a > b for a, b in zip(values, values[1:])), (name, values)
    mses = [r.mse for r in scores]
    assert all(a < b for a, b in zip(mses, mses[1:])), mses
    mirrored = probes.physics_iq(reference[:, :, ::-1], reference)
    assert all(getattr(mirrored, n) < 0.5 for n in METRICS) and mirrored.mse > scores[1].mse


def test_uint8_and_float_clips_score_alike_at_any_resolution():
    clip = square_clip()
    shifted = np.roll(clip, 2, axis=2)
    as_uint8 = probes.physics_iq(shifted, clip)
    as_float = probes.physics_iq(shifted / 255.0, clip.astype(np.float32) / 255)
    for name in (*METRICS, "mse"):
        assert getattr(as_uint8, name) == pytest.approx(getattr(as_float, name))
    assert 0 < as_uint8.spatiotemporal_iou < 1


def test_the_published_definitions_on_masks_known_by_construction():
    clip = square_clip()
    masks = probes.motion_masks(clip)
    assert not masks[0].any()  # the first frame starts the running background
    assert masks[1:, 10:20].any((1, 2)).all() and not masks[:, 25:].any()  # motion only where the square is
    # Motion in disjoint places: IoU 0, except frame 0 whose masks are both empty (IoU 1 by the benchmark's rule).
    elsewhere = np.zeros_like(clip)
    elsewhere[:, 28:38] = clip[:, 10:20]
    apart = probes.physics_iq(elsewhere, clip)
    assert apart.per_frame["spatiotemporal_iou"] == [1.0] + [0.0] * 7
    assert (apart.spatial_iou, apart.spatiotemporal_iou, apart.weighted_spatial_iou) == (0.0, 1 / 8, 0.0)
    # No motion in either clip: the benchmark scores the IoUs 1, while MSE still sees the different stills.
    still_a, still_b = np.zeros_like(clip), np.full_like(clip, 51)
    still = probes.physics_iq(still_a, still_b)
    assert (still.spatial_iou, still.spatiotemporal_iou, still.weighted_spatial_iou) == (1.0, 1.0, 1.0)
    assert still.mse == pytest.approx(0.04)  # (51 / 255)^2
    # Weighted spatial IoU counts how often a pixel moves: the same path at half the frame rate moves as
    # often only where both clips move.
    slow = square_clip(step=1)
    weighted = probes.physics_iq(slow, clip)
    ms, mc = probes.motion_masks(slow).mean(0), probes.motion_masks(clip).mean(0)
    union = np.maximum(ms, mc)
    assert weighted.weighted_spatial_iou == pytest.approx(np.minimum(ms, mc)[union > 0].sum() / union.sum())


def test_bad_inputs_are_refused_with_what_is_allowed():
    clip = square_clip()
    bad = [
        ((clip, clip[:-1]), "same shape"),
        ((clip[..., 0], clip[..., 0]), r"\(F, H, W, 3\)"),
        ((clip.astype(np.int32), clip), "uint8 .* or float"),
        ((clip * 2.0, clip), r"in \[0, 1\]"),
        ((np.full(clip.shape, np.nan), clip), "NaN"),
        (("clip", clip), r"\(F, H, W, 3\)"),
    ]
    for args, message in bad:
        with pytest.raises(ValueError, match=message):
            probes.physics_iq(*args)
    with pytest.raises(ValueError, match="threshold"):
        probes.physics_iq(clip, clip, threshold=300)
