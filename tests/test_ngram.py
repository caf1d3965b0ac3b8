"""The n-gram baseline as a model: scikit-learn fits it, numpy scores it, and both give the same numbers."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import assert_user_error
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from namelang import Classifier
from namelang.data.split import read_split
from namelang.models.forward import softmax
from namelang.models.ngram import NgramEngine, NgramSpec, analyze, fit_ngram

ODD = ["", "  ", "Ab  Cd", "O'Neil-Smith", "Zy", "x", "Ünïcødé", "ÄBC def"]


def test_analyzer_is_scikit_learns():
    reference = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 5)).build_analyzer()
    for name in ["Satoshi", "Ng", "O'Neil", "van der Berg", "A", "Müller  Lüdenscheidt", *ODD]:
        assert analyze(name, 1, 5) == reference(name), name
    assert analyze("Ab", 2, 3) == TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 3)).build_analyzer()(
        "Ab"
    )


def test_probabilities_equal_scikit_learns(tiny_prepared):
    train, val = read_split(tiny_prepared, "train")[:2], read_split(tiny_prepared, "val")[:2]
    test_names = read_split(tiny_prepared, "test")[0] + ODD
    labels = sorted(set(train[1]))
    spec = NgramSpec(c=10.0)
    fitted = fit_ngram(spec, train, val, labels)

    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 5), sublinear_tf=True)
    model = LogisticRegression(C=10.0, max_iter=3000).fit(vectorizer.fit_transform(train[0]), train[1])
    expected = model.predict_proba(vectorizer.transform(test_names))

    engine = NgramEngine(spec, fitted.state, fitted.vocabulary, "", len(labels))
    got = softmax(engine.logits(test_names))
    assert list(model.classes_) == labels
    assert np.abs(got - expected).max() < 1e-6
    assert fitted.vocabulary == sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.get)


@pytest.mark.parametrize("kept", [2, 3])
def test_labels_missing_from_train_get_no_probability(tiny_prepared, kept):
    """A label only validation holds (say, names its script rules keep out of train), and the binary case
    scikit-learn fits with one row of coefficients: the exported model still equals scikit-learn's."""
    train, val = read_split(tiny_prepared, "train")[:2], read_split(tiny_prepared, "val")[:2]
    labels = sorted(set(train[1]))
    kept_labels = labels[:kept]
    rows = [i for i, lb in enumerate(train[1]) if lb in kept_labels]
    train = ([train[0][i] for i in rows], [train[1][i] for i in rows])
    fitted = fit_ngram(NgramSpec(c=10.0), train, val, labels)
    assert fitted.val_logits.shape == (len(val[0]), len(labels))

    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 5), sublinear_tf=True)
    model = LogisticRegression(C=10.0, max_iter=3000).fit(vectorizer.fit_transform(train[0]), train[1])
    names = val[0] + ODD
    got = softmax(
        NgramEngine(NgramSpec(c=10.0), fitted.state, fitted.vocabulary, "", len(labels)).logits(names)
    )
    assert np.abs(got[:, :kept] - model.predict_proba(vectorizer.transform(names))).max() < 1e-6
    assert got[:, kept:].max() < 1e-30


def test_train_ngram_when_validation_holds_a_label_train_lacks(tiny_home, invoke):
    import csv

    path = tiny_home / "prepared" / "val.csv"
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    labels = sorted({r["label"] for r in rows})
    train_path = tiny_home / "prepared" / "train.csv"
    with open(train_path, encoding="utf-8", newline="") as handle:
        train_rows = [r for r in csv.DictReader(handle) if r["label"] != labels[-1]]
    with open(train_path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(train_rows[0]))
        writer.writeheader()
        writer.writerows(train_rows)
    result = invoke("train", "--arch", "ngram", "--name", "ng", "--home", tiny_home, "-q")
    assert result.exit_code == 0, result.output
    clf = Classifier.load("ng", home=tiny_home)
    assert clf.predict_proba(["Smith"])[0, clf.labels.index(labels[-1])] < 1e-30


def test_train_ngram_stores_tensors_and_json(tiny_home, invoke):
    result = invoke("train", "--arch", "ngram", "--name", "ng", "--home", tiny_home)
    assert result.exit_code == 0, result.output
    folder = tiny_home / "models" / "ng"
    files = ["history.csv", "lexicon.json.gz", "model.json", "vocabulary.json", "weights.safetensors"]
    assert sorted(p.name for p in folder.iterdir()) == files
    meta = json.loads((folder / "model.json").read_text())
    assert meta["lexicon"]["names"] > 0  # every architecture keeps its training names
    assert meta["arch"] == "ngram" and meta["arch_options"]["c"] in (1.0, 10.0, 100.0)
    # C was chosen on validation macro-F1 among the grid it records.
    assert meta["best"]["val_macro_f1"] == max(g["val_macro_f1"] for g in meta["c_grid"])
    assert meta["parameters"] == 5 * len(json.loads((folder / "vocabulary.json").read_text())) + 5

    result = invoke("evaluate", "-m", "ng", "-m", "pretrained", "--split", "val", "--home", tiny_home)
    assert result.exit_code == 0, result.output
    reports = {r["model"]: r for r in json.loads(result.stdout)}
    assert reports["ng"]["accuracy"] > 0.5


