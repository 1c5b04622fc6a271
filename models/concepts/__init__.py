"""Musical concepts in a classifier: TCAV with significance tests, and unsupervised discovery.

:func:`run_tcav` tests user-built concepts (sets of clips) against a model's classes at any
named layer; :func:`hear_concept` lists the clips furthest along a concept's direction;
:func:`discover_concepts` factorises a layer's activations into concepts with NMF.
"""
from .cache import ConceptCache, model_digest, tensor_digest
from .clips import common_length, fit_length
from .discovery import DiscoveryConfig, DiscoveryResult, discover_concepts
from .hooks import LayerError, class_scores, describe_layers, record_layers, replace_layer
from .tcav import TCAVConfig, TCAVResult, hear_concept, run_tcav

__all__ = [
    "ConceptCache", "model_digest", "tensor_digest", "common_length", "fit_length", "LayerError",
    "class_scores", "describe_layers", "record_layers", "replace_layer", "TCAVConfig", "TCAVResult",
    "hear_concept", "run_tcav", "DiscoveryConfig", "DiscoveryResult", "discover_concepts",
    "DEFAULT_TCAV_LAYERS", "DEFAULT_DISCOVERY_LAYERS",
]

# Layers of the spectral prototype model that work (names for ``get_submodule``):
# TCAV: any encoder block output; CAV accuracies for the built-in concepts are highest in the
# middle of the encoder, and the bottleneck is smallest. Discovery needs ReLU outputs (>= 0).
DEFAULT_TCAV_LAYERS = ("encoder.down.2", "encoder.levels.1", "encoder.last")
DEFAULT_DISCOVERY_LAYERS = ("encoder.levels.2.1", "encoder.levels.3.1", "encoder.levels.1.1")
