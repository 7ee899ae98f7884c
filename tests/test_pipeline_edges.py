"""Pipeline edges: negative prompts per prompt, text that is not valid Unicode, booleans as numbers."""
from __future__ import annotations

import numpy as np
import pytest
import torch

SMALL = dict(num_frames=2, height=8, width=8, num_inference_steps=1, output_type="np")


def _frames(pipe, **kwargs):
    return pipe(generator=torch.Generator().manual_seed(0), **SMALL, **kwargs).frames


def test_one_negative_prompt_in_a_list_serves_every_prompt(tiny_pipe):
    prompts = ["a red ball bounces", "a blue ball rolls"]
    as_list = _frames(tiny_pipe, prompt=prompts, negative_prompt=["a green ball"])
    assert as_list.shape == (2, 2, 8, 8, 3)
    np.testing.assert_array_equal(as_list, _frames(tiny_pipe, prompt=prompts, negative_prompt="a green ball"))
    np.testing.assert_array_equal(as_list, _frames(tiny_pipe, prompt=prompts, negative_prompt=["a green ball"] * 2))
    with_videos = _frames(tiny_pipe, prompt=prompts, negative_prompt=["a green ball"], num_videos_per_prompt=2)
    assert with_videos.shape == (4, 2, 8, 8, 3)


@pytest.mark.parametrize("negative, message", [
    (["a", "b", "c"], r"must hold 1 string \(used for every prompt\) or 2 \(one per prompt\); got 3"),
    ([], "must hold 1 string .* or 2 .*; got 0"),
    (("a",) * 5, "must hold 1 string .* or 2 .*; got 5"),
    (["a", 3], "negative_prompt must be a string or a list of strings"),
    (7, "negative_prompt must be a string or a list of strings"),
])
def test_a_negative_prompt_list_of_another_length_is_refused_before_sampling(tiny_pipe, negative, message):
    with pytest.raises(ValueError, match=message):
        tiny_pipe(["a red ball", "a blue ball"], negative_prompt=negative, **SMALL)


@pytest.mark.parametrize("field", ["prompt", "negative_prompt"])
@pytest.mark.parametrize("bad", ["\ud800", "a red ball \udcff", "a red\x00ball"], ids=["high", "escaped", "nul"])
def test_text_that_is_not_unicode_is_a_value_error_naming_the_field(tiny_pipe, field, bad):
    kwargs = {"prompt": "a red ball", field: bad}
    with pytest.raises(ValueError, match=f"{field} contains a (lone surrogate .*|NUL character) at position"):
        tiny_pipe(**kwargs, **SMALL)


def test_the_demo_and_the_probes_say_what_is_wrong_with_such_text(tiny_pipe):
    from sorakit import probes
    from sorakit.demo.validation import prompt_error
    from sorakit.recipe import Recipe

    message = prompt_error("a red ball \ud800", tiny_pipe.tokenizer, 32)
    assert message == "prompt contains a lone surrogate ('\\ud800') at position 11: it is not valid text"
    with pytest.raises(ValueError, match="lone surrogate"):
        probes.run(np.zeros((2, 16, 16, 3), np.float32), prompt="\udcff")
    with pytest.raises(ValueError, match="recipe field 'prompt'"):
        Recipe("a red ball \ud800")


def test_the_cli_refuses_undecodable_arguments_before_loading(monkeypatch, capsys, tmp_path):
    import sorakit
    from sorakit import cli

    monkeypatch.setitem(vars(sorakit), "load", lambda *a, **k: pytest.fail("the model was loaded"))
    # A command line holding invalid UTF-8 reaches Python with surrogate escapes ("\udcff").
    assert cli.main(["generate", "a red ball \udcff", "--out", str(tmp_path / "c.mp4")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "recipe field 'prompt'" in err


@pytest.mark.parametrize("name", ["num_inference_steps", "num_frames", "height", "width", "guidance_scale",
                                  "num_videos_per_prompt"])
@pytest.mark.parametrize("value", [True, np.bool_(True), False])
def test_booleans_are_not_numbers(tiny_pipe, name, value):
    kwargs = {**SMALL, name: value}
    with pytest.raises(ValueError, match=name):
        tiny_pipe("a red ball", **kwargs)
