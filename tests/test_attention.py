"""attention.capture on the tiny SpacetimePipeline: exactness, restoration, conditional branch, maps."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from sorakit import attention

PROMPT = "a red ball is thrown leftward and bounces"
RUN = dict(num_inference_steps=2, guidance_scale=4.0, output_type="np")


def sample(pipe, prompt=PROMPT, seed=0, **kw):
    return pipe(prompt, generator=torch.Generator().manual_seed(seed), **{**RUN, **kw}).frames


@pytest.fixture(scope="module")
def run(tiny_pipe):
    """One capture with cross, query rows and the temporal matrix; plus the same sample without capture."""
    plain = sample(tiny_pipe)
    before = dict(tiny_pipe.transformer.attn_processors)
    with attention.capture(tiny_pipe, query=[(12, 17, 9), (3, 0, 31)], temporal=True) as cap:
        captured = sample(tiny_pipe)
    return plain, captured, before, cap


def test_video_bit_identical_and_processors_restored(tiny_pipe, run):
    plain, captured, before, cap = run
    assert np.array_equal(plain, captured)
    after = tiny_pipe.transformer.attn_processors
    assert all(after[k] is v for k, v in before.items())
    assert not tiny_pipe.transformer._forward_pre_hooks and not tiny_pipe.text_encoder._forward_hooks


def test_processors_restored_on_error(tiny_pipe):
    before = dict(tiny_pipe.transformer.attn_processors)
    with pytest.raises(ZeroDivisionError):
        with attention.capture(tiny_pipe):
            1 / 0
    with pytest.raises(ValueError, match="outside the clip"):  # raised from the hook, mid-sampling
        with attention.capture(tiny_pipe, query=(40, 0, 0)):
            sample(tiny_pipe)
    assert all(tiny_pipe.transformer.attn_processors[k] is v for k, v in before.items())


def test_recorded_probabilities_reproduce_the_attention_output(tiny_pipe):
    """Per-head recorded probabilities @ values give exactly what the model's attention layers output."""
    long = " and ".join(f"a {c} ball" for c in ("red", "blue", "green", "cyan", "purple", "yellow", "red", "blue"))
    block, seen, probs = tiny_pipe.transformer.blocks[1], {}, {}
    handles = [getattr(block, name).register_forward_hook(
        lambda m, args, out, name=name: seen.__setitem__(name, (args, out))) for name in ("attn1", "attn2")]
    x = torch.randn(1, tiny_pipe.transformer.config.in_channels, 16, 32, 32, generator=torch.Generator().manual_seed(1))
    t = torch.tensor([500.0])
    for head in (0, 1):
        with attention.capture(tiny_pipe, layers=[1], heads=[head], query=[(3, 5, 7), (9, 30, 2)]) as cap:
            tiny_pipe.transformer(x, t, tiny_pipe.encode_text([long]))
        probs[head] = cap.records[0][("cross", 1)][0], cap.records[0][("rows", 1)][0]
    for handle in handles:
        handle.remove()
    assert probs[0][0].shape == (1024, 32)  # no padding: renormalization is the identity here
    for name, which, rows in (("attn2", 0, slice(None)), ("attn1", 1, [201, 632])):
        (hs, ehs, *_), want = seen[name]
        attn = getattr(block, name)
        v = attn.to_v(hs if ehs is None else ehs)[0].unflatten(-1, (2, -1))  # (S, h, d)
        got = torch.cat([probs[h][which] @ v[:, h] for h in (0, 1)], -1)
        torch.testing.assert_close(attn.to_out[0](got), want[0, rows], atol=1e-5, rtol=1e-4)


def test_records_are_distributions_over_real_tokens(run):
    _, _, _, cap = run
    cross = cap.records[0][("cross", 0)]  # (1, N, real tokens): [CLS] + 10 word pieces + [SEP]
    assert cross.shape == (1, 1024, 12)
    torch.testing.assert_close(cross.sum(-1), torch.ones(1, 1024))
    rows = cap.records[1][("rows", 1)]
    assert rows.shape == (1, 2, 1024)
    torch.testing.assert_close(rows.sum(-1), torch.ones(1, 2))
    np.testing.assert_allclose(cap.temporal_matrix().sum(1), 1, atol=1e-5)


def test_temporal_matrix_matches_query_rows(tiny_pipe):
    """Chunked frame-to-frame matrix == the mean of explicit query rows of that frame."""
    frame = 5
    points = [(frame, y, x) for y in range(2, 32, 4) for x in range(2, 32, 4)]  # every patch of the frame
    with attention.capture(tiny_pipe, layers=[1], steps=[0], query=points, temporal=True) as cap:
        sample(tiny_pipe, num_inference_steps=1)
    rows = cap.records[0][("rows", 1)][0]  # (64, N)
    per_frame = rows.unflatten(-1, (16, 64)).sum(-1).mean(0)
    np.testing.assert_allclose(cap.temporal_matrix()[frame], per_frame.numpy(), atol=1e-5)


