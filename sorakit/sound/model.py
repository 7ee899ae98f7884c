"""ImpactNet: a small temporal conv net that hears impacts in a clip's frames.

For each frame interval (frame f to f+1) it splits time into BINS and predicts, per bin, whether an
impact sound starts there, what made it (floor, wall, rim, ball-ball, net) and how hard (log of the
normal speed). Trained on world clips against the simulator's events (sorakit.training.sound).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..world.sound import SOUNDING
from .features import DIM

BINS = 8  # per frame interval: 16 ms at 8 fps
KINDS = SOUNDING


class ImpactNet(nn.Module):
    def __init__(self, in_dim: int = DIM, width: int = 96, dilations=(1, 2, 4, 1), bins: int = BINS):
        super().__init__()
        self.config = {"in_dim": in_dim, "width": width, "dilations": list(dilations), "bins": bins}
        self.bins = bins
        self.inp = nn.Conv1d(in_dim, width, 1)
        self.blocks = nn.ModuleList(nn.Conv1d(width, width, 3, padding=d, dilation=d) for d in dilations)
        self.head = nn.Conv1d(width, bins * (2 + len(KINDS)), 1)

    def forward(self, feats: torch.Tensor) -> dict[str, torch.Tensor]:
        """(B, F, DIM) -> onset logits (B, F, bins), kind logits (B, F, bins, kinds), log speed (B, F, bins)."""
        h = self.inp(feats.transpose(1, 2))
        for block in self.blocks:
            h = h + torch.nn.functional.gelu(block(h))
        out = self.head(h).transpose(1, 2)  # (B, F, bins * (2 + kinds))
        b, f, _ = out.shape
        out = out.reshape(b, f, self.bins, 2 + len(KINDS))
        return {"onset": out[..., 0], "speed": out[..., 1], "kind": out[..., 2:]}


def save(model: ImpactNet, folder: str | Path, extra: dict | None = None) -> None:
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    save_file({k: v.detach().contiguous().half() for k, v in model.state_dict().items()},
              str(folder / "model.safetensors"))
    (folder / "config.json").write_text(json.dumps({**model.config, **(extra or {})}, indent=1) + "\n")


def load(folder: str | Path) -> tuple[ImpactNet, dict]:
    from safetensors.torch import load_file

    folder = Path(folder)
    config = json.loads((folder / "config.json").read_text())
    model = ImpactNet(config["in_dim"], config["width"], tuple(config["dilations"]), config["bins"])
    model.load_state_dict({k: v.float() for k, v in load_file(str(folder / "model.safetensors")).items()})
    return model.eval(), config


def targets(onsets: list[tuple[float, str, float]], frames: int, fps: float, bins: int = BINS) -> dict[str, np.ndarray]:
    """Per-bin targets from (time, kind, speed) onsets: which bin each starts in, its kind and log speed."""
    onset = np.zeros((frames, bins), np.float32)
    kind = np.full((frames, bins), -1, np.int64)
    speed = np.zeros((frames, bins), np.float32)
    for t, k, s in onsets:
        pos = t * fps
        f = min(int(pos), frames - 1)
        b = min(int((pos - f) * bins), bins - 1)
        onset[f, b], kind[f, b], speed[f, b] = 1.0, KINDS.index(k), np.log1p(s)
    return {"onset": onset, "kind": kind, "speed": speed}
