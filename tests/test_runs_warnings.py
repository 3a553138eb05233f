"""The baselines behind a finished run's warnings, checked against scikit-learn."""
from __future__ import annotations

import numpy as np
import torch
from sklearn.dummy import DummyClassifier
from sklearn.metrics import mean_squared_error

from core.models.kinds import Kind
from core.training.config import TrainConfig
from core.training.data import prepare
from core.training.sanity import chance_accuracy, mean_image_mse, run_warnings


def test_the_baselines_match_scikit_learn(settings) -> None:
    data = prepare(TrainConfig(dataset="digits"), torch.device("cpu"))
    y_train, y_val = data.y_train.numpy(), data.y_val.numpy()
    dummy = DummyClassifier(strategy="most_frequent").fit(np.zeros((len(y_val), 1)), y_val)
    assert np.isclose(chance_accuracy(data.y_val), dummy.score(np.zeros((len(y_val), 1)), y_val))
    x_train = data.x_train.numpy().reshape(len(y_train), -1) / 255.0
    x_val = data.x_val.numpy().reshape(len(y_val), -1) / 255.0
    expected = mean_squared_error(x_val, np.broadcast_to(x_train.mean(0), x_val.shape))
    assert np.isclose(mean_image_mse(data), expected, rtol=1e-5)


def test_warnings_only_for_runs_at_the_baseline(settings) -> None:
    data = prepare(TrainConfig(dataset="digits"), torch.device("cpu"))
    chance, mse = chance_accuracy(data.y_val), mean_image_mse(data)
    assert run_warnings(Kind.CLASSIFIER, {"val_acc": chance}, data)
    assert not run_warnings(Kind.CLASSIFIER, {"val_acc": 0.9}, data)
    assert run_warnings(Kind.AUTOENCODER, {"val_mse": mse * 1.01}, data)
    assert not run_warnings(Kind.VAE, {"val_mse": mse * 0.5}, data)
    assert run_warnings(Kind.CLASSIFIER, None, data) == []
