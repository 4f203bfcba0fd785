"""The digits data set and its deterministic train/validation/holdout split.

The data is sklearn's bundled copy of the UCI 8x8 handwritten digits: 1,797
images of 64 pixels with values 0 to 16. Nothing is downloaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

N_PIXELS = 64
MAX_PIXEL = 16
SPLITS = ("train", "validation", "holdout")


@dataclass(frozen=True)
class Split:
    """Images of one split: `pixels` is (n, 64) with values 0-16, `labels` is (n,)."""

    pixels: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    def per_class(self, count: int) -> Split:
        """The first `count` images of each class, in their original order."""
        keep = np.concatenate([np.flatnonzero(self.labels == label)[:count]
                               for label in np.unique(self.labels)])
        keep.sort()
        return Split(self.pixels[keep], self.labels[keep])


@lru_cache(maxsize=1)
def load_dataset() -> Split:
    """All 1,797 images, read-only (the arrays are shared between callers)."""
    pixels, labels = load_digits(return_X_y=True)
    pixels = pixels.astype(np.float64)
    labels = labels.astype(np.int64)
    pixels.setflags(write=False)
    labels.setflags(write=False)
    return Split(pixels, labels)


def split_indices(labels: np.ndarray, seed: int, validation_fraction: float,
                  holdout_fraction: float) -> dict[str, np.ndarray]:
    """Stratified, seeded indices of each split; sorted, disjoint, covering all images."""
    if not (0 < validation_fraction and 0 < holdout_fraction
            and validation_fraction + holdout_fraction < 1):
        raise ValueError("validation_fraction and holdout_fraction must be positive "
                         "and add up to less than 1")
    everything = np.arange(len(labels))
    held_out = validation_fraction + holdout_fraction
    train, rest = train_test_split(everything, test_size=held_out,
                                   random_state=seed, stratify=labels)
    validation, holdout = train_test_split(rest, test_size=holdout_fraction / held_out,
                                           random_state=seed, stratify=labels[rest])
    return {name: np.sort(indices)
            for name, indices in zip(SPLITS, (train, validation, holdout))}


def load_splits(seed: int, validation_fraction: float,
                holdout_fraction: float) -> dict[str, Split]:
    """The data set split into `train`, `validation` and `holdout`."""
    data = load_dataset()
    indices = split_indices(data.labels, seed, validation_fraction, holdout_fraction)
    return {name: Split(data.pixels[index], data.labels[index])
            for name, index in indices.items()}
