"""The spectral prototype model: prototypes you can hear, transformed to explain each clip."""
from .fit import fit_transforms
from .model import Output, PrototypeConfig, PrototypeModel
from .train import TrainConfig, train_prototypes
from .transforms import STAGES, SpectralTables, Transforms, frame_errors, reconstruct

__all__ = ["Output", "PrototypeConfig", "PrototypeModel", "TrainConfig", "train_prototypes", "STAGES",
           "SpectralTables", "Transforms", "fit_transforms", "frame_errors", "reconstruct"]
