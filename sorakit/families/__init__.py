"""The diffusers video pipelines sorakit supports, by family: what `sorakit.load` accepts and what
`attention.capture` knows how to read. Builders of tiny offline versions live in
`families.tiny`; published checkpoints' configs (for planning capture storage) in `families.checkpoints`."""
from __future__ import annotations

# family -> diffusers pipeline classes (the `_class_name` in a folder's model_index.json)
PIPELINES: dict[str, tuple[str, ...]] = {
    "Wan 2.1 / 2.2": ("WanPipeline", "WanImageToVideoPipeline", "WanVideoToVideoPipeline"),
    "WanVACE": ("WanVACEPipeline",),
    "SkyReels-V2": ("SkyReelsV2Pipeline", "SkyReelsV2ImageToVideoPipeline", "SkyReelsV2DiffusionForcingPipeline",
                    "SkyReelsV2DiffusionForcingImageToVideoPipeline", "SkyReelsV2DiffusionForcingVideoToVideoPipeline"),
    "LTX-Video": ("LTXPipeline", "LTXImageToVideoPipeline", "LTXConditionPipeline"),
    "CogVideoX": ("CogVideoXPipeline", "CogVideoXImageToVideoPipeline", "CogVideoXVideoToVideoPipeline"),
    "HunyuanVideo": ("HunyuanVideoPipeline",),
    "Mochi": ("MochiPipeline",),
}
SORAKIT_PIPELINE = "SpacetimePipeline"


def family_of_pipeline(class_name: str) -> str | None:
    """The family a diffusers pipeline class belongs to, or None."""
    return next((family for family, names in PIPELINES.items() if class_name in names), None)


def supported_list() -> str:
    """One line per family, for error messages."""
    return "; ".join(f"{family}: {', '.join(names)}" for family, names in PIPELINES.items())