def test_predict_does_not_import_scikit_learn(tiny_home, invoke):
    assert invoke("train", "--arch", "ngram", "--name", "ng", "--home", tiny_home, "-q").exit_code == 0
    expected = Classifier.load("ng", home=tiny_home).predict_proba(["Satoshi", "Ivanov"])
    script = (
        "import sys, json; sys.modules['sklearn'] = None\n"  # any import of sklearn now fails
        "from namelang import Classifier\n"
        f"clf = Classifier.load('ng', home={str(tiny_home)!r})\n"
        "print(json.dumps(clf.predict_proba(['Satoshi', 'Ivanov']).tolist()))\n"
        "assert 'torch' not in sys.modules\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert np.allclose(json.loads(out), expected)


def test_ngram_refuses_network_options_and_resume(tiny_home, invoke):
    assert_user_error(
        invoke("train", "--arch", "ngram", "--hidden", "8", "--home", tiny_home), "does not use"
    )
    assert invoke("train", "--arch", "ngram", "--name", "ng", "--home", tiny_home, "-q").exit_code == 0
    assert_user_error(invoke("train", "--resume", "ng", "--home", tiny_home), "ngram")


@pytest.mark.parametrize("options", [{"min_n": 3, "max_n": 2}, {"c": -1.0}])
def test_ngram_spec_checks(options):
    from namelang.errors import NamelangError
    from namelang.models.registry import spec_from

    with pytest.raises(NamelangError):
        spec_from("ngram", **options)


def test_large_unions_fit_by_sgd_with_the_penalty_chosen_on_validation(tiny_prepared, monkeypatch):
    """Above SGD_ABOVE names the exact solver is too slow: SGD fits, its alpha chosen on validation
    macro-F1, and the exported arrays predict what scikit-learn's fitted model predicts."""
    from sklearn.linear_model import SGDClassifier

    from namelang.models import ngram

    monkeypatch.setattr(ngram, "SGD_ABOVE", 0)
    train, val = read_split(tiny_prepared, "train")[:2], read_split(tiny_prepared, "val")[:2]
    labels = sorted(set(train[1]) | set(val[1]))
    fitted = fit_ngram(NgramSpec(), train, val, labels)
    assert fitted.c is None
    assert [row["alpha"] for row in fitted.grid] == list(ngram.ALPHA_GRID)
    best = max(fitted.grid, key=lambda row: row["val_macro_f1"])
    assert fitted.val_macro_f1 == best["val_macro_f1"]

    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 5), sublinear_tf=True)
    x = vectorizer.fit_transform(train[0])
    y = np.array([labels.index(lb) for lb in train[1]])
    model = SGDClassifier(loss="log_loss", alpha=best["alpha"], max_iter=30, tol=1e-4, random_state=0)
    model.fit(x, y)
    expected = model.predict(vectorizer.transform(val[0]))
    engine = NgramEngine(NgramSpec(), fitted.state, fitted.vocabulary, "", len(labels))
    assert (engine.logits(val[0]).argmax(axis=1) == expected).all()
    # An explicit C still fits the exact logistic regression.
    assert fit_ngram(NgramSpec(c=10.0), train, val, labels).c == 10.0


def test_an_ngram_model_as_data_carries_its_vocabulary(tiny_home, invoke, tmp_path):
    """`StoredModel.files()` and `unpack` (what a Dask worker is sent): the n-gram's own file travels."""
    from namelang.errors import NamelangError
    from namelang.models.store import ModelStore, unpack

    assert invoke("train", "--arch", "ngram", "--name", "ng", "--home", tiny_home, "-q").exit_code == 0
    found = ModelStore(tiny_home).load("ng")
    copy = unpack(found.files(), tmp_path / "copy", "ng")
    names = ["Satoshi", "Ivanov", "", "Smith"]
    want = Classifier.load("ng", home=tiny_home).predict_proba(names)
    assert np.allclose(Classifier.from_stored(copy).predict_proba(names), want, equal_nan=True)
    (copy.path / "vocabulary.json").write_text("[not json")
    with pytest.raises(NamelangError, match="vocabulary.json is not valid JSON"):
        Classifier.from_stored(copy)
