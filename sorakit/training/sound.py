"""Train the sound model (ImpactNet) on world clips against the simulator's impact events.

Minutes on one CPU thread: clips are drawn without rendering sound (audio=False), reduced to frame
features, and the net learns per time bin whether an impact starts, its kind and its speed.

    python -m sorakit.training.sound --clips 8000 --epochs 30 --out sorakit/weights/sound
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from tqdm.auto import tqdm

from .. import world
from ..sound.augment import AUGMENTS, augmented_clip
from ..sound.contacts import contact_dim
from ..sound.features import DIM, clip_features, mirrored
from ..sound.model import BINS, ImpactNet, impact_onsets, save, targets

TRAIN_SEEDS = 0  # validation draws from VAL_SEEDS, the documented evaluation from sorakit.eval's own range
VAL_SEEDS = 500_000
AUGMENT_SEEDS = 200_000  # augmented clips (sound/augment.py) draw their scenes from here


def example(seed: int, fps: float = 8.0, num_frames: int = 16, size: int = 32,
            contacts: bool = True, augment: str | None = None) -> dict[str, np.ndarray]:
    """One clip's features and per-bin targets; `augment` ("passing", "wobbly") draws it from sound/augment.py."""
    if augment is None:
        clip = world.sample(int(seed), height=size, width=size, fps=fps, num_frames=num_frames, audio=False)
        video, events, balls = clip.video, clip.events, clip.scene.balls
    else:
        video, events, balls = augmented_clip(seed, augment, size=size, fps=fps, num_frames=num_frames)
    onsets = impact_onsets(events, balls=balls)
    return {"feats": clip_features(video, fps, contacts), **targets(onsets, num_frames, fps)}


def dataset(seeds, **kw) -> dict[str, torch.Tensor]:
    items = [example(s, **kw) for s in tqdm(seeds, desc=f"{kw.get('augment') or 'world'} clips", leave=False)]
    return {k: torch.from_numpy(np.stack([it[k] for it in items])) for k in items[0]}


def loss_of(out: dict, batch: dict) -> torch.Tensor:
    pos = batch["onset"] > 0
    onset = torch.nn.functional.binary_cross_entropy_with_logits(
        out["onset"], batch["onset"], pos_weight=torch.tensor(10.0))
    if not pos.any():
        return onset
    kind = torch.nn.functional.cross_entropy(out["kind"][pos], batch["kind"][pos])
    speed = torch.nn.functional.mse_loss(out["speed"][pos], batch["speed"][pos])
    loss = onset + 0.3 * kind + 0.3 * speed
    if "restitution" in out:  # restitution in (0, 1): a logit against the balls' own
        loss = loss + torch.nn.functional.binary_cross_entropy_with_logits(
            out["restitution"][pos], batch["restitution"][pos])
    return loss


def train(data: dict, epochs: int = 30, batch: int = 64, lr: float = 3e-3, seed: int = 0,
          mirror: bool = True, material: bool = True) -> ImpactNet:
    """`mirror`: each example is left-right mirrored with probability 1/2 per step (impacts keep their timing).
    The features' width says whether they hold contact features; `material` adds the restitution head."""
    torch.manual_seed(seed)
    in_dim = data["feats"].shape[-1]
    if in_dim not in (DIM, DIM + contact_dim(BINS)):
        raise ValueError(f"features must be {DIM} (motion profiles) or {DIM + contact_dim(BINS)} wide "
                         f"(with contact features), got {in_dim}")
    model = ImpactNet(in_dim, contacts=in_dim > DIM, material=material)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    n = len(data["feats"])
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=epochs * ((n + batch - 1) // batch))
    for _ in tqdm(range(epochs), desc="epochs"):
        order = torch.randperm(n)
        for i in range(0, n, batch):
            idx = order[i:i + batch]
            feats = data["feats"][idx]
            if mirror:
                flip = torch.rand(len(idx)) < 0.5
                feats = torch.where(flip[:, None, None], mirrored(feats), feats)
            loss = loss_of(model(feats), {k: v[idx] for k, v in data.items()})
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    return model.eval()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=8000)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--out", default="sorakit/weights/sound")
    parser.add_argument("--no-contacts", dest="contacts", action="store_false",
                        help="motion profiles only (the previous model's input)")
    parser.add_argument("--no-material", dest="material", action="store_false", help="no restitution head")
    for kind in AUGMENTS:
        parser.add_argument(f"--{kind}", type=int, default=0, metavar="N",
                            help=f"add N {kind!r} clips (sorakit.sound.augment), silent where the picture lies")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    start = time.perf_counter()
    data = dataset(range(TRAIN_SEEDS, TRAIN_SEEDS + args.clips), contacts=args.contacts)
    augmented = {kind: getattr(args, kind) for kind in AUGMENTS if getattr(args, kind)}
    for kind, n in augmented.items():
        extra = dataset(range(AUGMENT_SEEDS, AUGMENT_SEEDS + n), contacts=args.contacts, augment=kind)
        data = {k: torch.cat([data[k], extra[k]]) for k in data}
    made = time.perf_counter()
    model = train(data, args.epochs, material=args.material)
    done = time.perf_counter()
    save(model, args.out, {"clips": args.clips, "epochs": args.epochs, "data_seconds": round(made - start, 1),
                           "train_seconds": round(done - made, 1), "threads": 1, "mirror": True,
                           **({"augmented": augmented} if augmented else {})})
    print(f"data {made - start:.0f} s, training {done - made:.0f} s -> {args.out}")


if __name__ == "__main__":
    main()
