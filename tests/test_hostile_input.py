"""Fuzzing the pipeline's input checks, the world and the probes with hostile and careless values.

The only acceptable outcomes are a correct result or a clear ValueError/TypeError, within a time
bound (tests/hostile.py). Cases stay cheap: the pipeline's checks run without sampling, world clips
and probed clips are small. The default run takes ~20 cases per surface; the `slow` ones 220.
Counts by outcome: `SORAKIT_FUZZ_REPORT=fuzz.json pytest -m slow tests/test_hostile_input*.py -s`.
"""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from hostile import cases, fast, judge, numbers, report_outcomes, slow, texts
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sorakit import probes, world
from sorakit.limits import LIMITS


@pytest.fixture(scope="module", autouse=True)
def outcome_report():
    yield
    print("\nhostile-input outcomes:", report_outcomes())


# --- pipeline.check_inputs --------------------------------------------------------------------------
def _embeds():
    shapes = st.tuples(st.integers(0, 3), st.integers(0, 40), st.sampled_from([768, 384, 0, 7]))
    return st.one_of(st.none(), st.none(), shapes.map(lambda s: torch.zeros(s)),
                     st.sampled_from([np.zeros((1, 32, 768)), "embeds", [1.0]]))


def _frames_given():
    shapes = st.tuples(st.integers(0, 3), st.sampled_from([8, 16, 32]), st.sampled_from([8, 16, 32]),
                       st.sampled_from([3, 1]))
    arrays = shapes.flatmap(lambda s: hnp.arrays(np.float32, s, elements=st.floats(-1, 2, width=32)))
    return st.one_of(st.none(), st.none(), arrays, st.sampled_from(["frames", [[0.5]], np.zeros((2, 2))]))


VALID_INPUTS = dict(
    prompt=st.one_of(st.sampled_from(["a red ball bounces", "Ball"]), st.lists(st.just("a blue ball"), min_size=1,
                                                                               max_size=3)),
    negative_prompt=st.sampled_from([None, "", "blurry", ["blurry"]]),
    frames=st.none(), num_frames=st.sampled_from([4, 8, 16]), height=st.sampled_from([8, 16, 32]),
    width=st.sampled_from([8, 16, 32]), num_inference_steps=st.integers(1, 50), guidance_scale=st.floats(0, 12),
    num_videos_per_prompt=st.integers(1, 4), output_type=st.sampled_from(["np", "pt", "pil", "latent"]),
    callback_on_step_end_tensor_inputs=st.sampled_from([["latents"], ["prompt_embeds"], None]),
    prompt_embeds=st.none(), negative_prompt_embeds=st.none(),
)
HOSTILE_INPUTS = dict(
    prompt=st.one_of(texts(), st.lists(texts(), max_size=3)),
    negative_prompt=st.one_of(texts(), st.lists(texts(), max_size=3)),
    frames=_frames_given(),
    num_frames=numbers(st.sampled_from([4, 8, 16])),
    height=numbers(st.sampled_from([8, 16, 32])),
    width=numbers(st.sampled_from([8, 16, 32])),
    num_inference_steps=numbers(st.integers(1, 50)),
    guidance_scale=numbers(st.floats(0, 12)),
    num_videos_per_prompt=numbers(st.integers(1, 4)),
    output_type=st.sampled_from(["npy", None, 3, "NP"]),
    callback_on_step_end_tensor_inputs=st.sampled_from([["weights"], "latents", [3]]),
    prompt_embeds=_embeds(),
    negative_prompt_embeds=_embeds(),
)
CHECK_INPUTS = cases(VALID_INPUTS, HOSTILE_INPUTS)


def _accepted_inputs_are_valid(pipe, kw):
    """What check_inputs let through is what the limits allow (checked here independently)."""
    def whole(v, lo, hi):
        return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) and lo <= v <= hi

    def check(_):
        pt, ph, pw = pipe.transformer.config.patch_size
        assert whole(kw["num_frames"], *LIMITS.frames) and kw["num_frames"] % pt == 0
        assert whole(kw["height"], *LIMITS.side) and kw["height"] % ph == 0
        assert whole(kw["width"], *LIMITS.side) and kw["width"] % pw == 0
        assert whole(kw["num_inference_steps"], *LIMITS.steps)
        assert whole(kw["num_videos_per_prompt"], *LIMITS.videos_per_prompt)
        g = kw["guidance_scale"]
        assert not isinstance(g, (bool, np.bool_)) and math.isfinite(g)
        assert LIMITS.guidance[0] <= g <= LIMITS.guidance[1]
        prompts = kw["prompt"] if isinstance(kw["prompt"], list) else [kw["prompt"]]
        if kw["prompt_embeds"] is None:
            assert all(isinstance(p, str) and p.strip() for p in prompts)
            for p in prompts:
                p.encode("utf-8")  # valid text: a lone surrogate would raise here
        assert kw["output_type"] in ("np", "pt", "pil", "latent")
    return check


def _check_inputs_case(pipe, kw):
    if kw["prompt_embeds"] is not None:
        kw["prompt"] = None
    args = [kw[k] for k in ("prompt", "negative_prompt", "frames", "num_frames", "height", "width",
                            "num_inference_steps", "guidance_scale", "num_videos_per_prompt", "output_type",
                            "callback_on_step_end_tensor_inputs")]
    judge("pipeline.check_inputs", lambda: pipe.check_inputs(*args, kw["prompt_embeds"], kw["negative_prompt_embeds"]),
          _accepted_inputs_are_valid(pipe, kw), seconds=20)


