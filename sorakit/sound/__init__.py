"""Sound for clips: `add_sound(video) -> (audio, sample_rate)`.

Learned impact timing + procedural synthesis: a small temporal conv net (ImpactNet, trained on world
clips against the simulator's events) says when and how hard things hit; the world's modal impact
synthesis (sorakit.world.sound) makes the sound.
"""
from .model import ImpactNet
from .soundtrack import add_sound, predict_impacts

__all__ = ["ImpactNet", "add_sound", "predict_impacts"]
