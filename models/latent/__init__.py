"""Latent prototypes: prototypes in an autoencoder's embedding space, heard through its decoder."""
from .analysis import Timeline, timeline
from .model import KIND, LatentConfig, LatentPrototypeModel, Output
from .sonify import (NearestClip, nearest_clip_audio, nearest_clip_log_mel, prototype_audio, prototype_log_mel,
                     read_nearest_clips)
from .train import LatentTrainConfig, train_latent

__all__ = ["Timeline", "timeline", "KIND", "LatentConfig", "LatentPrototypeModel", "Output", "NearestClip", "nearest_clip_audio",
           "nearest_clip_log_mel", "prototype_audio", "prototype_log_mel", "read_nearest_clips",
           "LatentTrainConfig", "train_latent"]
