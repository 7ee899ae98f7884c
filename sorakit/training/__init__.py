"""`sorakit train`: flow-matching training of the spacetime DiT on the world."""
from .cli import cli_main
from .loop import TrainConfig, train, training_loss

__all__ = ["TrainConfig", "cli_main", "train", "training_loss"]
