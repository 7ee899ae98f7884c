"""Published checkpoints as meta-device configs: attention.estimate plans their real token grids and depths."""
from __future__ import annotations

import pytest

from sorakit import attention
from sorakit.families import checkpoints

# Token grids (latent frames / patch, rows, columns) and block counts from the model cards and papers.
PUBLISHED = {
    "Wan2.1-T2V-1.3B": ((21, 30, 52), 30),
    "CogVideoX-2b": ((13, 30, 45), 30),
    "HunyuanVideo": ((16, 34, 60), 20 + 40),
    "LTX-Video": ((16, 15, 22), 28),
    "Mochi-1": ((15, 30, 53), 48),
}


def test_every_checkpoint_is_listed():
    assert sorted(checkpoints.CHECKPOINTS) == sorted(PUBLISHED)


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_meta_pipeline_plans_the_published_grid_without_weights(name):
    pipe = checkpoints.meta_pipeline(name)
    assert {p.device.type for p in pipe.transformer.parameters()} == {"meta"}
    plan = attention.estimate(pipe, **checkpoints.CHECKPOINTS[name].call, text_tokens=20)
    grid, layers = PUBLISHED[name]
    assert plan.grid == grid
    assert plan.layers == layers


def test_wan_plan_is_refused_whole_and_fits_at_the_default_layers_and_steps():
    call = checkpoints.CHECKPOINTS["Wan2.1-T2V-1.3B"].call
    pipe = checkpoints.meta_pipeline("Wan2.1-T2V-1.3B")
    whole = attention.estimate(pipe, **call, text_tokens=20)
    # word maps + text mass, float32: 32,760 tokens x (20 + 1) x 30 layers x 50 steps
    assert whole.nbytes == 4 * 32760 * 21 * 30 * 50 > attention.DEFAULT_BUDGET
    part = attention.estimate(pipe, **call, text_tokens=20, layers=range(10, 20), steps=range(33, 50))
    assert part.nbytes == 4 * 32760 * 21 * 10 * 17 < attention.DEFAULT_BUDGET


def test_unknown_checkpoint_names_the_known_ones():
    with pytest.raises(ValueError, match="Wan2.1-T2V-1.3B"):
        checkpoints.meta_pipeline("Wan2.1-T2V-14B")