@fast
@given(CHECK_INPUTS)
def test_pipeline_check_inputs(tiny_pipe, kw):
    _check_inputs_case(tiny_pipe, kw)


@pytest.mark.slow
@slow
@given(CHECK_INPUTS)
def test_pipeline_check_inputs_many(tiny_pipe, kw):
    _check_inputs_case(tiny_pipe, kw)


# --- world.sample -----------------------------------------------------------------------------------
VALID_WORLD = dict(
    seed=st.integers(0, 10**6), num_frames=st.sampled_from([2, 4, 8]), fps=st.sampled_from([1.0, 8, 24.5, 120]),
    height=st.sampled_from([8, 16, 32]), width=st.sampled_from([8, 24, 32]),
    scenario=st.sampled_from([None, *world.SCENARIOS]), color=st.sampled_from([None, *world.COLORS]),
    size=st.sampled_from([None, *world.SIZES]), direction=st.sampled_from([None, "left", "right"]),
    radius=st.none(), speed=st.one_of(st.none(), st.floats(0.5, 20)), gravity=st.floats(1, 30),
    n_balls=st.none(),
)
HOSTILE_WORLD = dict(
    seed=numbers(st.integers(0, 10**6)), num_frames=numbers(st.sampled_from([2, 4, 8])),
    fps=numbers(st.sampled_from([1.0, 8])), height=numbers(st.sampled_from([8, 16])),
    width=numbers(st.sampled_from([8, 24])), scenario=st.sampled_from(["juggle", 3, "", ["drop"]]),
    color=st.sampled_from(["magenta", 1, "RED"]), size=st.sampled_from(["huge", 0.5]),
    direction=st.sampled_from(["up", -1]), radius=numbers(st.floats(0.2, 1.2)), speed=numbers(st.floats(0.5, 20)),
    gravity=numbers(st.floats(1, 30)), n_balls=numbers(st.sampled_from([1, 2, 3])),
)
WORLD = cases(VALID_WORLD, HOSTILE_WORLD)


def _clip_is_what_was_asked(kw):
    def check(clip):
        shape = (kw["num_frames"], kw["height"], kw["width"], 3)
        assert clip.video.shape == shape and clip.video.dtype == np.float32
        assert np.isfinite(clip.video).all() and 0 <= clip.video.min() and clip.video.max() <= 1
        assert clip.fps == float(kw["fps"]) and isinstance(clip.caption, str) and clip.caption
        assert np.isfinite(clip.states.pos).all() and clip.states.pos.shape[0] == kw["num_frames"]
        if kw["scenario"] is not None:
            assert clip.scene.scenario == kw["scenario"]
        if kw["color"] is not None:
            assert kw["color"] in clip.states.color
    return check


def _world_case(kw):
    seed = kw.pop("seed")
    judge("world.sample", lambda: world.sample(seed, **kw), _clip_is_what_was_asked(kw), seconds=60)


@fast
@given(WORLD)
def test_world_sample(kw):
    _world_case(kw)


@pytest.mark.slow
@slow
@given(WORLD)
def test_world_sample_many(kw):
    _world_case(kw)


# --- probes.run -------------------------------------------------------------------------------------
def _videos():
    shapes = st.tuples(st.integers(0, 6), st.sampled_from([0, 4, 8, 16, 17]), st.sampled_from([8, 16, 24]),
                       st.sampled_from([3, 3, 3, 1, 4]))
    floats = st.floats(allow_nan=True, allow_infinity=True, width=32)
    dtypes = st.sampled_from([np.float32, np.float64, np.uint8, np.int64, np.bool_, np.float16])
    arrays = st.tuples(shapes, dtypes).flatmap(
        lambda sd: hnp.arrays(sd[1], sd[0], elements=floats if np.dtype(sd[1]).kind == "f" else None))
    in_range = shapes.flatmap(lambda s: hnp.arrays(np.float32, s, elements=st.floats(0, 1, width=32)))
    return st.one_of(_WORLD_VIDEOS, in_range, arrays,
                     st.sampled_from([None, "video.mp4", [[1, 2], [3]], 3.0]),
                     in_range.map(torch.from_numpy))


_WORLD_VIDEOS = st.integers(0, 50).map(lambda seed: world.sample(seed, num_frames=6, height=16, width=16).video)
PROBE_CASES = cases(
    dict(video=_WORLD_VIDEOS, prompt=st.sampled_from([None, "a red ball bounces", "two balls collide"]),
         fps=st.sampled_from([None, 8, 24.0]), probes=st.sampled_from([None, ["gravity"], ["tracking", "temporal"]]),
         tracker=st.sampled_from(["auto", "world", "generic"])),
    dict(video=_videos(), prompt=texts(), fps=numbers(st.sampled_from([8, 24.0, 1])),
         probes=st.sampled_from([["magic"], "adherence", [], [3], "gravity,bounces"]),
         tracker=st.sampled_from(["sonar", None, 3])))


def _report_is_whole(report):
    data = json.loads(json.dumps(report.to_dict(), default=str))
    for name, result in report.results.items():
        assert result.passed in (True, False, None), name
        assert "could not run" not in result.reason, f"{name}: {result.reason}"  # a probe crashed inside
    assert isinstance(data, dict)


def _probe_case(kw):
    video = kw.pop("video")
    judge("probes.run", lambda: probes.run(video, **kw), _report_is_whole, seconds=60)


@fast
@given(PROBE_CASES)
def test_probes(kw):
    _probe_case(kw)


@pytest.mark.slow
@slow
@given(PROBE_CASES)
def test_probes_many(kw):
    _probe_case(kw)
