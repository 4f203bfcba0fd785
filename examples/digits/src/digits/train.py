"""Train the digits classifier and write a model directory.

    python3 src/digits/train.py --out out/model [--params params.json] [--seed N] [--worse]

The model directory holds `weights.npz` (numpy arrays, no pickle) and
`metadata.json` (parameters, data counts, library versions, seed, digests).

`--worse`, or the environment variable `DIGITS_DEGRADE=1`, trains a
deliberately bad model: 3 images per digit instead of ~1,080 images, with
heavy regularization. Its accuracy falls to about 0.8, well below the
pipeline's `accuracy >= 0.95` gate.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make the `digits` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import sklearn

from digits.data import Split, load_splits
from digits.model import (METADATA_FILE, MODEL_KIND, DigitsModel, TrainingParams,
                          file_digest, fit_mlp)

DEGRADE_ENV = "DIGITS_DEGRADE"
DEGRADED_IMAGES_PER_CLASS = 3
DEGRADED_ALPHA = 3.0


def degrade_requested(flag: bool, environ: Mapping[str, str]) -> bool:
    """`--worse`, or DIGITS_DEGRADE set to anything but empty or "0"."""
    return flag or environ.get(DEGRADE_ENV, "") not in ("", "0")


def training_setup(params: TrainingParams, train: Split,
                   degrade: bool) -> tuple[TrainingParams, Split]:
    """The parameters and images actually trained on: the degraded ones if asked."""
    if not degrade:
        return params, train
    return (dataclasses.replace(params, alpha=DEGRADED_ALPHA),
            train.per_class(DEGRADED_IMAGES_PER_CLASS))


def train_model(params: TrainingParams, seed: int,
                degrade: bool = False) -> tuple[DigitsModel, dict[str, Any]]:
    """Train on the seed's train split; returns the model and its metadata."""
    splits = load_splits(seed, params.validation_fraction, params.holdout_fraction)
    used_params, train = training_setup(params, splits["train"], degrade)
    started = time.perf_counter()
    estimator = fit_mlp(train, used_params, seed)
    seconds = time.perf_counter() - started
    model = DigitsModel.from_estimator(estimator)
    metadata = {
        "kind": MODEL_KIND,
        "seed": seed,
        "degraded": degrade,
        "params": used_params.to_dict(),
        "data": {"dataset": "sklearn.datasets.load_digits",
                 "total": sum(len(split) for split in splits.values()),
                 "train": len(train),
                 "validation": len(splits["validation"]),
                 "holdout": len(splits["holdout"])},
        "training": {"iterations": int(estimator.n_iter_),
                     "converged": int(estimator.n_iter_) < used_params.max_iter,
                     "train_accuracy": float(np.mean(model.predict(train.pixels) == train.labels))},
        "versions": {"python": platform.python_version(), "numpy": np.__version__,
                     "sklearn": sklearn.__version__},
    }
    print(f"trained in {seconds:.2f}s: {len(train)} images, "
          f"{metadata['training']['iterations']} iterations"
          f"{' (DEGRADED on purpose)' if degrade else ''}")
    return model, metadata


def write_model(model: DigitsModel, metadata: dict[str, Any], out: Path) -> None:
    """Save the weights, then `metadata.json` with the weights' digest."""
    weights = model.save(out)
    metadata = {**metadata, "files": {weights.name: file_digest(weights)}}
    (out / METADATA_FILE).write_text(json.dumps(metadata, indent=2, sort_keys=True) + "\n",
                                     encoding="utf-8")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Train the digits classifier.")
    parser.add_argument("--out", type=Path, required=True, help="model directory to write")
    parser.add_argument("--params", type=Path, default=Path("params.json"),
                        help="training parameters (default: params.json)")
    parser.add_argument("--seed", type=int, help="override the seed of the params file")
    parser.add_argument("--worse", action="store_true",
                        help=f"train a deliberately bad model (same as {DEGRADE_ENV}=1)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    params = TrainingParams.from_file(args.params)
    seed = params.seed if args.seed is None else args.seed
    model, metadata = train_model(params, seed, degrade_requested(args.worse, os.environ))
    write_model(model, metadata, args.out)
    print(f"model written to {args.out}: train accuracy "
          f"{metadata['training']['train_accuracy']:.4f}, seed {seed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
