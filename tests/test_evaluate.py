"""`namelang evaluate` and `namelang confusion`, checked against scikit-learn on the same predictions."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import assert_user_error
from sklearn import metrics as skm

from namelang import Classifier
from namelang.data.split import read_split
from namelang.evaluation import expected_calibration_error, most_confused

KEYS = {
    "accuracy",
    "macro_f1",
    "weighted_f1",
    "balanced_accuracy",
    "top3_accuracy",
    "log_loss",
    "ece",
    "n",
    "per_label",
    "model",
}


def test_json_report_matches_sklearn(tiny_trained, invoke):
    result = invoke("evaluate", "--home", tiny_trained, "--split", "val")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)  # JSON is the default when stdout is not a terminal
    assert KEYS <= set(report)
    clf = Classifier.load("tiny", home=tiny_trained)
    names, labels, _ = read_split(tiny_trained, "val")
    probs = clf.predict_proba(names)
    y = np.array([clf.labels.index(lb) for lb in labels])
    pred = probs.argmax(axis=1)
    assert report["n"] == len(names) and report["model"] == "tiny"
    assert report["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert report["macro_f1"] == pytest.approx(skm.f1_score(y, pred, average="macro"))
    assert report["weighted_f1"] == pytest.approx(skm.f1_score(y, pred, average="weighted"))
    assert report["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, pred))
    assert report["top3_accuracy"] == pytest.approx(skm.top_k_accuracy_score(y, probs, k=3, labels=range(5)))
    assert report["log_loss"] == pytest.approx(skm.log_loss(y, probs, labels=range(5)), rel=1e-5)
    for i, label in enumerate(clf.labels):
        row = report["per_label"][label]
        assert row["support"] == int((y == i).sum())
        assert row["recall"] == pytest.approx(skm.recall_score(y, pred, labels=[i], average="micro"))
    # The majority class of the tiny train split is its largest label.
    counts = clf.card.data.train_label_counts
    majority = max(counts, key=counts.get)
    assert report["majority_accuracy"] == pytest.approx(np.mean(np.array(labels) == majority))


@pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_numpy_metrics_equal_sklearns(seed):
    """evaluate's figures come from numpy (scikit-learn is not in the base install): the same numbers,
    with labels absent from the split, labels never predicted, and tied probabilities."""
    from namelang.evaluation import Scored, confusion, macro_f1, metrics

    rng = np.random.default_rng(seed)
    n_labels, n = 6, 200
    y = rng.choice([0, 1, 2, 4], size=n)  # labels 3 and 5 absent from the split
    probs = rng.dirichlet(np.ones(n_labels), size=n)
    probs[:20] = 1.0 / n_labels  # ties
    probs[20:40, 5] = 0.0  # probability 0: clipped in the log-loss
    probs /= probs.sum(axis=1, keepdims=True)
    labels = [f"L{i}" for i in range(n_labels)]
    scored = Scored("m", labels, ["x"] * n, y, probs, 0, "L0")
    got, p, everything = metrics(scored), probs.argmax(axis=1), list(range(n_labels))
    present = sorted(set(y.tolist()))
    assert got["accuracy"] == pytest.approx(skm.accuracy_score(y, p))
    assert got["macro_f1"] == pytest.approx(
        skm.f1_score(y, p, labels=present, average="macro", zero_division=0)
    )
    assert got["weighted_f1"] == pytest.approx(
        skm.f1_score(y, p, labels=present, average="weighted", zero_division=0)
    )
    assert got["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, p))
    assert macro_f1(y, p, n_labels) == pytest.approx(skm.f1_score(y, p, average="macro"))  # the ensemble's
    assert got["top3_accuracy"] == pytest.approx(skm.top_k_accuracy_score(y, probs, k=3, labels=everything))
    assert got["log_loss"] == pytest.approx(skm.log_loss(y, probs, labels=everything))
    report = skm.classification_report(
        y, p, labels=everything, target_names=labels, output_dict=True, zero_division=0
    )
    for label in labels:
        for key, theirs in (("precision", "precision"), ("recall", "recall"), ("f1", "f1-score")):
            assert got["per_label"][label][key] == pytest.approx(report[label][theirs])
        assert got["per_label"][label]["support"] == report[label]["support"]
    for how in ("true", "pred", "all"):
        want = np.nan_to_num(skm.confusion_matrix(y, p, labels=everything, normalize=how))
        assert np.allclose(confusion(scored, how)[0], want)
    assert (confusion(scored, "none")[0] == skm.confusion_matrix(y, p, labels=everything)).all()


def test_expected_calibration_error_by_hand():
    probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.6, 0.4], [0.55, 0.45]])
    y = np.array([0, 1, 0, 0])
    # Bins: 0.9 (right), 0.8 (wrong), 0.6 (right), 0.55 (right): four bins of one each.
    expected = (abs(1 - 0.9) + abs(0 - 0.8) + abs(1 - 0.6) + abs(1 - 0.55)) / 4
    assert expected_calibration_error(probs, y) == pytest.approx(expected)


def test_comparison_of_several_models(tiny_trained, invoke, tmp_path):
    result = invoke("evaluate", "-m", "tiny", "-m", "tiny", "--home", tiny_trained, "-f", "json")
    reports = json.loads(result.stdout)
    assert (
        isinstance(reports, list) and len(reports) == 2 and reports[0]["accuracy"] == reports[1]["accuracy"]
    )
    table = invoke("evaluate", "-m", "tiny", "-m", "tiny", "--home", tiny_trained, "-f", "table")
    assert table.exit_code == 0 and "macro-F1" in table.stdout and "majority-class" in table.stdout


def test_csv_split_and_bad_splits(tiny_trained, tmp_path, invoke):
    good = tmp_path / "mine.csv"
    good.write_text("name,label\nTanaka,Japanese\nIvanov,Russian\n", encoding="utf-8")
    report = json.loads(invoke("evaluate", "--split", good, "--home", tiny_trained).stdout)
    assert report["n"] == 2
    alien = tmp_path / "alien.csv"
    alien.write_text("name,label\nSmith,English\n", encoding="utf-8")
    assert_user_error(
        invoke("evaluate", "--split", alien, "--home", tiny_trained), "does not know", "English"
    )
    empty = tmp_path / "empty.csv"
    empty.write_text("name,label\n", encoding="utf-8")
    assert_user_error(invoke("evaluate", "--split", empty, "--home", tiny_trained), "no rows")
    cols = tmp_path / "cols.csv"
    cols.write_text("surname,country\nA,B\n", encoding="utf-8")
    assert_user_error(invoke("evaluate", "--split", cols, "--home", tiny_trained), "surname, country")
    assert_user_error(invoke("evaluate", "--split", "nowhere", "--home", tiny_trained), "--split")


def test_confusion_three_ways(tiny_trained, tmp_path, invoke):
    png, csv = tmp_path / "cm.png", tmp_path / "cm.csv"
    result = invoke(
        "confusion",
        "--home",
        tiny_trained,
        "--split",
        "val",
        "--output",
        png,
        "--csv",
        csv,
        "--normalize",
        "none",
        "--format",
        "table",
    )
    assert result.exit_code == 0, result.output
    clf = Classifier.load("tiny", home=tiny_trained)
    names, labels, _ = read_split(tiny_trained, "val")
    pred = [clf.labels[i] for i in clf.predict_proba(names).argmax(axis=1)]
    expected = skm.confusion_matrix(labels, pred, labels=clf.labels)
    frame = pd.read_csv(csv, index_col=0)
    assert list(frame.columns) == clf.labels and list(frame.index) == clf.labels
    assert np.array_equal(frame.to_numpy().round().astype(int), expected)
    from PIL import Image

    from namelang.plots import DPI, confusion_figsize

    width, height = confusion_figsize(len(clf.labels))
    with Image.open(png) as image:
        assert image.format == "PNG" and image.size == (round(width * DPI), round(height * DPI))
        image.verify()
    assert "Arabic" in result.stdout and "true \\ pred" in result.stdout


def test_confusion_normalised_rows_sum_to_one(tiny_trained, tmp_path, invoke):
    csv = tmp_path / "cm.csv"
    assert invoke("confusion", "--home", tiny_trained, "--split", "val", "--csv", csv).exit_code == 0
    rows = pd.read_csv(csv, index_col=0).to_numpy().sum(axis=1)
    assert np.allclose(rows[rows > 0], 1.0, atol=1e-5)


def test_most_confused_pairs():
    counts = np.array([[5, 3, 0], [1, 8, 0], [0, 4, 2]])
    pairs = most_confused(counts, ["A", "B", "C"], top=2)
    assert [(p["true"], p["predicted"], p["count"], p["of"]) for p in pairs] == [
        ("C", "B", 4, 6),
        ("A", "B", 3, 8),
    ]
