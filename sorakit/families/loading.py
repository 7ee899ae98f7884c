"""Loading a diffusers video pipeline of a supported family from a local folder or a hub id.

Loading never runs code from the folder (no custom pipelines, no trust_remote_code, components only
from diffusers and transformers) and never unpickles (use_safetensors=True; a folder whose weights
are only .bin/.pt/.pth/.ckpt is refused before anything is read).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import torch

from . import PIPELINES, family_of_pipeline, supported_list

PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl")
LIBRARIES = ("diffusers", "transformers")
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def read_index(path: Path) -> dict:
    try:
        index = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} is not a readable model_index.json: {exc}") from None
    if not isinstance(index, dict) or not isinstance(index.get("_class_name"), str):
        raise ValueError(f"{path} must be a JSON object with a _class_name (the diffusers pipeline class)")
    return index


def pipeline_class(index: dict, where) -> type:
    """The diffusers class named by model_index.json, when it belongs to a supported family."""
    name = index["_class_name"]
    if family_of_pipeline(name) is None:
        raise ValueError(f"{where} holds a {name}, which sorakit does not support; supported pipelines: "
                         f"{supported_list()}")
    import diffusers

    cls = getattr(diffusers, name, None)
    if cls is None:
        raise ValueError(f"{where} holds a {name}, which this diffusers ({diffusers.__version__}) does not have: "
                         "upgrade diffusers")
    return cls


def check_components(index: dict, where) -> None:
    """Every component comes from diffusers or transformers: nothing names a module of the folder."""
    for name, spec in index.items():
        if name.startswith("_") or not isinstance(spec, list) or spec == [None, None]:
            continue
        library = spec[0] if spec else None
        if library not in LIBRARIES:
            raise ValueError(f"{where}: component {name!r} comes from {library!r}; sorakit loads only components "
                             f"of {' and '.join(LIBRARIES)} and never runs code from a model folder")


def check_safetensors(root: Path) -> None:
    """Refuse a folder whose weights exist only in pickle formats (loading them would unpickle)."""
    files = [p for p in root.rglob("*") if p.is_file()]
    pickles = [p for p in files if p.suffix in PICKLE_SUFFIXES]
    if pickles and not any(p.suffix == ".safetensors" for p in files):
        names = ", ".join(str(p.relative_to(root)) for p in pickles[:3])
        raise ValueError(f"{root} has weights only as pickle files ({names}); sorakit loads safetensors only, "
                         "since unpickling can run code. Convert them (diffusers' save_pretrained with "
                         "safe_serialization=True) or download the model's .safetensors files")


def fetch_index(repo_id: str) -> Path:
    """model_index.json of a hub repository (in the local cache or downloaded)."""
    from huggingface_hub import constants, hf_hub_download

    hint = (f"download it where you have a connection (`huggingface-cli download {repo_id}`) and pass the "
            "folder, or a local folder path")
    if constants.HF_HUB_OFFLINE:
        raise ValueError(f"{repo_id!r} is not a local folder, and the Hugging Face Hub is offline here "
                         f"(HF_HUB_OFFLINE): {hint}")
    try:
        return Path(hf_hub_download(repo_id, "model_index.json"))
    except Exception as exc:  # network, auth, missing repo: one clear message either way
        raise ValueError(f"could not fetch {repo_id!r} from the Hugging Face Hub ({type(exc).__name__}): "
                         f"{hint}") from None


def load_pipeline(path_or_id, device: torch.device, torch_dtype: torch.dtype | None, offload: bool,
                  components: dict):
    """A supported diffusers pipeline from a folder or hub id, on `device` (or offloaded to it)."""
    root = Path(path_or_id)
    local = root.is_dir()
    if not local and not (isinstance(path_or_id, str) and HUB_ID.match(path_or_id)):
        raise ValueError(f"no model directory at {root}: pass a folder written by save_pretrained or sorakit "
                         f"train, or a hub id like 'Wan-AI/Wan2.1-T2V-1.3B-Diffusers'")
    index_path = root / "model_index.json" if local else fetch_index(path_or_id)
    index = read_index(index_path)
    cls = pipeline_class(index, path_or_id)
    check_components(index, path_or_id)
    if local:
        check_safetensors(root)
    # diffusers now names the argument `dtype` (`torch_dtype` is deprecated); sorakit.load keeps torch_dtype
    kwargs = {"dtype": torch_dtype} if torch_dtype is not None else {}
    pipe = cls.from_pretrained(str(path_or_id), use_safetensors=True, **kwargs, **components)
    if offload:
        pipe.enable_model_cpu_offload(device=device)
    else:
        pipe.to(device)
    return pipe


__all__ = ["PIPELINES", "check_safetensors", "load_pipeline"]
