"""Embedding spaces: in what respect two sounds are alike, and nearest neighbours in each.

Spaces (one module each, each with a batched ``embed``): :mod:`.timbre` (MFCC statistics),
:mod:`.pitch` (binary constant-Q peak pattern as pitch-class and register profiles),
:mod:`.learned` (the prototype model's encoder), :mod:`.profile` (``prototype-profile``: errors
under all prototypes), :mod:`.tags` (audio and words aligned, COALA-style) and :mod:`.aisfx`
(a pretrained sound-effects encoder, when installed). :mod:`.registry` lists them,
:mod:`.embedder` gives raw vectors of clips in each, :mod:`.standardise` turns those into unit
vectors, :mod:`.index` searches them with FAISS, :mod:`.quality` has the measures and
:mod:`.measure` applies them to a bundle's spaces, :mod:`.build` builds the spaces into a bundle,
:mod:`.stored` reads and writes them there, and :mod:`.query` answers neighbour queries.
"""
from .build import build_embeddings
from .index import NeighbourIndex, recall_at_k
from .query import EmbeddingSpaces, Neighbour, load_spaces
from .registry import SPACES
from .tags import UnknownWords

__all__ = ["NeighbourIndex", "recall_at_k", "SPACES", "EmbeddingSpaces", "Neighbour", "build_embeddings",
           "load_spaces", "UnknownWords"]
