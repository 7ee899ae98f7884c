"""The physics world the model learns from and every probe measures against.

scene -> simulate -> render (+ sound) -> captions; `sample()` bundles them into a Clip with ground truth,
`track()` parses any clip back into per-object tracks.
"""
from .captions import mirror_caption
from .clip import Clip, States, clip_of, sample
from .dataset import WorldClips, to_model_space, with_mirrors
from .parse_floor import parse_floor
from .preview import preview
from .render import Camera, render
from .scene import (
    BOUNCINESS,
    COLORS,
    DIRECTIONS,
    GRAVITY,
    OUTCOMES,
    SCENARIOS,
    SIZES,
    Ball,
    Hoop,
    Scene,
    sample_scene,
    with_balls,
)
from .simulate import Event, Trajectory, simulate
from .sound import SAMPLE_RATE, Impact, Sound, onset_times, render_impacts, synthesize
from .track import Track, coverage, track

__all__ = [
    "Ball", "BOUNCINESS", "COLORS", "Camera", "Clip", "DIRECTIONS", "Event", "GRAVITY", "Hoop", "OUTCOMES",
    "Impact", "SAMPLE_RATE", "SCENARIOS", "SIZES", "Scene", "Sound", "States", "Track", "Trajectory", "WorldClips",
    "clip_of", "coverage", "onset_times", "parse_floor", "preview", "render", "render_impacts", "sample",
    "sample_scene", "simulate", "synthesize", "to_model_space", "track", "with_balls",
]
