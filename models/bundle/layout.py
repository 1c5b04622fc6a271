"""Names of a bundle's files and folders, relative to the bundle (each is described in
:mod:`auralens.models.bundle`)."""
BUNDLE_JSON = "bundle.json"  # format, name, audio settings, classes, models and what was added to it
MODEL_CARD = "MODEL_CARD.md"  # the model card
MODELS_DIR = "models"  # one folder per model: models/<id>/
NEAREST_INDEX = "nearest.json"  # in a latent model's folder: its prototypes' nearest training clips
NEAREST_DIR = "nearest"  # in a latent model's folder: those clips as FLAC
CORPUS_DIR = "corpus"  # the listening corpus
CONCEPTS_DIR = "concepts"  # the concept-testing material
EMBEDDINGS_DIR = "embeddings"  # the embedding spaces' vectors
TAGS_WEIGHTS = "tags-model.safetensors"  # in EMBEDDINGS_DIR: the tags space's two autoencoders
