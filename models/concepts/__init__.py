"""Musical concepts in a classifier: TCAV with significance tests, and unsupervised discovery.

:func:`run_tcav` tests user-built concepts (sets of clips) against a model's classes at any
named layer; :func:`hear_concept` lists the clips furthest along a concept's direction;
:func:`discover_concepts` factorises a layer's activations into concepts with NMF.
"""
from .cache import ConceptCache, model_digest, tensor_digest
from .clips import common_length, fit_length
from .hooks import LayerError, class_scores, describe_layers, record_layers, replace_layer
from .tcav import TCAVConfig, TCAVResult, hear_concept, run_tcav

__all__ = [
    "ConceptCache", "model_digest", "tensor_digest", "common_length", "fit_length", "LayerError",
    "class_scores", "describe_layers", "record_layers", "replace_layer", "TCAVConfig", "TCAVResult",
    "hear_concept", "run_tcav",
]
