"""Embedding spaces: in what respect two sounds are alike, and nearest neighbours in each.

Spaces (one module each, each with a batched ``embed``): :mod:`.timbre` (MFCC statistics),
:mod:`.pitch` (binary constant-Q peak pattern as pitch-class and register profiles),
:mod:`.learned` (the prototype model's encoder), :mod:`.profile` (``prototype-profile``: errors
under all prototypes), :mod:`.tags` (audio and words aligned, COALA-style) and :mod:`.aisfx`
(a pretrained sound-effects encoder, when installed). :mod:`.index` searches them with FAISS,
:mod:`.quality` measures them, :mod:`.spaces` stores them in a bundle and answers queries.
"""
from .index import NeighbourIndex, recall_at_k
from .spaces import SPACES, EmbeddingSpaces, Neighbour, build_embeddings, load_spaces
from .tags import UnknownWords

__all__ = ["NeighbourIndex", "recall_at_k", "SPACES", "EmbeddingSpaces", "Neighbour", "build_embeddings",
           "load_spaces", "UnknownWords"]