def test_conditional_branch_only(tiny_pipe):
    """Step 0 sees the same noise with and without CFG: the recorded (conditional) maps agree."""
    with attention.capture(tiny_pipe, steps=[0]) as guided:
        sample(tiny_pipe)
    with attention.capture(tiny_pipe, steps=[0]) as single:
        sample(tiny_pipe, guidance_scale=1.0)
    assert guided.row_prompts == [0] and guided.num_steps == 2
    torch.testing.assert_close(guided.records[0][("cross", 1)], single.records[0][("cross", 1)], atol=1e-5, rtol=1e-4)


def test_words_maps_and_aggregation(run):
    _, _, _, cap = run
    assert cap.words == ["a", "red", "ball", "is", "thrown", "leftward", "and", "bounces"]  # '##' merged
    assert cap.grid == (16, 8, 8) and cap.pixel_shape == (16, 32, 32) and cap.num_steps == 2
    red = cap.word_map("Red")
    assert red.shape == (16, 32, 32) and red.dtype == np.float32 and red.min() == 0 and red.max() == 1
    assert not np.allclose(red, cap.word_map("ball"))
    assert not np.allclose(cap.word_map("red", layers=[0]), cap.word_map("red", layers=[1]))
    np.testing.assert_allclose(cap.word_map("red", steps=slice(-1, None)), cap.word_map("red", steps=[1]))
    assert set(cap.token_maps()) == set(cap.words)
    np.testing.assert_array_equal(red, cap.word_map("red", layers=[0, 1], steps=[1]))  # defaults: middle/last third
    q = cap.query_map(12, 16, 8, steps=[0, 1])  # same patch (4x4) as the captured (12, 17, 9)
    raw = sum(cap.records[s][("rows", layer)][0, 0] for s in (0, 1) for layer in (0, 1)).reshape(16, 8, 8)
    pooled = q.reshape(16, 8, 4, 8, 4).mean((2, 4))  # back to one value per patch
    # Pixel maps are smoothed when upsampled, so pooling them back is close to the raw row, not equal.
    assert q.shape == (16, 32, 32) and np.corrcoef(pooled.ravel(), raw.numpy().ravel())[0, 1] > 0.9
    assert cap.temporal_matrix().shape == (16, 16)
    assert 0 < cap.nbytes < 2_000_000


def test_steps_subset_records_only_those(tiny_pipe):
    with attention.capture(tiny_pipe, steps=[1], layers=[-1]) as cap:
        sample(tiny_pipe)
    assert sorted(cap.records) == [1] and cap.num_steps == 2
    assert set(cap.records[1]) == {("cross", 1), ("mass", 1)}  # word maps and their share of attention
    with pytest.raises(ValueError, match="not recorded"):
        cap.word_map("red", steps=[0])
    with pytest.raises(ValueError, match=r"not captured; captured layers: \[1\]"):
        cap.word_map("red", layers=[0])


def test_bad_input(tiny_pipe, run):
    _, _, _, cap = run
    with pytest.raises(ValueError, match="words:.*'red'"):
        cap.word_map("green")
    with pytest.raises(ValueError, match="out of range"):
        cap.word_map("red", layers=[2])
    with pytest.raises(ValueError, match="outside the clip"):
        cap.query_map(16, 0, 0)
    with pytest.raises(ValueError, match="outside the clip"):
        cap.query_map(0, 0, 32)
    with pytest.raises(ValueError, match="was not captured"):
        cap.query_map(0, 0, 0)
    with pytest.raises(ValueError, match="out of range"):
        attention.capture(tiny_pipe, layers=[7]).__enter__()
    with pytest.raises(ValueError, match="query must be"):
        attention.capture(tiny_pipe, query=(1, 2)).__enter__()
    with attention.capture(tiny_pipe) as empty:
        with pytest.raises(RuntimeError, match="nothing captured yet"):
            empty.word_map("red")
        with pytest.raises(RuntimeError, match="already active"):
            attention.capture(tiny_pipe).__enter__()
    with attention.capture(tiny_pipe, steps=[0]) as cross_only:
        sample(tiny_pipe, num_inference_steps=1)
    with pytest.raises(ValueError, match="temporal=True"):
        cross_only.temporal_matrix()
    with pytest.raises(ValueError, match="query="):
        cross_only.query_map(0, 0, 0)


def test_unsupported_pipeline_is_named():
    class Other:
        transformer = torch.nn.Linear(2, 2)

    with pytest.raises(ValueError, match="WanTransformer3DModel"):
        attention.capture(Other()).__enter__()


def test_prompt_embeds_are_refused_before_sampling(tiny_pipe):
    """Given embeddings carry no words, so the maps could not be labelled: refused at once, with or without CFG."""
    emb = tiny_pipe.encode_text(["a red ball bounces"])
    calls = []
    for guidance in (4.0, 1.0):
        with pytest.raises(ValueError, match="needs the prompt as text"):
            with attention.capture(tiny_pipe):
                tiny_pipe(prompt_embeds=emb, guidance_scale=guidance, num_inference_steps=2, output_type="np",
                          callback_on_step_end=lambda pipe, i, t, kw: calls.append(i) or {})
    assert calls == []  # not one denoising step ran
    assert sample(tiny_pipe, num_inference_steps=1).shape[0] == 1  # the pipeline is restored and still samples
