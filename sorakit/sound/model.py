"""ImpactNet: a small temporal conv net that hears impacts in a clip's frames.

For each frame interval (frame f to f+1) it splits time into BINS and predicts, per bin, whether an
impact sound starts there, what made it (floor, wall, rim, ball-ball, net), how hard (log of the
normal speed) and, with `material`, the restitution of the balls that hit (a bouncy ball rings, a
dead one thuds). Trained on world clips against the simulator's events (sorakit.training.sound).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..world.sound import MERGE, SOUNDING
from .features import DIM

BINS = 8  # per frame interval: 16 ms at 8 fps
KINDS = SOUNDING


class ImpactNet(nn.Module):
    """`contacts`: the input adds the tracked balls' contact-time features (contacts.py) to the motion
    profiles; `material`: a restitution logit per bin besides onset, speed and kind."""

    def __init__(self, in_dim: int = DIM, width: int = 96, dilations=(1, 2, 4, 1), bins: int = BINS,
                 contacts: bool = False, material: bool = False):
        super().__init__()
        self.config = {"in_dim": in_dim, "width": width, "dilations": list(dilations), "bins": bins,
                       "contacts": contacts, "material": material}
        self.bins, self.material = bins, material
        self.inp = nn.Conv1d(in_dim, width, 1)
        self.blocks = nn.ModuleList(nn.Conv1d(width, width, 3, padding=d, dilation=d) for d in dilations)
        self.head = nn.Conv1d(width, bins * (self._scalars + len(KINDS)), 1)

    @property
    def _scalars(self) -> int:
        return 3 if self.material else 2

    def forward(self, feats: torch.Tensor) -> dict[str, torch.Tensor]:
        """(B, F, in_dim) -> onset logits (B, F, bins), kind logits (B, F, bins, kinds), log speed (B, F, bins)
        and, with `material`, restitution logits (B, F, bins)."""
        h = self.inp(feats.transpose(1, 2))
        for block in self.blocks:
            h = h + torch.nn.functional.gelu(block(h))
        out = self.head(h).transpose(1, 2)  # (B, F, bins * (scalars + kinds))
        b, f, _ = out.shape
        out = out.reshape(b, f, self.bins, self._scalars + len(KINDS))
        heads = {"onset": out[..., 0], "speed": out[..., 1], "kind": out[..., self._scalars:]}
        if self.material:
            heads["restitution"] = out[..., 2]
        return heads


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
    model = ImpactNet(config["in_dim"], config["width"], tuple(config["dilations"]), config["bins"],
                      config.get("contacts", False), config.get("material", False))
    model.load_state_dict({k: v.float() for k, v in load_file(str(folder / "model.safetensors")).items()})
    return model.eval(), config


def impact_onsets(events, merge: float = MERGE, balls=None) -> list[tuple]:
    """(time, kind, speed) per heard onset: events within `merge` of a group's start are one, named
    by the fastest among them (the loudest). Given the scene's `balls`, a fourth value: the mean
    restitution of the balls in that loudest event (what sets its sound's decay)."""
    groups: list[list] = []
    for e in sorted((e for e in events if e.kind in KINDS), key=lambda e: e.time):
        if groups and e.time - groups[-1][0].time <= merge:
            groups[-1].append(e)
        else:
            groups.append([e])
    onsets = []
    for g in groups:
        loudest = max(g, key=lambda e: e.speed)
        onset = (g[0].time, loudest.kind, loudest.speed)
        if balls is not None:
            onset += (float(np.mean([balls[i].restitution for i in loudest.objects])),)
        onsets.append(onset)
    return onsets


def targets(onsets, frames: int, fps: float, bins: int = BINS) -> dict[str, np.ndarray]:
    """Per-bin targets from (time, kind, speed[, restitution]) onsets: which bin each starts in, its kind,
    log speed and restitution (0.75, the synthesis' default, where none is given)."""
    onset = np.zeros((frames, bins), np.float32)
    kind = np.full((frames, bins), -1, np.int64)
    speed = np.zeros((frames, bins), np.float32)
    restitution = np.full((frames, bins), 0.75, np.float32)
    for t, k, s, *e in onsets:
        pos = t * fps
        f = min(int(pos), frames - 1)
        b = min(int((pos - f) * bins), bins - 1)
        onset[f, b], kind[f, b], speed[f, b] = 1.0, KINDS.index(k), np.log1p(s)
        restitution[f, b] = e[0] if e else 0.75
    return {"onset": onset, "kind": kind, "speed": speed, "restitution": restitution}
