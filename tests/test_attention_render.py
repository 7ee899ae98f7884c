"""Overlays, the word-map figure and word merging (no model needed except for the figure)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from sorakit import attention
from sorakit.attention.words import merge_words


def test_overlay_blends_colormap():
    video = np.full((2, 4, 5, 3), 0.5, np.float32)
    heat = np.zeros((2, 4, 5), np.float32)
    heat[1, 2, 3] = 1
    out = attention.overlay(video, heat, alpha=0.5, cmap="gray")
    assert out.shape == video.shape and out.dtype == np.float32
    np.testing.assert_allclose(out[0, 0, 0], 0.25, atol=1e-6)  # 0.5 * video + 0.5 * black
    np.testing.assert_allclose(out[1, 2, 3], 0.75, atol=1e-6)  # 0.5 * video + 0.5 * white
    np.testing.assert_allclose(attention.overlay(video, heat[0], alpha=0.0), video)  # (H, W) heat broadcasts
    with pytest.raises(ValueError, match="heat must have shape"):
        attention.overlay(video, heat[:, :3])
    with pytest.raises(ValueError, match="alpha"):
        attention.overlay(video, heat, alpha=2)
    with pytest.raises(ValueError, match="unknown colormap"):
        attention.overlay(video, heat, cmap="nope")


def test_plot_word_maps(tiny_pipe):
    with attention.capture(tiny_pipe, steps=[0]) as cap:
        out = tiny_pipe("a blue ball rolls", generator=torch.Generator().manual_seed(0), num_inference_steps=1,
                        output_type="np").frames[0]
    fig = attention.plot_word_maps(cap, video=out)
    assert len(fig.axes) == 4 * 8 and fig.axes[0].get_ylabel() == "a" and fig.axes[8].get_ylabel() == "blue"
    fig = attention.plot_word_maps(cap, words="ball", frames=[0, 15])
    assert len(fig.axes) == 2 and fig.axes[1].get_title() == "frame 15"
    with pytest.raises(ValueError, match="frames must be"):
        attention.plot_word_maps(cap, frames=[16])
    with pytest.raises(ValueError, match="not a word of the prompt"):
        attention.plot_word_maps(cap, words=["red"])


class _PieceTokenizer:
    """SentencePiece-style (T5/Wan): '\u2581' marks a word start; id 1 is </s>."""

    pieces = ["<pad>", "</s>", "\u2581a", "\u2581crim", "son", "\u2581ball", "."]
    all_special_ids = [0, 1]

    def convert_ids_to_tokens(self, ids):
        return [self.pieces[i] for i in ids]


def test_merge_words_sentencepiece():
    words = merge_words(_PieceTokenizer(), [2, 3, 4, 5, 6, 1])
    assert words == [("a", [0]), ("crimson", [1, 2]), ("ball", [3, 4])]  # the '.' joins 'ball' and is stripped
