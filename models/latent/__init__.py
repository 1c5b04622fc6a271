"""Latent prototypes: prototypes in an autoencoder's embedding space, heard through its decoder."""
from .analysis import Timeline, timeline
from .model import KIND, LatentConfig, LatentPrototypeModel, Output
from .sonify import prototype_audio, prototype_log_mel
from .train import LatentTrainConfig, train_latent

__all__ = ["Timeline", "timeline", "KIND", "LatentConfig", "LatentPrototypeModel", "Output", "prototype_audio",
           "prototype_log_mel", "LatentTrainConfig", "train_latent"]
