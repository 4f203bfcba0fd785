import json

import numpy as np
import pytest

from digits.evaluate import evaluate, held_out_split, main as evaluate_main, quality_metrics

DIGITS = [str(d) for d in range(10)]


def leaves(metrics: dict, prefix: str = "") -> dict[str, object]:
    """Flatten nested metrics the way Tauon names them: latency.p95_ms."""
    flat = {}
    for key, value in metrics.items():
        if isinstance(value, dict):
            flat.update(leaves(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def test_metrics_have_the_documented_names_and_shape(model, model_dir):
    metrics = evaluate(model, held_out_split(model_dir, "validation"))
    assert set(metrics) == {"accuracy", "macro_f1", "f1", "latency", "n_samples"}
    assert list(metrics["f1"]) == DIGITS
    assert set(metrics["latency"]) == {"p50_ms", "p95_ms"}
    flat = leaves(metrics)
    assert all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in flat.values())
    assert 0 <= metrics["latency"]["p50_ms"] <= metrics["latency"]["p95_ms"]
    assert metrics["n_samples"] == 359


def test_quality_metrics_on_known_predictions():
    metrics = quality_metrics(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1]), np.array([0, 1]))
    assert metrics["accuracy"] == 0.75
    assert metrics["f1"] == {"0": pytest.approx(2 / 3), "1": pytest.approx(0.8)}
    assert metrics["macro_f1"] == pytest.approx((2 / 3 + 0.8) / 2)


def test_a_class_never_predicted_has_f1_zero():
    metrics = quality_metrics(np.array([0, 1]), np.array([0, 0]), np.array([0, 1]))
    assert metrics["f1"]["1"] == 0.0


def test_cli_writes_metrics_json(model_dir, tmp_path):
    out = tmp_path / "out" / "metrics.json"
    assert evaluate_main([str(model_dir), "--split", "holdout", "--out", str(out)]) == 0
    metrics = json.loads(out.read_text())
    assert metrics["n_samples"] == 360
    assert metrics["accuracy"] > 0.9


def test_cli_refuses_an_unknown_split(model_dir, tmp_path):
    with pytest.raises(SystemExit):
        evaluate_main([str(model_dir), "--split", "train", "--out", str(tmp_path / "m.json")])
