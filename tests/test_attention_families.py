"""attention.capture on every supported diffusers video family, each a tiny pipeline built offline.

For each family: (a) the video is bit-identical with and without capture; (b) the recorded maps equal a
brute-force float64 softmax(QK^T/sqrt d + mask) over the query and key tensors of the model's own
attention calls, sliced by this file's own reading of the family's token layout; (c) processors are
restored on exit and on error; (d) the conditional CFG rows are found for the pipeline's CFG style;
maps come back at the decoded frames' pixel resolution; the storage estimate matches what is stored.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

from sorakit import attention
from sorakit.attention.families import family_of
from sorakit.families import tiny

PROMPT = "a red ball bounces"
NEGATIVE = "blurry, low quality, static, distorted"  # tokenized longer than the prompt: masks matter
POINT = (4, 10, 20)  # (frame, y, x) pixel whose self-attention row is recorded
# How each family sees "no CFG" and CFG (extra call arguments).
NO_CFG = {"cogvideox": dict(guidance_scale=1.0), "hunyuan": dict(), "ltx": dict(guidance_scale=1.0),
          "mochi": dict(guidance_scale=1.0)}
WITH_CFG = {"hunyuan": dict(true_cfg_scale=4.0, negative_prompt=NEGATIVE)}


def sample(pipe, family, **kw):
    call = {**tiny.CALLS[family], "output_type": "np", **kw}
    return pipe(PROMPT, generator=torch.Generator().manual_seed(0), **call).frames


def models(pipe):
    return [m for m in (pipe.transformer, getattr(pipe, "transformer_2", None)) if m is not None]


def processors(pipe):
    fam = family_of(pipe.transformer)
    return [getattr(block, name).processor for m in models(pipe) for block in fam.layers(m)
            for name in (fam.attention, fam.self_attention) if name]


class SeeAttention(TorchFunctionMode):
    """This test's own record of every attention kernel call, tagged with the module that made it."""

    def __init__(self, pipe):
        super().__init__()
        self.calls, self.current, self.handles = [], None, []
        fam = family_of(pipe.transformer)
        for layer, block in enumerate(fam.layers(pipe.transformer)):
            for name in (fam.attention, fam.self_attention):
                if name:
                    module = getattr(block, name)
                    self.handles.append(module.register_forward_pre_hook(
                        lambda m, a, layer=layer, name=name: setattr(self, "current", (layer, name))))

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func is F.scaled_dot_product_attention and self.current is not None:
            got = {**dict(zip(("query", "key", "value", "attn_mask"), args)), **kwargs}
            self.calls.append((self.current, got["query"].double(), got["key"].double(), got.get("attn_mask")))
        return func(*args, **kwargs)


def brute_force(q, k, mask) -> torch.Tensor:
    """(Sq, Sk) float64 probabilities of batch row 0, heads averaged."""
    scores = q[0] @ k[0].transpose(-1, -2) / q.shape[-1] ** 0.5
    if mask is not None:
        mask = mask[0] if mask.dim() == 4 else mask
        scores = scores + (torch.zeros_like(scores).masked_fill(~mask, float("-inf")) if mask.dtype == torch.bool
                           else mask.double())
    return scores.softmax(-1).mean(0)


def layout(family, n_video, n_text_model, n_real):
    """(video query/key slice, text key slice of the real tokens) as this test reads each family."""
    if family == "cogvideox":
        return slice(n_text_model, n_text_model + n_video), slice(0, n_real)
    if family in ("hunyuan", "mochi"):
        return slice(0, n_video), slice(n_video, n_video + n_real)
    return slice(0, n_video), slice(0, n_real)  # cross-attention: queries video, keys text


def real_tokens(pipe, family) -> int:
    if family == "hunyuan":
        template = tiny.CALLS["hunyuan"]["prompt_template"]
        return len(pipe.tokenizer(template["template"].format(PROMPT)).input_ids) - template["crop_start"]
    return len(pipe.tokenizer(PROMPT).input_ids)


@pytest.fixture(scope="module", params=tiny.FAMILIES)
def run(request):
    family = request.param
    pipe = tiny.build(family)
    plain = sample(pipe, family, **NO_CFG.get(family, {}))
    before = processors(pipe)
    see = SeeAttention(pipe)
    with see, attention.capture(pipe, query=POINT, temporal=True, stride=1) as cap:
        captured = sample(pipe, family, **NO_CFG.get(family, {}))
    for handle in see.handles:
        handle.remove()
    return family, pipe, plain, captured, before, cap, see


