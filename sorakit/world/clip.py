"""A Clip: a scene simulated, rendered and captioned, with all its ground truth."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .captions import caption
from .render import render
from .scene import Scene, sample_scene
from .simulate import Event, Trajectory, simulate
from .sound import SAMPLE_RATE, Sound, onset_times, synthesize


@dataclass
class States:
    """Per-frame ground truth of every ball."""

    t: np.ndarray  # (F,)
    pos: np.ndarray  # (F, n, 2) world units
    vel: np.ndarray  # (F, n, 2) world units / s
    radius: np.ndarray  # (n,)
    color: list[str]
    rgb: np.ndarray  # (n, 3)
    visible: np.ndarray  # (F, n) bool: some of the ball is in the image


@dataclass
class Clip:
    video: np.ndarray  # (F, H, W, 3) float32 in [0, 1]
    caption: str
    states: States
    masks: np.ndarray  # (F, n, H, W) bool
    events: list[Event]
    scene: Scene
    trajectory: Trajectory
    audio: np.ndarray | None = None  # (S, 2) float32 stereo in [-1, 1] at sample_rate; None if audio=False
    sounds: list[Sound] = field(default_factory=list)  # what the audio holds, with simulator onset times
    sample_rate: int | None = None

    @property
    def fps(self) -> float:
        return self.scene.fps

    @property
    def onsets(self) -> np.ndarray:
        """Seconds at which a sound starts (sounds within 50 ms merged): the A/V-sync ground truth."""
        return onset_times(self.sounds)


def _check_size(height, width):
    for name, v in (("height", height), ("width", width)):
        if not isinstance(v, (int, np.integer)) or not 8 <= v <= 512:
            raise ValueError(f"{name} must be an integer in [8, 512], got {v!r}")


def sample(seed: int = 0, *, height: int = 32, width: int = 32, audio: bool = True, sound_phrase: bool = False,
           **constraints) -> Clip:
    """A clip drawn from `seed`; constraints (scenario, color, size, direction, ...) pin its facts.

    `audio=False` skips the soundtrack (clip.audio is None): frames, events and captions are the same.
    `sound_phrase=True` ends the caption with what is heard ("with a loud bang", "silently"); nothing
    else about the clip changes.
    """
    _check_size(height, width)
    scene = sample_scene(seed, **constraints)
    return clip_of(scene, height, width, audio=audio, sound_phrase=sound_phrase)


def clip_of(scene: Scene, height: int = 32, width: int = 32, *, audio: bool = True,
            sound_phrase: bool = False) -> Clip:
    if not isinstance(audio, (bool, np.bool_)):
        raise ValueError(f"audio must be True or False, got {audio!r}")
    traj = simulate(scene)
    video, masks = render(scene, traj, height, width)
    n = len(scene.balls)
    states = States(
        t=traj.t, pos=traj.pos, vel=traj.vel,
        radius=np.array([b.radius for b in scene.balls]),
        color=[b.color for b in scene.balls],
        rgb=np.array([b.rgb for b in scene.balls], np.float32),
        visible=masks.reshape(len(video), n, -1).any(-1),
    )
    clip = Clip(video, caption(scene, traj, sound_phrase=sound_phrase), states, masks, traj.events, scene, traj)
    if audio:
        clip.audio, clip.sounds = synthesize(scene, traj, SAMPLE_RATE)
        clip.sample_rate = SAMPLE_RATE
    return clip
