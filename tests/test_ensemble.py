"""Ensembles as models, and distillation of a teacher into one network, on tiny data."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from conftest import TINY_MODEL, assert_user_error

from namelang import Classifier
from namelang.data.split import read_split
from namelang.models.ensemble import combine
from namelang.training.ensemble import fit_weights


@pytest.fixture(scope="module")
def members_home(tiny_prepared, tmp_path_factory):
    """The tiny split with two tiny GRUs (seeds 0, 1) and the n-gram model."""
    from typer.testing import CliRunner

    from namelang.cli.app import app

    home = tmp_path_factory.mktemp("ensemble") / "home"
    shutil.copytree(tiny_prepared, home)
    for args in (
        ["--name", "g0", "--seed", "0", *TINY_MODEL],
        ["--name", "g1", "--seed", "1", *TINY_MODEL],
        ["--arch", "ngram", "--name", "ng"],
    ):
        result = CliRunner().invoke(app, ["train", "--home", str(home), "-q", *args])
        assert result.exit_code == 0, result.output
    return home


def test_fit_weights_prefers_the_informative_member():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, size=400)
    good = np.full((400, 4), 0.1)
    good[np.arange(400), y] = 0.7
    noise = rng.dirichlet(np.ones(4), size=400)
    weights, temperature = fit_weights(np.log(np.stack([good, noise])), y)
    assert weights.sum() == pytest.approx(1.0) and weights[0] > 0.9 and temperature > 0
    probs = combine(np.log(np.stack([good, noise])), weights, temperature)
    assert np.allclose(probs.sum(axis=1), 1.0) and (probs.argmax(axis=1) == y).all()


def test_fit_weights_sharpens_underconfident_members():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 4, size=400)
    members = []
    for _ in range(3):  # right on 80% of names, but with a top probability of only 0.4
        probs = np.full((400, 4), 0.2)
        right = rng.random(400) < 0.8
        top = np.where(right, y, (y + 1) % 4)
        probs[np.arange(400), top] = 0.4
        members.append(probs)
    log_probs = np.log(np.stack(members))
    weights, temperature = fit_weights(log_probs, y)
    assert temperature < 1.0  # sharper than the plain mean: the fit moved off its start


def test_fit_weights_keeps_a_better_point_when_the_optimizer_reports_abnormal(monkeypatch):
    """L-BFGS-B's "ABNORMAL_TERMINATION_IN_LNSRCH" often comes after real progress (three union gru
    seeds and the n-gram: log-loss 0.7170 at the start, 0.7006 at the point it returned)."""
    import scipy.optimize
    from scipy.optimize import OptimizeResult

    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, size=200)
    probs = np.full((200, 3), 0.25)
    probs[np.arange(200), y] = 0.5
    log_probs = np.log(np.stack([probs, probs]))
    for x, kept in (([0.9, 0.9], True), ([0.01, 0.01], False)):
        loss = -np.mean(np.log(combine(log_probs, np.array(x) / sum(x), 1 / sum(x))[np.arange(200), y]))
        abnormal = OptimizeResult(x=np.array(x), fun=loss, success=False, message="ABNORMAL")
        monkeypatch.setattr(scipy.optimize, "minimize", lambda *a, r=abnormal, **k: r)
        weights, temperature = fit_weights(log_probs, y)
        assert weights == pytest.approx([0.5, 0.5])
        assert temperature == pytest.approx(1 / 1.8 if kept else 1.0)


def test_ensemble_is_a_model_everywhere(members_home, invoke, tmp_path):
    home = members_home
    result = invoke("ensemble", "g0", "g1", "ng", "--name", "E", "--home", home)
    assert result.exit_code == 0, result.output
    assert "saved ensemble 'E'" in result.stderr
    folder = home / "models" / "E"
    meta = json.loads((folder / "model.json").read_text())
    assert meta["arch"] == "ensemble" and [m["name"] for m in meta["members"]] == ["g0", "g1", "ng"]
    assert sum(m["weight"] for m in meta["members"]) == pytest.approx(1.0)

    # Its probabilities are the weighted mean of the members' log-probabilities, at its temperature.
    names = read_split(home, "test")[0]
    members = [Classifier.load(m, home=home) for m in ("g0", "g1", "ng")]
    log_probs = np.stack([np.log(np.clip(c.predict_proba(names), 1e-12, None)) for c in members])
    weights = np.array([m["weight"] for m in meta["members"]])
    expected = np.exp(np.tensordot(weights, log_probs, axes=1) / meta["temperature"])
    expected /= expected.sum(axis=1, keepdims=True)
    clf = Classifier.load("E", home=home)
    assert np.allclose(clf.predict_proba(names), expected, atol=1e-9)
    assert clf.predict(["", "Satoshi"])[0] == [] and len(clf.predict(["Satoshi"])[0]) == 3
    # Its members answer their training names from their lexicons; lexicon=False switches them all off.
    trained = read_split(home, "train")[0][:1]
    assert clf.script_paths(trained) == ["lexicon"] and clf.known(trained).tolist() == [True]
    network = Classifier.load("E", home=home, lexicon=False)
    assert network.script_paths(trained) == ["model"] and not network.members[0].use_lexicon

    # It holds copies of its members: removing one from the store leaves the ensemble whole.
    shutil.copytree(home / "models" / "g1", tmp_path / "g1")
    assert invoke("models", "rm", "g1", "--yes", "--home", home).exit_code == 0
    assert np.allclose(Classifier.load("E", home=home).predict_proba(names), expected, atol=1e-9)
    shutil.copytree(tmp_path / "g1", home / "models" / "g1")

    listed = json.loads(invoke("models", "--format", "json", "--home", home).stdout)
    assert {"name": "E", "arch": "ensemble"}.items() <= next(r for r in listed if r["name"] == "E").items()
    result = invoke("predict", "-m", "E", "Satoshi", "Ivanov", "--format", "json", "--home", home)
    assert result.exit_code == 0, result.output
    assert [row["predictions"][0]["label"] for row in json.loads(result.stdout)] == [
        clf.labels[i] for i in clf.predict_proba(["Satoshi", "Ivanov"]).argmax(axis=1)
    ]
    result = invoke("evaluate", "-m", "E", "-m", "g0", "-m", "ng", "--split", "test", "--home", home)
    assert result.exit_code == 0, result.output
    assert [r["model"] for r in json.loads(result.stdout)] == ["E", "g0", "ng"]
    csv_out = tmp_path / "confusion.csv"
    result = invoke("confusion", "-m", "E", "--split", "test", "--csv", csv_out, "--home", home)
    assert result.exit_code == 0, result.output and csv_out.is_file()


def test_ensemble_refusals(members_home, invoke, tmp_path):
    home = members_home
    assert_user_error(invoke("ensemble", "g0", "--name", "one", "--home", home), "at least two")
    assert_user_error(invoke("ensemble", "g0", "g0", "--name", "twice", "--home", home), "twice")
    assert_user_error(invoke("ensemble", "g0", "nope", "--name", "x", "--home", home), "unknown model")
    assert_user_error(invoke("ensemble", "g0", "pretrained", "--name", "x", "--home", home), "same labels")
    # A model trained on another split: fitting weights on its training names would flatter it.
    other = tmp_path / "other"
    shutil.copytree(home / "models" / "g1", other)
    card = json.loads((other / "model.json").read_text())
    card["data"]["manifest_sha256"] = "0" * 64
    (other / "model.json").write_text(json.dumps(card))
    assert_user_error(invoke("ensemble", "g0", other, "--name", "x", "--home", home), "not trained")
    assert invoke("ensemble", "g0", "g1", "--name", "E2", "--home", home, "-q").exit_code == 0
    assert_user_error(invoke("ensemble", "g0", "g1", "--name", "E2", "--home", home), "--force")
    assert invoke("ensemble", "g0", "ng", "--name", "E2", "--force", "--home", home, "-q").exit_code == 0


def test_distilled_student(members_home, invoke, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(members_home, home)
    assert invoke("ensemble", "g0", "g1", "ng", "--name", "T", "--home", home, "-q").exit_code == 0
    result = invoke("train", "--teacher", "T", "--name", "student", "--home", home, *TINY_MODEL)
    assert result.exit_code == 0, result.output
    meta = json.loads((home / "models" / "student" / "model.json").read_text())
    assert meta["arch"] == "gru" and meta["training"]["teacher"] == "T"
    # The training set is the names plus one perturbed copy of each, all labelled by the teacher.
    assert meta["data"]["train_rows"] == 2 * len(read_split(home, "train")[0])
    assert_user_error(invoke("train", "--teacher", "nope", "--home", home, *TINY_MODEL), "unknown model")


def test_a_served_ensemble_answers_its_card(members_home, invoke):
    """`GET /v1/models` on a served ensemble: its card, not a 500 (it lacked `max_length`)."""
    import warnings

    with warnings.catch_warnings():  # starlette deprecates its TestClient on httpx; it still works
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    from namelang.server import Settings, create_app

    home = members_home
    assert invoke("ensemble", "g0", "ng", "--name", "served", "--home", home, "-q").exit_code == 0
    # The app loads the model itself, as `namelang serve -m served` does.
    app = create_app(Settings(model="served", home=str(home)))
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/v1/models")
        predicted = client.post("/v1/predict", json={"names": ["Satoshi", ""], "top_k": 1})
    assert response.status_code == 200, response.text
    card = json.loads((home / "models" / "served" / "model.json").read_text())
    (shown,) = response.json()["models"]
    assert shown["name"] == "served" and shown["arch"] == "ensemble" and shown["labels"] == card["labels"]
    assert shown["max_length"] == card.get("max_length", 64) and shown["metrics"]["val_accuracy"] > 0
    clf = Classifier.load("served", home=home)
    assert predicted.status_code == 200 and [r["predictions"] for r in predicted.json()] == [
        [{"label": label, "probability": pytest.approx(p, abs=1e-6)} for label, p in row]
        for row in clf.predict(["Satoshi"], top_k=1)
    ] + [[]]
