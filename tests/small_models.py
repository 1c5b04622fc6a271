"""Small models and training settings that run in seconds on a CPU, shared by the model tests."""
from __future__ import annotations

import torch

from auralens.models.latent.train import LatentTrainConfig
from auralens.models.prototypes.model import PrototypeConfig, PrototypeModel

# A latent prototype model a few times smaller than the default one.
LATENT_SMALL = dict(latent_dim=16, channels=48, decoder_channels=48)
# Training for 84 clips: no decoder class term (it needs more data than this to pay off; tested on its own)
LATENT_FAST = LatentTrainConfig(batch_size=8, lr=3e-3, ae_epochs=40, ae_patience=40, cycle_weight=0.0,
                                proto_epochs=150, proto_patience=150, proto_lr=1e-2, seed=0)


def trained_looking_model() -> PrototypeModel:
    """An untrained spectral prototype model (3 classes x 2 prototypes, at the last stage) with
    non-trivial transformations: its prototypes and output heads randomised, seed 0."""
    torch.manual_seed(0)
    model = PrototypeModel(PrototypeConfig(n_classes=3, protos_per_class=2))
    with torch.no_grad():
        model.prototypes.uniform_(0.2, 0.6)
        for decoder in model.decoders.values():
            decoder.head[-1].weight.normal_(std=0.05)
    model.stage = "filters"
    return model.eval()
