"""sorakit.load on diffusers video pipelines: a saved tiny Wan folder loads as WanPipeline; unsupported,
pickle-only, foreign-code and offline hub inputs are refused with messages that say why."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

import sorakit
from sorakit.families import tiny


@pytest.fixture(scope="module")
def wan_folder(tmp_path_factory):
    pipe = tiny.build("wan")
    folder = tmp_path_factory.mktemp("wan") / "pipe"
    pipe.save_pretrained(folder, safe_serialization=True)
    return pipe, folder


def copy_with(folder, tmp_path, **index_changes):
    target = tmp_path / "copy"
    shutil.copytree(folder, target)
    index = json.loads((target / "model_index.json").read_text())
    (target / "model_index.json").write_text(json.dumps({**index, **index_changes}))
    return target


def test_loads_a_saved_wan_pipeline_in_the_asked_dtype(wan_folder):
    pipe, folder = wan_folder
    loaded = sorakit.load(folder, device="cpu")
    assert type(loaded).__name__ == "WanPipeline" and loaded.transformer.device.type == "cpu"
    loaded.set_progress_bar_config(disable=True)
    call = dict(output_type="np", **tiny.CALLS["wan"])
    want = pipe("a red ball", generator=torch.Generator().manual_seed(0), **call).frames
    got = loaded("a red ball", generator=torch.Generator().manual_seed(0), **call).frames
    # Same weights; frames agree to float rounding (loaded tensors may sit differently in memory).
    saved, back = pipe.transformer.state_dict(), loaded.transformer.state_dict()
    assert saved.keys() == back.keys() and all(torch.equal(saved[k], back[k]) for k in saved)
    np.testing.assert_allclose(got, want, atol=1e-6)
    half = sorakit.load(str(folder), torch_dtype=torch.bfloat16)
    assert half.transformer.dtype == torch.bfloat16


def test_unsupported_pipeline_lists_the_families(wan_folder, tmp_path):
    folder = copy_with(wan_folder[1], tmp_path, _class_name="StableDiffusionPipeline")
    with pytest.raises(ValueError, match=r"does not support.*CogVideoX.*HunyuanVideo.*Mochi"):
        sorakit.load(folder)


def test_foreign_code_is_refused(wan_folder, tmp_path):
    folder = copy_with(wan_folder[1], tmp_path, scheduler=["my_module", "MyScheduler"])
    with pytest.raises(ValueError, match="never runs code from a model folder"):
        sorakit.load(folder)


def test_pickle_only_weights_are_refused(wan_folder, tmp_path):
    folder = copy_with(wan_folder[1], tmp_path)
    for weights in folder.rglob("*.safetensors"):
        weights.rename(weights.with_suffix(".bin"))
    with pytest.raises(ValueError, match="only as pickle files.*safetensors only"):
        sorakit.load(folder)


def test_hub_id_offline_and_offload_without_gpu(monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(ValueError, match="not a local folder.*offline.*huggingface-cli download"):
        sorakit.load("Wan-AI/Wan2.1-T2V-1.3B-Diffusers")
    with pytest.raises(ValueError, match="offload=True .* needs a GPU"):
        sorakit.load("Wan-AI/Wan2.1-T2V-1.3B-Diffusers", device="cpu", offload=True)
    with pytest.raises(ValueError, match="offload must be True or False"):
        sorakit.load(offload="yes")
