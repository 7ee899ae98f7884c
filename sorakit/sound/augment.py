"""World clips that show what generated clips get wrong, with the sound the world really makes: training
augmentation for ImpactNet (sorakit.training.sound).

A video model draws balls that run into and through each other, and a ball at rest whose outline
wobbles from frame to frame; the sound model, trained on rendered world clips only, hears the first
as a collision and the second as bounces. Here the world shows both with the right (silent) labels:

- `passing`: a scene of two or more balls simulated with ball-ball collisions switched off, so the
  picture shows balls overlapping and the simulator records no collision (nor any sound of one);
- `wobbly`: a scene rendered with every ball's centre and radius jittered by a fraction of a pixel each
  frame (and its radius drawn up to 15 % off); the simulator's events, which the picture does not
  change, stay the labels.

The world's default clips are untouched: both only use the simulator's and renderer's options.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..world.render import Camera, render
from ..world.scene import sample_scene
from ..world.simulate import Trajectory, simulate

AUGMENTS = ("passing", "wobbly")
WOBBLE_PX = (0.1, 0.6)  # per clip, the jitter's standard deviation in pixels (generated balls: radius std 0.05-1.2 px)
DRAWN_SIZE = (0.85, 1.15)  # per clip, the drawn radius over the simulated one


def _jittered(scene, traj: Trajectory, height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """The clip rendered frame by frame with each ball's centre and radius jittered (pixels -> world units)."""
    sigma = rng.uniform(*WOBBLE_PX) / Camera(height, width).scale
    frames, n = traj.pos.shape[:2]
    pos = traj.pos + rng.normal(0.0, sigma, traj.pos.shape)
    # drawn a little larger or smaller than simulated, as generated balls bounce short of or into the floor
    scale = rng.uniform(*DRAWN_SIZE)
    radius = scale * np.array([b.radius for b in scene.balls]) + rng.normal(0.0, sigma, (frames, n))
    video = []
    for f in range(frames):
        balls = tuple(replace(b, radius=float(max(r, 0.05))) for b, r in zip(scene.balls, radius[f]))
        one = Trajectory(traj.t[f:f + 1], pos[f:f + 1], traj.vel[f:f + 1])
        video.append(render(replace(scene, balls=balls), one, height, width)[0][0])
    return np.stack(video)


def augmented_clip(seed: int, kind: str, *, size: int = 32, fps: float = 8.0,
                   num_frames: int = 16) -> tuple[np.ndarray, list, tuple]:
    """(video (F, size, size, 3), the simulator's events, the scene's balls) of an augmented world clip."""
    if kind not in AUGMENTS:
        raise ValueError(f"unknown augmentation {kind!r}; allowed: {', '.join(AUGMENTS)}")
    rng = np.random.default_rng([int(seed), AUGMENTS.index(kind)])
    if kind == "passing":  # only scenes with more than one ball can show balls passing through each other
        scenario = ("collide", "several")[int(rng.integers(2))]
        scene = sample_scene(int(seed), scenario=scenario, num_frames=num_frames, fps=fps)
        traj = simulate(scene, ball_collisions=False)
        return render(scene, traj, size, size)[0], traj.events, scene.balls
    scene = sample_scene(int(seed), num_frames=num_frames, fps=fps)
    traj = simulate(scene)
    return _jittered(scene, traj, size, size, rng), traj.events, scene.balls
