"""The bundle's format: ``bundle.json`` (its models and what was added to it) and the models'
weights, loaded as the kind of each model says.

Weights are safetensors only: loading a bundle never unpickles and never runs code from it.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..atomic import write_bytes_atomic
from ..audio import AudioConfig
from ..kinds import UnknownKind, kind_named
from ..weights import WeightsError, read_weights
from .layout import BUNDLE_JSON

BUNDLE_FORMAT = 1
DEFAULT_BUNDLE = Path(__file__).resolve().parents[1] / "bundles" / "orchestra16"  # the bundle shipped in the package


class BundleError(ValueError):
    """The bundle is missing, malformed, or does not hold what was asked for."""


@dataclass
class ModelEntry:
    """One model of a bundle. ``kind`` names the model family (a key of
    :data:`auralens.models.kinds.KINDS`)."""

    id: str
    kind: str
    config: dict
    weights: str  # path relative to the bundle
    stages: dict[str, str] = field(default_factory=dict)  # stage -> weights path
    training: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)


@dataclass
class Bundle:
    """A bundle as its ``bundle.json`` describes it; ``extra`` holds the records of what was added
    to it (``evaluations``, ``corpus``, ``concepts``, ``embeddings``) as they are stored."""

    path: Path
    name: str
    audio: AudioConfig
    classes: list[str]
    models: dict[str, ModelEntry]
    version: str = "1"
    extra: dict = field(default_factory=dict)

    def entry(self, model_id: str | None = None) -> ModelEntry:
        """The model ``model_id``, or the bundle's first model when None."""
        if not self.models:
            raise BundleError(f"The bundle at {self.path} holds no model yet.")
        if model_id is None:
            return next(iter(self.models.values()))
        if model_id not in self.models:
            raise BundleError(f"The bundle has no model '{model_id}'; it has: {', '.join(self.models)}.")
        return self.models[model_id]

    def load_model(self, model_id: str | None = None, stage: str | None = None, device="cpu"):
        """Build the model and load its weights (final, or those saved at ``stage``), in eval mode."""
        entry = self.entry(model_id)
        try:
            kind = kind_named(entry.kind)
        except UnknownKind as err:
            raise BundleError(f"Model '{entry.id}': {err}") from None
        rel = entry.weights if stage is None else entry.stages.get(stage)
        if rel is None:
            raise BundleError(f"Model '{entry.id}' has no weights saved at stage '{stage}'.")
        try:
            model = kind.build(entry.config)
            model.load_state_dict(read_weights(self.path / rel))  # float16 weights load as float32
        except WeightsError as err:
            raise BundleError(str(err)) from None
        except (TypeError, RuntimeError) as err:
            raise BundleError(f"Model '{entry.id}' of the bundle at {self.path} does not match this "
                              f"version's model ({str(err).splitlines()[0]}).") from None
        if stage is not None and hasattr(model, "stage") and list(entry.stages.values()).count(rel) > 1:
            model.stage = stage  # stages that share one file differ in the transformations switched on
        return model.to(device).eval()

    def to_json(self) -> dict:
        return {
            "format": BUNDLE_FORMAT, "name": self.name, "version": self.version,
            "audio": self.audio.to_dict(), "classes": self.classes,
            "models": [asdict(m) for m in self.models.values()], **self.extra,
        }

    def save(self) -> None:
        """Write ``bundle.json`` atomically (one-space indentation: readable, and a third smaller)."""
        self.path.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(self.path / BUNDLE_JSON, json.dumps(self.to_json(), indent=1).encode())


def load_bundle(path: str | Path | None = None) -> Bundle:
    """Read ``bundle.json`` of the bundle at ``path`` (default: the bundle shipped in the package)."""
    path = Path(path) if path is not None else DEFAULT_BUNDLE
    meta = path / BUNDLE_JSON
    if not meta.is_file():
        raise BundleError(f"No bundle at {path} (there is no bundle.json).")
    try:
        d = json.loads(meta.read_text())
        if d.get("format") != BUNDLE_FORMAT:
            raise BundleError(f"The bundle at {path} has format {d.get('format')}; this version reads {BUNDLE_FORMAT}.")
        known = {"format", "name", "version", "audio", "classes", "models"}
        return Bundle(
            path=path, name=d["name"], version=str(d.get("version", "1")),
            audio=AudioConfig.from_dict(d["audio"]), classes=list(d["classes"]),
            models={m["id"]: ModelEntry(**m) for m in d.get("models", [])},
            extra={k: v for k, v in d.items() if k not in known},
        )
    except (KeyError, TypeError, json.JSONDecodeError) as err:
        raise BundleError(f"The bundle at {path} is malformed ({err}).") from None


def new_or_existing_bundle(path: str | Path, name: str, audio: AudioConfig, classes: list[str]) -> Bundle:
    """Open the bundle at ``path`` if there is one (checking it agrees), else start a new one."""
    path = Path(path)
    if (path / BUNDLE_JSON).is_file():
        bundle = load_bundle(path)
        if bundle.audio != audio:
            raise BundleError(f"The bundle at {path} uses other audio settings; write to a new folder.")
        if bundle.classes != classes:
            raise BundleError(f"The bundle at {path} has other classes ({', '.join(bundle.classes)}); "
                              "write to a new folder.")
        return bundle
    return Bundle(path=path, name=name, audio=audio, classes=classes, models={})
