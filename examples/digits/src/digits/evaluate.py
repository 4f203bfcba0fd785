"""Evaluate a trained model on one split and write its metrics as JSON.

    python3 src/digits/evaluate.py out/model --split validation --out out/metrics.json

The split is recomputed from the seed and fractions in the model's
`metadata.json`, so it is exactly the one held out at training time. The
metrics file is a JSON object of numbers, nested where it helps:

    {"accuracy": 0.97, "macro_f1": 0.97, "f1": {"0": 1.0, ..., "9": 0.95},
     "latency": {"p50_ms": 0.02, "p95_ms": 0.03}, "n_samples": 359}

Latency is measured over single-image predictions, the way `serve` predicts.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make the `digits` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from sklearn.metrics import accuracy_score, f1_score

from digits.data import Split, load_splits
from digits.model import DigitsModel, load_metadata

EVALUATION_SPLITS = ("validation", "holdout")
WARMUP_PREDICTIONS = 20
DECIMALS = 6  # enough for any gate; keeps metrics.json readable


def quality_metrics(labels: np.ndarray, predicted: np.ndarray,
                    classes: np.ndarray) -> dict[str, Any]:
    """Accuracy, F1 of each class (keyed by the digit as a string) and macro F1."""
    per_class = f1_score(labels, predicted, labels=classes, average=None, zero_division=0)
    return {
        "accuracy": round(float(accuracy_score(labels, predicted)), DECIMALS),
        "macro_f1": round(float(np.mean(per_class)), DECIMALS),
        "f1": {str(label): round(float(score), DECIMALS)
               for label, score in zip(classes, per_class)},
    }


def latency_metrics(model: DigitsModel, pixels: np.ndarray) -> dict[str, float]:
    """p50 and p95 of single-image prediction times, in milliseconds."""
    for image in pixels[:WARMUP_PREDICTIONS]:
        model.predict_proba(image[np.newaxis])
    timings = np.empty(len(pixels))
    for index, image in enumerate(pixels):
        started = time.perf_counter()
        model.predict_proba(image[np.newaxis])
        timings[index] = (time.perf_counter() - started) * 1000.0
    p50, p95 = np.percentile(timings, [50, 95])
    return {"p50_ms": round(float(p50), DECIMALS), "p95_ms": round(float(p95), DECIMALS)}


def evaluate(model: DigitsModel, split: Split) -> dict[str, Any]:
    """Every metric of the model on one split."""
    return {
        **quality_metrics(split.labels, model.predict(split.pixels), model.classes),
        "latency": latency_metrics(model, split.pixels),
        "n_samples": len(split),
    }


def held_out_split(model_dir: Path, name: str) -> Split:
    """The split `name` exactly as it was held out when the model was trained."""
    metadata = load_metadata(model_dir)
    params = metadata["params"]
    return load_splits(metadata["seed"], params["validation_fraction"],
                       params["holdout_fraction"])[name]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Evaluate a trained digits model.")
    parser.add_argument("model_dir", type=Path, help="directory written by train.py")
    parser.add_argument("--split", choices=EVALUATION_SPLITS, default="validation")
    parser.add_argument("--out", type=Path, required=True, help="metrics JSON file to write")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    model = DigitsModel.load(args.model_dir)
    metrics = evaluate(model, held_out_split(args.model_dir, args.split))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    latency = metrics["latency"]
    print(f"{args.split}: accuracy {metrics['accuracy']:.4f}, macro F1 {metrics['macro_f1']:.4f}, "
          f"latency p50 {latency['p50_ms']:.3f} ms, p95 {latency['p95_ms']:.3f} ms, "
          f"{metrics['n_samples']} images -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
