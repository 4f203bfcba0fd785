"""The classifier: a one-hidden-layer perceptron trained with sklearn.

sklearn does the training. The trained weights are saved as plain numpy
arrays (`weights.npz`, loaded without pickle) and prediction is a few lines
of numpy, so serving needs neither sklearn nor pickle.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.neural_network import MLPClassifier

from digits.data import MAX_PIXEL, N_PIXELS, Split

WEIGHTS_FILE = "weights.npz"
METADATA_FILE = "metadata.json"
MODEL_KIND = "mlp-relu-softmax"


@dataclass(frozen=True)
class TrainingParams:
    """Training parameters, read from `params.json`."""

    seed: int
    validation_fraction: float
    holdout_fraction: float
    hidden_units: int
    alpha: float
    max_iter: int

    @classmethod
    def from_file(cls, path: str | Path) -> TrainingParams:
        """Read and check a params file; unknown, missing or mistyped keys are errors."""
        values = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(values, dict):
            raise ValueError(f"{path}: expected a JSON object")
        fields = {field.name: field.type for field in dataclasses.fields(cls)}
        unknown = sorted(set(values) - set(fields))
        missing = sorted(set(fields) - set(values))
        if unknown or missing:
            raise ValueError(f"{path}: unknown keys {unknown}, missing keys {missing}")
        for name, kind in fields.items():  # kind is the annotation: "int" or "float"
            value = values[name]
            expected = (int,) if kind == "int" else (int, float)
            if isinstance(value, bool) or not isinstance(value, expected):
                wanted = "an integer" if kind == "int" else "a number"
                raise ValueError(f"{path}: '{name}' must be {wanted}, got {value!r}")
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def fit_mlp(split: Split, params: TrainingParams, seed: int) -> MLPClassifier:
    """Train sklearn's MLP on a split; deterministic for a given seed."""
    estimator = MLPClassifier(hidden_layer_sizes=(params.hidden_units,), activation="relu",
                              solver="lbfgs", alpha=params.alpha, max_iter=params.max_iter,
                              random_state=seed)
    return estimator.fit(scale(split.pixels), split.labels)


def scale(pixels: np.ndarray) -> np.ndarray:
    """Map pixel values 0-16 to 0-1, the model's input range."""
    return np.asarray(pixels, dtype=np.float64) / MAX_PIXEL


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class DigitsModel:
    """Weights of a trained network, with numpy-only prediction (thread-safe)."""

    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    classes: np.ndarray

    @classmethod
    def from_estimator(cls, estimator: MLPClassifier) -> DigitsModel:
        if estimator.activation != "relu" or estimator.out_activation_ != "softmax":
            raise ValueError("only relu hidden layers with a softmax output are supported")
        return cls(tuple(estimator.coefs_), tuple(estimator.intercepts_),
                   np.asarray(estimator.classes_))

    def predict_proba(self, pixels: np.ndarray) -> np.ndarray:
        """Class probabilities, (n, 10), for raw pixels of shape (n, 64)."""
        pixels = np.asarray(pixels, dtype=np.float64)
        if pixels.ndim != 2 or pixels.shape[1] != N_PIXELS:
            raise ValueError(f"expected pixels of shape (n, {N_PIXELS}), got {pixels.shape}")
        activations = scale(pixels)
        for weights, bias in zip(self.weights[:-1], self.biases[:-1]):
            activations = np.maximum(activations @ weights + bias, 0.0)
        return softmax(activations @ self.weights[-1] + self.biases[-1])

    def predict(self, pixels: np.ndarray) -> np.ndarray:
        """The most likely digit of each image."""
        return self.classes[self.predict_proba(pixels).argmax(axis=1)]

    def save(self, directory: str | Path) -> Path:
        """Write `weights.npz` into `directory` (created if needed); returns its path."""
        arrays = {"classes": self.classes}
        for index, (weights, bias) in enumerate(zip(self.weights, self.biases)):
            arrays[f"weights_{index}"] = weights
            arrays[f"bias_{index}"] = bias
        path = Path(directory) / WEIGHTS_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        write_npz(path, arrays)
        return path

    @classmethod
    def load(cls, directory: str | Path) -> DigitsModel:
        """Read `weights.npz` from a model directory (never unpickles anything)."""
        with np.load(Path(directory) / WEIGHTS_FILE, allow_pickle=False) as archive:
            layers = sum(1 for name in archive.files if name.startswith("weights_"))
            if layers == 0:
                raise ValueError(f"{directory}/{WEIGHTS_FILE} holds no layers")
            return cls(tuple(archive[f"weights_{i}"] for i in range(layers)),
                       tuple(archive[f"bias_{i}"] for i in range(layers)),
                       archive["classes"])


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Like `np.savez`, but byte-for-byte reproducible: no timestamps in the archive.

    The same weights always give the same file, so the same training run gives
    the same content digest in an artifact store or model registry.
    """
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, array in arrays.items():
            entry = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            with archive.open(entry, "w") as member:
                np.lib.format.write_array(member, np.ascontiguousarray(array),
                                          allow_pickle=False)


def file_digest(path: str | Path) -> str:
    """`sha256:<hex>` of a file's content."""
    return "sha256:" + hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load_metadata(directory: str | Path) -> dict[str, Any]:
    """The `metadata.json` that `train` wrote next to the weights."""
    return json.loads((Path(directory) / METADATA_FILE).read_text(encoding="utf-8"))
