"""`sorakit eval hidden`: where does the network know where the ball is, and how fast?

Linear probes on the transformer's hidden states. World clips with known states are noised to a
level t (teacher forcing: x_t = (1 - t) x0 + t noise, text-to-video conditioning, one transformer
call per level); forward hooks on `pipe.transformer.blocks[i]` record every block's output (the
input to block 0 is the "embed" baseline). Features are pooled per frame (mean over that frame's
tokens), so a probe cannot read the position off *which* token holds the ball: the block must have
written it into the channels. A ridge regression per layer x noise level predicts each frame's ball
position (x, y) and velocity (vx, vy) in world units; R² is measured on held-out clips (split by
clip, never by frame), the ridge strength chosen by cross-validation on the training clips.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from .. import world
from ..model import condition_input
from ..probes.report import jsonable
from .batches import map_batches

SEED = 3_000_000  # held out: training streams start at 0, the monitor at 1_000_000, evaluation at 2_000_000
SCENARIOS = ("drop", "throw", "roll", "hoop")  # one ball, so "the ball" is unambiguous
TARGETS = ("position", "velocity")
ALPHAS = (1e-2, 1e-1, 1.0, 10.0, 100.0, 1e3, 1e4)


@dataclass
class HiddenProbeResult:
    r2: np.ndarray  # (layers, noise levels, targets) held-out R², targets = TARGETS
    layers: list[str]
    noise_levels: tuple[float, ...]
    targets: tuple[str, ...] = TARGETS
    n_clips: int = 0
    n_test_clips: int = 0
    alpha: np.ndarray = field(default=None, repr=False)  # (layers, noise levels) chosen ridge strength

    def best(self, target: str = "position") -> dict:
        k = self.targets.index(target)
        i, j = np.unravel_index(np.nanargmax(self.r2[..., k]), self.r2.shape[:2])
        return {"target": target, "layer": self.layers[i], "noise_level": self.noise_levels[j],
                "r2": float(self.r2[i, j, k])}

    def to_dict(self) -> dict:
        return jsonable({"layers": self.layers, "noise_levels": list(self.noise_levels), "targets": list(self.targets),
                         "r2": self.r2, "n_clips": self.n_clips, "n_test_clips": self.n_test_clips,
                         "best": [self.best(t) for t in self.targets]})

    def table(self, target: str = "position") -> str:
        """Markdown table of held-out R² for one target: rows = layers, columns = noise levels."""
        k = self.targets.index(target)
        lines = ["| layer | " + " | ".join(f"t={t:g}" for t in self.noise_levels) + " |",
                 "|---" * (len(self.noise_levels) + 1) + "|"]
        for i, layer in enumerate(self.layers):
            lines.append(f"| {layer} | " + " | ".join(f"{v:.2f}" for v in self.r2[i, :, k]) + " |")
        return "\n".join(lines)

    def plot(self):
        """Heatmaps of held-out R², layer x noise level, one per target."""
        from matplotlib.figure import Figure

        fig = Figure(figsize=(4.2 * len(self.targets), 0.45 * len(self.layers) + 1.8), layout="constrained")
        for k, target in enumerate(self.targets):
            ax = fig.add_subplot(1, len(self.targets), k + 1)
            im = ax.imshow(self.r2[..., k], vmin=0, vmax=1, cmap="viridis", aspect="auto")
            for (i, j), v in np.ndenumerate(self.r2[..., k]):
                ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=8, color="white" if v < 0.6 else "black")
            ax.set(xticks=range(len(self.noise_levels)), xticklabels=[f"{t:g}" for t in self.noise_levels],
                   yticks=range(len(self.layers)), yticklabels=self.layers, xlabel="noise level t",
                   title=f"ball {target}: held-out R²")
            fig.colorbar(im, ax=ax, shrink=0.8)
        return fig


def _clips(n: int, seed: int, pipe) -> list[world.Clip]:
    cfg = pipe.config
    return [world.sample(seed + k, scenario=SCENARIOS[k % len(SCENARIOS)], height=cfg.height, width=cfg.width,
                         num_frames=cfg.num_frames, fps=cfg.fps) for k in range(n)]


def batch_noises(pipe, clips: list[world.Clip], noise_level_seed: int, batch_size: int) -> list[torch.Tensor]:
    """The noise of each batch of `clips`, in the space the transformer denoises (pixels, or a latent
    model's latents): draws in batch order from one generator seeded `noise_level_seed`, so a batch gets
    the same noise whichever process records it."""
    gen = torch.Generator().manual_seed(noise_level_seed)
    shape = pipe.latent_shape(*clips[0].video.shape[:3])
    return [torch.randn((len(clips[i:i + batch_size]), *shape), generator=gen)
            for i in range(0, len(clips), batch_size)]


@torch.no_grad()
def record_batch(pipe, batch: list[world.Clip], layers: list[int], noise_level: float,
                 noise: torch.Tensor) -> np.ndarray:
    """(len(layers) + 1, len(batch), F, D) frame-pooled features of one batch: the input to block 0,
    then each block's output."""
    transformer = pipe.transformer
    feats: dict[int, np.ndarray] = {}
    frames = batch[0].video.shape[0]

    def pool(k):
        def hook(_module, args, output=None):
            h = (output if output is not None else args[0]).float()  # (B, L, D), tokens frame by frame
            feats[k] = h.reshape(h.shape[0], frames, -1, h.shape[-1]).mean(2).cpu().numpy()
        return hook

    handles = [transformer.blocks[0].register_forward_pre_hook(pool(0))]
    handles += [transformer.blocks[i].register_forward_hook(pool(k + 1)) for k, i in enumerate(layers)]
    device, dtype = pipe._execution_device, transformer.dtype
    try:
        # what the transformer denoises: the clips themselves, or a latent model's latents of them
        x0 = pipe.encode(torch.stack([world.to_model_space(c.video) for c in batch])).to(device)
        x_t = (1 - noise_level) * x0 + noise_level * noise.to(device)
        mask = torch.zeros(len(batch), 1, *x0.shape[2:3], 1, 1, device=device)
        context = pipe.encode_text([c.caption for c in batch], device).to(dtype)
        timestep = torch.full((len(batch),), noise_level * 1000.0, device=device, dtype=dtype)
        hidden = condition_input(x_t, torch.zeros_like(x0), mask).to(dtype)
        transformer(hidden, timestep, context, return_dict=False)
    finally:
        for h in handles:
            h.remove()
    return np.stack([feats[k] for k in range(len(layers) + 1)])


def record(pipe, clips: list[world.Clip], layers: list[int], noise_level: float, seed: int = 0,
           batch_size: int = 16) -> np.ndarray:
    """(len(layers) + 1, n_clips, F, D) frame-pooled features: the input to block 0, then each block's output."""
    noises = batch_noises(pipe, clips, seed, batch_size)
    return np.concatenate([record_batch(pipe, clips[b * batch_size:(b + 1) * batch_size], layers, noise_level, noise)
                           for b, noise in enumerate(noises)], axis=1)


def _ridge(x: np.ndarray, y: np.ndarray, alpha: float):
    mean, std = x.mean(0), x.std(0) + 1e-6
    xs = (x - mean) / std
    ym = y.mean(0)
    w = np.linalg.solve(xs.T @ xs + alpha * np.eye(xs.shape[1]), xs.T @ (y - ym))
    return lambda z: ((z - mean) / std) @ w + ym


def _r2(pred: np.ndarray, y: np.ndarray) -> np.ndarray:
    return 1 - ((pred - y) ** 2).sum(0) / np.maximum(((y - y.mean(0)) ** 2).sum(0), 1e-12)


def fit_probe(feats: np.ndarray, targets: np.ndarray, train: np.ndarray, test: np.ndarray, folds: int = 4):
    """feats (clips, F, D), targets (clips, F, K) -> (held-out R² per target column, chosen alpha)."""
    def rows(a, idx):
        return a[idx].reshape(-1, a.shape[-1])

    chunks = np.array_split(train, folds)
    def cv_score(alpha):
        scores = []
        for k in range(folds):
            tr = np.concatenate([c for j, c in enumerate(chunks) if j != k])
            model = _ridge(rows(feats, tr), rows(targets, tr), alpha)
            scores.append(_r2(model(rows(feats, chunks[k])), rows(targets, chunks[k])).mean())
        return np.mean(scores)

    alpha = max(ALPHAS, key=cv_score)
    model = _ridge(rows(feats, train), rows(targets, train), alpha)
    return _r2(model(rows(feats, test)), rows(targets, test)), alpha


def run(pipe, n_clips: int = 64, layers=None, noise_levels=(0.1, 0.3, 0.5, 0.7, 0.9), seed: int = SEED,
        test_fraction: float = 0.25, batch_size: int = 16, progress: bool = True) -> HiddenProbeResult:
    """Probe every block (or `layers`, block indices) at each noise level; see the module docstring."""
    n_blocks = len(pipe.transformer.blocks)
    layers = list(range(n_blocks)) if layers is None else [int(i) for i in layers]
    if not layers or any(not 0 <= i < n_blocks for i in layers):
        raise ValueError(f"layers must be block indices in [0, {n_blocks - 1}], got {layers}")
    levels = tuple(float(t) for t in noise_levels)
    if not levels or any(not 0 <= t <= 1 for t in levels):
        raise ValueError(f"noise_levels must be numbers in [0, 1], got {noise_levels}")
    n_test = int(round(n_clips * test_fraction))
    if n_clips < 8 or not 2 <= n_test <= n_clips - 4:
        raise ValueError(f"need n_clips >= 8 with at least 2 held-out and 4 training clips, got n_clips={n_clips}, "
                         f"test_fraction={test_fraction}")
    clips = _clips(n_clips, seed, pipe)
    targets = np.stack([np.concatenate([c.states.pos[:, 0], c.states.vel[:, 0]], -1) for c in clips])  # (N, F, 4)
    order = np.random.default_rng(seed).permutation(n_clips)
    test, train = order[:n_test], order[n_test:]
    names = ["embed"] + [f"block {i}" for i in layers]
    # The transformer calls split between accelerate's processes, one (level, batch) each; the
    # probes need every clip's features, so every process fits them all (a small share of the time).
    n_batches = -(-n_clips // batch_size)
    noises = [batch_noises(pipe, clips, seed + j, batch_size) for j in range(len(levels))]

    def recorded(job: int) -> list[np.ndarray]:
        j, b = divmod(job, n_batches)
        batch = clips[b * batch_size:(b + 1) * batch_size]
        return [record_batch(pipe, batch, layers, levels[j], noises[j][b])]

    parts = map_batches(pipe, recorded, len(levels) * n_batches, "hidden probes", progress)
    r2 = np.full((len(names), len(levels), len(TARGETS)), np.nan)
    alpha = np.full((len(names), len(levels)), np.nan)
    for j in range(len(levels)):
        feats = np.concatenate(parts[j * n_batches:(j + 1) * n_batches], axis=1)
        for i in range(len(names)):
            scores, alpha[i, j] = fit_probe(feats[i], targets, train, test)
            r2[i, j] = [scores[:2].mean(), scores[2:].mean()]
    return HiddenProbeResult(r2, names, levels, TARGETS, n_clips, n_test, alpha)
