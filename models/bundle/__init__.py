"""Bundles: a folder holding trained models, their audio settings, provenance and metrics, and
what the app shows beside them (a listening corpus, concept sets, embedding spaces).

Every file and folder a bundle can hold (names in :mod:`.layout`)::

    bundle.json                          format, name, version, audio settings, classes, models (each
                                         an :class:`ModelEntry`: id, kind, config, weights, stages,
                                         training, metrics) and the records of what was added:
                                         "evaluations" (figures on further data, by model and name),
                                         "corpus", "concepts", "embeddings"         (:mod:`.format`)
    models/<id>/<stage>.safetensors      a spectral prototype model's weights at each curriculum stage
                                         (raw, gain, pitch, filters: the last are its final weights)
    models/<id>/model.safetensors        a latent prototype model's weights (one stage)
    models/<id>/nearest.json             a latent model's prototypes' nearest training clips, indexed
    models/<id>/nearest/p<k>.flac        the nearest training clip of prototype k  (:mod:`.nearest`)
    corpus/index.csv                     the listening corpus: id, label, split, path, tag columns
    corpus/audio/<id>.flac               its clips, 16-bit FLAC at the bundle's sample rate
    corpus/best_clips.json               per model, the clips each prototype explains best  (:mod:`.corpus`)
    concepts/sets.safetensors            concept and target sets as uint8 log-mels
    concepts/index.json                  what each set holds                               (:mod:`.concepts`)
    embeddings/<space>.safetensors       a space's unit vectors of the corpus clips and its
                                         standardisation (:mod:`auralens.models.embeddings`)
    embeddings/tags-model.safetensors    the tags space's two autoencoders
    MODEL_CARD.md                        data, training, metrics, embedding spaces, limits  (:mod:`.card`)
    checkpoints/<id>/                    left by an interrupted training run, which the same command
                                         resumes from (:mod:`auralens.models.training`); removed when
                                         the model is stored

Weights are safetensors only: loading a bundle never unpickles and never runs code from it.
"""
from .card import write_embeddings_section, write_model_card
from .concepts import add_concepts, read_concept_sets
from .corpus import CorpusClip, add_corpus, best_clips, read_corpus, refresh_best_clips
from .format import BUNDLE_FORMAT, DEFAULT_BUNDLE, Bundle, BundleError, ModelEntry, load_bundle, new_or_existing_bundle
from .layout import CORPUS_DIR, EMBEDDINGS_DIR, LATENT_WEIGHTS, TAGS_WEIGHTS, checkpoint_folder, weights_path
from .nearest import NearestClip, nearest_clip_audio, read_nearest_clips, write_nearest_clips

__all__ = [
    "write_embeddings_section", "write_model_card",
    "add_concepts", "read_concept_sets",
    "CorpusClip", "add_corpus", "best_clips", "read_corpus", "refresh_best_clips",
    "BUNDLE_FORMAT", "DEFAULT_BUNDLE", "Bundle", "BundleError", "ModelEntry", "load_bundle", "new_or_existing_bundle",
    "CORPUS_DIR", "EMBEDDINGS_DIR", "LATENT_WEIGHTS", "TAGS_WEIGHTS", "checkpoint_folder", "weights_path",
    "NearestClip", "nearest_clip_audio", "read_nearest_clips", "write_nearest_clips",
]
