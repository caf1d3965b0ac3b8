"""Temperature scaling recovers a known over-confidence and never changes a prediction."""

from __future__ import annotations

import json

import numpy as np
import pytest

from namelang.training.calibration import fit_temperature, nll


def test_recovers_the_scale_of_overconfident_logits():
    rng = np.random.default_rng(0)
    true_logits = rng.normal(0, 2, size=(20000, 5))
    probs = np.exp(true_logits) / np.exp(true_logits).sum(axis=1, keepdims=True)
    labels = np.array([rng.choice(5, p=p) for p in probs])
    fitted = fit_temperature(true_logits * 3.0, labels)
    assert fitted == pytest.approx(3.0, rel=0.08)
    assert nll(true_logits * 3.0, labels, fitted) < nll(true_logits * 3.0, labels, 1.0)


def test_stored_and_applied(tiny_trained):
    from namelang import Classifier

    meta = json.loads((tiny_trained / "models" / "tiny" / "model.json").read_text())
    assert 0.25 <= meta["temperature"] <= 8.0
    clf = Classifier.load("tiny", home=tiny_trained)
    names = ["Tanaka", "Ivanov", "Haddad"]
    calibrated = clf.predict_proba(names)
    clf.temperature = 1.0
    raw = clf.predict_proba(names)
    assert (calibrated.argmax(axis=1) == raw.argmax(axis=1)).all()
    if meta["temperature"] != 1.0:
        assert not np.allclose(calibrated, raw)
