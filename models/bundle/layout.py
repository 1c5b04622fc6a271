"""Names of a bundle's files and folders, relative to the bundle (each is described in
:mod:`auralens.models.bundle`)."""
from pathlib import Path

BUNDLE_JSON = "bundle.json"  # format, name, audio settings, classes, models and what was added to it
MODEL_CARD = "MODEL_CARD.md"  # the model card
MODELS_DIR = "models"  # one folder per model: models/<id>/
LATENT_WEIGHTS = "model.safetensors"  # in a latent model's folder: its weights (one stage)
CHECKPOINTS_DIR = "checkpoints"  # checkpoints/<id>/: an interrupted training run of model <id>
NEAREST_INDEX = "nearest.json"  # in a latent model's folder: its prototypes' nearest training clips
NEAREST_DIR = "nearest"  # in a latent model's folder: those clips as FLAC
CORPUS_DIR = "corpus"  # the listening corpus
BEST_CLIPS = "best_clips.json"  # in CORPUS_DIR: per model, the clips each prototype explains best
CONCEPTS_DIR = "concepts"  # the concept-testing material
EMBEDDINGS_DIR = "embeddings"  # the embedding spaces' vectors
TAGS_WEIGHTS = "tags-model.safetensors"  # in EMBEDDINGS_DIR: the tags space's two autoencoders


def weights_path(model_id: str, name: str) -> str:
    """Where weights file ``name`` of model ``model_id`` lives, relative to the bundle (as
    ``bundle.json`` records it): ``models/<id>/<name>``.

    >>> weights_path("prototypes", "filters.safetensors")
    'models/prototypes/filters.safetensors'
    """
    return f"{MODELS_DIR}/{model_id}/{name}"


def checkpoint_folder(bundle: Path, model_id: str) -> Path:
    """The folder of the checkpoint of model ``model_id`` training into the bundle at ``bundle``."""
    return Path(bundle) / CHECKPOINTS_DIR / model_id
