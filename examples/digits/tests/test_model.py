import json

import numpy as np
import pytest

from digits.data import load_splits
from digits.model import WEIGHTS_FILE, DigitsModel, TrainingParams, fit_mlp
from digits.train import degrade_requested, main as train_main, train_model


def accuracy(model: DigitsModel, split) -> float:
    return float(np.mean(model.predict(split.pixels) == split.labels))


def validation(params: TrainingParams):
    splits = load_splits(params.seed, params.validation_fraction, params.holdout_fraction)
    return splits["validation"]


def test_trained_model_beats_the_threshold_on_validation(model, params):
    assert accuracy(model, validation(params)) >= 0.93


def test_degraded_model_is_clearly_worse(params):
    worse, metadata = train_model(params, params.seed, degrade=True)
    assert metadata["degraded"] and metadata["data"]["train"] == 30
    assert accuracy(worse, validation(params)) < 0.9


def test_numpy_prediction_matches_sklearn(params):
    train = load_splits(params.seed, 0.2, 0.2)["train"].per_class(10)
    estimator = fit_mlp(train, params, seed=0)
    ours = DigitsModel.from_estimator(estimator)
    pixels = validation(params).pixels
    np.testing.assert_allclose(ours.predict_proba(pixels),
                               estimator.predict_proba(pixels / 16.0), atol=1e-12)


def test_save_and_load_round_trip_byte_for_byte(model, tmp_path):
    first = model.save(tmp_path / "a")
    second = model.save(tmp_path / "b")
    assert first.read_bytes() == second.read_bytes()
    loaded = DigitsModel.load(tmp_path / "a")
    pixels = np.full((3, 64), 8.0)
    np.testing.assert_array_equal(loaded.predict_proba(pixels), model.predict_proba(pixels))


def test_predict_rejects_wrong_shapes(model):
    with pytest.raises(ValueError, match="shape"):
        model.predict(np.zeros((1, 63)))


def test_train_cli_writes_weights_and_metadata(tmp_path):
    out = tmp_path / "model"
    assert train_main(["--out", str(out), "--worse", "--seed", "3"]) == 0
    metadata = json.loads((out / "metadata.json").read_text())
    assert metadata["seed"] == 3 and metadata["degraded"] is True
    assert set(metadata) >= {"params", "data", "versions", "training", "files"}
    assert metadata["files"][WEIGHTS_FILE].startswith("sha256:")
    assert metadata["data"]["total"] == 1797


@pytest.mark.parametrize("value, expected", [
    ({}, False), ({"DIGITS_DEGRADE": ""}, False), ({"DIGITS_DEGRADE": "0"}, False),
    ({"DIGITS_DEGRADE": "1"}, True), ({"DIGITS_DEGRADE": "yes"}, True),
])
def test_degrade_switch_from_the_environment(value, expected):
    assert degrade_requested(False, value) is expected
    assert degrade_requested(True, value) is True


@pytest.mark.parametrize("change, message", [
    ({"hidden_unit": 64}, "unknown keys"),
    ({"alpha": "0.1"}, "'alpha' must be a number"),
    ({"max_iter": 1.5}, "'max_iter' must be an integer"),
    ({"seed": True}, "'seed' must be an integer"),
])
def test_params_file_is_checked(params, tmp_path, change, message):
    path = tmp_path / "params.json"
    path.write_text(json.dumps({**params.to_dict(), **change}))
    with pytest.raises(ValueError, match=message):
        TrainingParams.from_file(path)
