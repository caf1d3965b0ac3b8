"""`prior` and `coverage` in the HTTP API and `/v1/mix`, against a real server on 127.0.0.1."""

from __future__ import annotations

import httpx
import numpy as np
import pytest

from namelang.scoring.adjust import Adjustment
from namelang.scoring.options import ScoreOptions
from namelang.uncertainty import prediction_sets, set_strings
from tests.test_serve import ServeProcess

NAMES = ["Satoshi", "Dovesky", "Nguyen", "", "O'Neill", "Papadopoulos", "Smith", "Mcdonald", "Kelly"]


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return tmp_path_factory.mktemp("uncertainty-api")


@pytest.fixture(scope="module")
def api(home):
    srv = ServeProcess("--home", str(home), "--max-names", "50")
    with httpx.Client(base_url=srv.url, timeout=30) as client:
        yield client
    srv.stop()


@pytest.fixture(scope="module")
def model(home):
    from namelang.inference import Classifier
    from namelang.uncertainty import ModelUncertainty

    clf = Classifier.load(None, home, device="cpu")
    return clf, ModelUncertainty.of(clf)


def top_labels(records):
    return [r["predictions"][0]["label"] if r["predictions"] else None for r in records]


@pytest.mark.parametrize(
    "prior", ["uniform", "estimate", "archive", {"English": 0.6, "Irish": 0.2, "Scottish": 0.2}]
)
def test_prior_reweights_like_the_library(api, model, prior):
    clf, unc = model
    got = api.post("/v1/predict", json={"names": NAMES, "prior": prior, "top_k": 2})
    assert got.status_code == 200, got.text
    probs = clf.predict_proba(NAMES)
    want = (
        Adjustment.of_model(unc, ScoreOptions(prior=prior), files=False).settled(probs).probabilities(probs)
    )
    order, top = clf.rank(want, 2)
    for record, row_i, row_p in zip(got.json(), order, top):
        if record["name"]:
            assert [p["label"] for p in record["predictions"]] == [clf.labels[i] for i in row_i]
            assert [p["probability"] for p in record["predictions"]] == pytest.approx(row_p, abs=2e-6)
    plain = api.post("/v1/predict", json={"names": NAMES, "top_k": 2}).json()
    assert got.json() != plain  # the prior changed something


def test_coverage_adds_prediction_sets_from_the_models_own_probabilities(api, model):
    clf, unc = model
    got = api.get("/v1/predict", params=[("name", n) for n in NAMES] + [("coverage", "0.9")]).json()
    want = set_strings(prediction_sets(clf.predict_proba(NAMES), unc.threshold(0.9)), unc.labels)
    assert ["|".join(r["prediction_set"]) for r in got] == want
    assert got[NAMES.index("")]["prediction_set"] == []
    wider = api.post("/v1/predict", json={"names": NAMES, "coverage": 0.99}).json()
    assert all(set(a["prediction_set"]) <= set(b["prediction_set"]) for a, b in zip(got, wider))
    assert "prediction_set" not in api.post("/v1/predict", json={"names": NAMES}).json()[0]


@pytest.mark.parametrize(
    "body, words",
    [
        ({"prior": {"Klingon": 1.0}}, "Klingon"),
        ({"prior": {"English": -1.0}}, "negative"),
        ({"prior": "/etc/passwd"}, "prior"),
        ({"prior": "archiv"}, "a source the model was trained on (arabic-name-romanizer, archive, "),
        ({"coverage": 0.925}, "not one the model was calibrated for"),
        ({"coverage": 1.5}, "coverage"),
    ],
)
def test_bad_prior_or_coverage_is_a_json_422(api, body, words):
    response = api.post("/v1/predict", json={"names": NAMES, **body})
    assert response.status_code == 422 and words in response.text


def test_mix_of_names(api, model):
    clf, unc = model
    names = ["Smith", "Smith", "Kelly", "Ivanov", "Tanaka", ""]
    body = {"names": names, "bootstrap": 50, "seed": 3}
    mix = api.post("/v1/mix", json=body).json()
    again = api.post("/v1/mix", json=body).json()
    assert mix == again and mix["rows"] == 5 and mix["distinct_names"] == 4
    shares = mix["languages"]
    assert sum(v["top1_count"] for v in shares.values()) == 5
    assert sum(v["em_share"] for v in shares.values()) == pytest.approx(1)
    # EM stops at a tolerance of 1e-5: a near-zero share and its interval agree only to that.
    assert all(v["em_low"] - 1e-5 <= v["em_share"] <= v["em_high"] + 1e-5 for v in shares.values())
    probs = clf.predict_proba([n for n in names if n])
    assert [shares[lb]["probability_sum"] for lb in clf.labels] == pytest.approx(probs.sum(axis=0), abs=1e-4)
    assert (
        np.argmax([shares[lb]["top1_count"] for lb in clf.labels])
        == np.bincount(probs.argmax(axis=1), minlength=len(clf.labels)).argmax()
    )
    assert api.post("/v1/mix", json={"names": names, "prior": {"Klingon": 1}}).status_code == 422
    by_source = api.post("/v1/mix", json={**body, "prior": "archive"}).json()
    assert by_source["prior"] == "archive" and by_source["languages"] != shares