def test_video_identical_processors_restored_pixel_maps(run):
    family, pipe, plain, captured, before, cap, _ = run
    assert np.array_equal(plain, captured)  # (a)
    assert all(a is b for a, b in zip(processors(pipe), before))  # (c) on exit
    assert cap.words == ["a", "red", "ball", "bounces"]
    red = cap.word_map("red")
    assert red.shape == plain.shape[1:4] and red.min() == 0 and red.max() == 1  # decoded frames' pixels
    assert cap.query_map(*POINT).shape == red.shape
    np.testing.assert_allclose(cap.temporal_matrix().sum(1), 1, atol=1e-5)
    assert 0 < cap.text_mass() <= 1
    assert cap.estimated_bytes == cap.nbytes  # the plan made before the first step is what gets stored
    size = {k: tiny.CALLS[family][k] for k in ("num_frames", "height", "width", "num_inference_steps")}
    plan = attention.estimate(pipe, **size, text_tokens=real_tokens(pipe, family), query=POINT, temporal=True)
    assert abs(plan.nbytes - cap.nbytes) <= 0.1 * cap.nbytes  # from configs and call size alone
    if family == "wan2.2":  # high-noise steps on transformer, low-noise on transformer_2, both recorded
        assert cap.step_models == ["transformer"] * 3 + ["transformer_2"] and sorted(cap.records) == [0, 1, 2, 3]
        assert ("cross", 1) in cap.records[3]
        assert not np.allclose(cap.word_map("red", steps=[3]), cap.word_map("red", steps=[0]))
    if family in ("cogvideox", "hunyuan", "mochi"):
        assert cap.text_to_video_map("ball").shape == red.shape
    else:
        with pytest.raises(ValueError, match="joint-attention"):
            cap.text_to_video_map("ball")


def test_records_equal_brute_force_softmax(run):
    """(b) at step 0, every recorded layer, from the q, k and mask of the model's own attention calls."""
    family, pipe, _, _, _, cap, see = run
    fam = family_of(pipe.transformer)
    n_video, n_real = int(np.prod(cap.grid)), real_tokens(pipe, family)
    text_len = tiny.CALLS[family]["max_sequence_length"]
    calls = {}
    for tag, q, k, mask in see.calls:  # the first transformer call is step 0; the last kernel call of a module
        calls.setdefault(tag, (q, k, mask))  # is its text call (Wan I2V runs image keys first)
    checked = 0
    for layer in range(cap.num_layers):
        q, k, mask = calls[(layer, fam.attention)]
        p = brute_force(q, k, mask)
        video, text = layout(family, n_video, text_len, n_real)
        words = p[video, text]
        want = words / words.sum(-1, keepdim=True)
        got = cap.records[0][("cross", layer)][0]
        assert got.shape == want.shape
        torch.testing.assert_close(got.double(), want, atol=1e-5, rtol=0)
        torch.testing.assert_close(cap.records[0][("mass", layer)][0].double(), words.sum(-1), atol=1e-5, rtol=0)
        if fam.self_attention:
            q, k, mask = calls[(layer, fam.self_attention)]
            p, keys = brute_force(q, k, mask), slice(0, n_video)
        else:
            keys = video
            rows = p[text, keys]  # joint attention: the real text tokens' queries over the video keys
            torch.testing.assert_close(cap.records[0][("text_rows", layer)][0].double(),
                                       rows / rows.sum(-1, keepdim=True), atol=1e-5, rtol=0)
        token = cap.query_tokens[0] + (video.start if not fam.self_attention else 0)
        row = p[token, keys]
        torch.testing.assert_close(cap.records[0][("rows", layer)][0, 0].double(), row / row.sum(), atol=1e-5, rtol=0)
        checked += 1
    assert checked == cap.num_layers and checked >= 2


def test_processors_restored_on_error(run):
    family, pipe, _, _, before, _, _ = run
    with pytest.raises(ZeroDivisionError):
        with attention.capture(pipe, query=POINT, temporal=True):
            1 / 0
    with pytest.raises(ValueError, match="outside the clip"):  # raised from a hook, mid-sampling
        with attention.capture(pipe, query=(400, 0, 0)):
            sample(pipe, family)
    assert all(a is b for a, b in zip(processors(pipe), before))


def test_conditional_rows_for_the_pipelines_cfg(run):
    """(d) step 0 sees the same latents with and without CFG: the recorded rows are the conditional ones."""
    family, pipe, _, _, _, single, _ = run
    calls = []
    handles = [m.register_forward_hook(lambda *a: calls.append(1)) for m in models(pipe)]
    with attention.capture(pipe, steps=[0]) as guided:
        sample(pipe, family, **WITH_CFG.get(family, {}))
    for handle in handles:
        handle.remove()
    assert guided.row_prompts == [0] and guided.num_steps == single.num_steps
    two_calls = family in ("wan", "wan2.2", "wan_vace", "skyreels_v2", "hunyuan")
    # CFG as two calls (cond, uncond) per step, or batched [uncond, cond] in one
    assert len(calls) == single.num_steps * (2 if two_calls else 1) and sorted(guided.records) == [0]
    for layer in range(guided.num_layers):
        torch.testing.assert_close(guided.records[0][("cross", layer)], single.records[0][("cross", layer)],
                                   atol=1e-5, rtol=1e-4)


def test_budget_refuses_before_sampling_and_names_the_knobs(run):
    family, pipe, _, _, before, cap, _ = run
    calls = []
    blocks = family_of(pipe.transformer).layers(pipe.transformer)
    handles = [block.register_forward_hook(lambda *a: calls.append(1)) for block in blocks]
    with pytest.raises(ValueError, match=r"layers=.*steps=.*stride=.*heads="):
        with attention.capture(pipe, budget=cap.nbytes // 4):
            sample(pipe, family, **NO_CFG.get(family, {}))
    for handle in handles:
        handle.remove()
    assert calls == [] and all(a is b for a, b in zip(processors(pipe), before))
    with attention.capture(pipe, layers=[0], steps=[1], stride=(2, 2)) as small:
        sample(pipe, family, **NO_CFG.get(family, {}))
    assert small.nbytes == small.estimated_bytes < cap.nbytes
    assert small.word_map("red").shape == cap.word_map("red").shape
