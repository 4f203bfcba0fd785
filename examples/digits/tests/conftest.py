"""Shared fixtures: the real params file and one model trained once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from digits.model import DigitsModel, TrainingParams
from digits.train import train_model, write_model

PARAMS_FILE = Path(__file__).resolve().parents[1] / "params.json"


@pytest.fixture(scope="session")
def params() -> TrainingParams:
    return TrainingParams.from_file(PARAMS_FILE)


@pytest.fixture(scope="session")
def trained(params: TrainingParams) -> tuple[DigitsModel, dict]:
    """The model the pipeline trains (about a second), with its metadata."""
    return train_model(params, params.seed, degrade=False)


@pytest.fixture(scope="session")
def model(trained: tuple[DigitsModel, dict]) -> DigitsModel:
    return trained[0]


@pytest.fixture(scope="session")
def model_dir(trained: tuple[DigitsModel, dict], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model directory as train.py writes it."""
    directory = tmp_path_factory.mktemp("model")
    write_model(*trained, directory)
    return directory
