"""Priors, EM, the table's mix and conformal sets, on hand-computed and synthetic probabilities."""

from __future__ import annotations

import json

import numpy as np
import pytest

from namelang.errors import NamelangError
from namelang.scoring.adjust import Adjustment
from namelang.scoring.options import ScoreOptions
from namelang.uncertainty import (
    DistinctNames,
    ModelUncertainty,
    conformal_threshold,
    estimate_prior,
    fit_conformal,
    fit_model_prior,
    parse_prior,
    prediction_sets,
    reweight,
    set_strings,
    source_priors,
    stored_threshold,
    table_mix,
    training_prior,
)

LABELS = ["A", "B", "C"]


def test_bayes_reweighting_matches_a_hand_computed_case():
    # Trained under 90% A / 10% B, the model says 0.8 A. Under a 50/50 prior:
    # A ∝ 0.8 / 0.9 = 8/9, B ∝ 0.2 / 0.1 = 2, so A = (8/9) / (8/9 + 2) = 4/13.
    moved = reweight(np.array([[0.8, 0.2], [np.nan, np.nan]]), np.array([0.9, 0.1]), np.array([0.5, 0.5]))
    assert moved[0] == pytest.approx([4 / 13, 9 / 13])
    assert np.isnan(moved[1]).all()
    same = reweight(np.array([[0.3, 0.7]]), np.array([0.2, 0.8]), np.array([0.2, 0.8]))
    assert same[0] == pytest.approx([0.3, 0.7])


def test_training_prior_is_the_label_shares_or_uniform_when_balanced():
    counts = {"A": 6, "B": 3, "C": 1}
    assert training_prior(counts, LABELS) == pytest.approx([0.6, 0.3, 0.1])
    assert training_prior(counts, LABELS, balanced=True) == pytest.approx([1 / 3] * 3)


def synthetic(prior: np.ndarray, n: int, source: np.ndarray, seed: int):
    """Rows drawn under `prior` from three overlapping 1-D Gaussians; exact posteriors under `source`."""
    rng = np.random.default_rng(seed)
    y = rng.choice(len(prior), size=n, p=prior)
    x = rng.normal(np.array([-1.0, 0.0, 1.0])[y], 0.8)
    likelihood = np.exp(-((x[:, None] - np.array([-1.0, 0.0, 1.0])) ** 2) / (2 * 0.8**2))
    joint = likelihood * source
    return joint / joint.sum(axis=1, keepdims=True), y


def test_em_recovers_a_known_mix_where_counting_does_not():
    source, truth = np.array([0.6, 0.3, 0.1]), np.array([0.1, 0.3, 0.6])
    probs, _ = synthetic(truth, 20000, source, seed=1)
    found = estimate_prior(probs, source)
    assert found.converged
    assert found.prior == pytest.approx(truth, abs=0.02)
    counted = np.bincount(probs.argmax(axis=1), minlength=3) / len(probs)
    assert np.abs(found.prior - truth).mean() < np.abs(counted - truth).mean() / 2
    # Without shift EM stays at the source prior.
    unshifted, _ = synthetic(source, 20000, source, seed=2)
    assert estimate_prior(unshifted, source).prior == pytest.approx(source, abs=0.02)


def test_the_model_prior_fitted_on_validation_undoes_a_per_label_bias():
    # Rows drawn under `truth` but scored as if trained under `carried`: the fit finds `carried`.
    truth, carried = np.array([0.6, 0.3, 0.1]), np.array([0.3, 0.3, 0.4])
    probs, y = synthetic(truth, 20000, carried, seed=9)
    fitted = fit_model_prior(probs, y, train_prior=truth)
    assert fitted == pytest.approx(carried, abs=0.02)
    # Moved from the fitted prior to the training one, the rows' mean probability is their own mix.
    own = np.bincount(y, minlength=3) / len(y)
    assert reweight(probs, fitted, truth).mean(axis=0) == pytest.approx(own, abs=1e-6)


def test_em_does_not_run_away_to_a_label_with_a_tiny_prior():
    # Two common labels and a rare one (prior 0.001) that the model gives a stray 0.5% on every name: the
    # ratio 0.005 / 0.001 outweighs 0.9 / 0.5, and plain EM would put the whole table under the rare label.
    source = np.array([0.5, 0.499, 0.001])
    probs = np.array([[0.9, 0.095, 0.005], [0.095, 0.9, 0.005]] * 500)
    found = estimate_prior(probs, source)
    assert found.prior[2] < 0.05
    assert found.prior[:2] == pytest.approx([0.5, 0.5], abs=0.05)
    moved = reweight(probs, found.source, found.prior)  # as `--prior estimate` applies it
    assert (moved.argmax(axis=1) == probs.argmax(axis=1)).all()
    # The shares EM moved from are the floored ones, and re-weighting from them keeps rows summing to 1.
    assert found.source.min() >= 0.0095 and found.source.sum() == pytest.approx(1.0)
    assert moved.sum(axis=1) == pytest.approx(1.0)


def test_em_weighs_distinct_rows_by_their_counts():
    source = np.array([0.6, 0.3, 0.1])
    probs, _ = synthetic(np.array([0.2, 0.2, 0.6]), 300, source, seed=3)
    counts = np.arange(1, 301) % 4 + 1
    repeated = np.repeat(probs, counts, axis=0)
    assert estimate_prior(probs, source, counts).prior == pytest.approx(
        estimate_prior(repeated, source).prior, abs=1e-6
    )


def test_an_estimated_prior_moves_predictions_towards_the_table_mix():
    source, truth = np.array([0.6, 0.3, 0.1]), np.array([0.05, 0.15, 0.8])
    probs, y = synthetic(truth, 5000, source, seed=4)
    probs[0] = np.nan
    model = ModelUncertainty(LABELS, source, None)
    moved = Adjustment.of_model(model, ScoreOptions(prior="estimate")).settled(probs).probabilities(probs)
    assert np.isnan(moved[0]).all()
    keep = slice(1, None)
    assert (moved[keep].argmax(1) == y[keep]).mean() > (probs[keep].argmax(1) == y[keep]).mean()
    assert Adjustment.of_model(model, ScoreOptions(prior="train")).probabilities(probs) is probs


def test_table_mix_with_a_seeded_bootstrap_interval():
    source, truth = np.array([0.6, 0.3, 0.1]), np.array([0.3, 0.3, 0.4])
    probs, _ = synthetic(truth, 3000, source, seed=5)
    mix = table_mix(probs, source, LABELS, resamples=40, seed=7)
    again = table_mix(probs, source, LABELS, resamples=40, seed=7)
    assert mix.rows == 3000 and mix.top1.sum() == pytest.approx(1) and mix.em.sum() == pytest.approx(1)
    assert (mix.em_low <= mix.em).all() and (mix.em <= mix.em_high).all()
    assert (mix.em_low <= truth + 0.01).all() and (truth - 0.01 <= mix.em_high).all()
    assert np.array_equal(mix.em_low, again.em_low)
    report = mix.as_dict()
    assert sum(v["top1_count"] for v in report["languages"].values()) == 3000
    assert set(report["languages"]["C"]) >= {"em_share", "em_low", "em_high", "probability_share"}


def test_distinct_names_count_repeats_and_skip_blanks():
    seen = DistinctNames(2)
    seen.add(["Ivanov", "", "Smith"], np.array([[0.9, 0.1], [np.nan, np.nan], [0.2, 0.8]]))
    seen.add(["Ivanov", "Ivanov"], np.array([[0.9, 0.1], [0.9, 0.1]]))
    probs, counts = seen.arrays()
    assert counts.tolist() == [3, 1]
    assert probs.ravel().tolist() == pytest.approx([0.9, 0.1, 0.2, 0.8])


def test_conformal_threshold_is_the_finite_sample_quantile_and_covers():
    source = np.array([0.6, 0.3, 0.1])
    calibration, y_cal = synthetic(source, 4000, source, seed=6)
    test, y_test = synthetic(source, 20000, source, seed=7)
    for level in (0.8, 0.9, 0.95):
        threshold = conformal_threshold(calibration, y_cal, level)
        # At least ⌈(n+1)·level⌉ calibration rows have their true label's probability at or above it.
        assert (calibration[np.arange(4000), y_cal] >= threshold).sum() >= np.ceil(4001 * level)
        sets = prediction_sets(test, threshold)
        covered = np.mean([label in s for label, s in zip(y_test, sets)])
        assert covered == pytest.approx(level, abs=0.02)
    assert conformal_threshold(calibration[:5], y_cal[:5], 0.9) == 0.0  # too few rows: every label


def test_prediction_sets_are_ordered_and_may_be_empty():
    probs = np.array([[0.1, 0.6, 0.3], [0.34, 0.33, 0.33], [np.nan] * 3])
    sets = prediction_sets(probs, 0.25)
    assert sets == [[1, 2], [0, 1, 2], []]
    assert prediction_sets(probs[:2], 0.5) == [[1], []]
    assert prediction_sets(probs[:1], 0.0) == [[1, 2, 0]]
    assert set_strings(sets, LABELS) == ["B|C", "A|B|C", ""]


def test_stored_thresholds_by_level():
    probs, y = synthetic(np.array([0.6, 0.3, 0.1]), 500, np.array([0.6, 0.3, 0.1]), seed=8)
    card = json.loads(json.dumps(fit_conformal(probs, y)))  # survives the model card's JSON
    assert stored_threshold(card, 0.9) == conformal_threshold(probs, y, 0.9)
    assert stored_threshold(card, 0.999) == 0.0  # 500 rows cannot promise 99.9%
    with pytest.raises(NamelangError, match="not one the model was calibrated for"):
        stored_threshold(card, 0.925)
    with pytest.raises(NamelangError, match="no conformal thresholds"):
        stored_threshold(None, 0.9)


def test_conformal_on_a_tiny_model(tiny_trained):
    from namelang import Classifier
    from namelang.data.split import read_split

    clf = Classifier.load("tiny", home=tiny_trained)
    index = {label: i for i, label in enumerate(clf.labels)}
    names, labels, _ = read_split(tiny_trained, "val")
    probs, y = clf.predict_proba(names), np.array([index[lb] for lb in labels])
    card = fit_conformal(probs, y)
    assert card["n"] == len(names)
    for level in (0.5, 0.8):
        sets = prediction_sets(probs, stored_threshold(card, level))
        assert np.mean([t in s for t, s in zip(y, sets)]) >= level
    # Higher coverage never gives smaller sets.
    sizes = [np.mean([len(s) for s in prediction_sets(probs, stored_threshold(card, c))]) for c in (0.5, 0.9)]
    assert sizes[0] <= sizes[1]


@pytest.mark.parametrize(
    "content, words",
    [
        ('{"Klingon": 1}', "unknown language 'Klingon'"),
        ('{"A": 0.5, "B": -0.1}', "negative"),
        ("not json", "not valid JSON"),
        ('["A"]', "expected a JSON object"),
        ('{"A": true}', "not a number"),
        ('{"A": 0, "B": 0}', "all zero"),
    ],
)
def test_bad_prior_files_are_one_line_errors(tmp_path, content, words):
    path = tmp_path / "prior.json"
    path.write_text(content)
    with pytest.raises(NamelangError, match=words):
        parse_prior(str(path), LABELS)


def test_prior_files_are_normalised_and_keywords_parsed(tmp_path):
    path = tmp_path / "prior.json"
    path.write_text('{"A": 30, "C": 10}')
    assert parse_prior(str(path), LABELS).shares == pytest.approx([0.75, 0.0, 0.25])
    assert parse_prior("uniform", LABELS).shares == pytest.approx([1 / 3] * 3)
    assert parse_prior("estimate", LABELS).shares is None
    with pytest.raises(NamelangError, match="no file 'unifrom'"):
        parse_prior("unifrom", LABELS)
    with pytest.raises(NamelangError, match="no prior file"):
        parse_prior(str(tmp_path / "missing.json"), LABELS)


def test_evaluate_under_another_prior(invoke, tiny_trained, tmp_path):
    import json as json_

    skewed = tmp_path / "skewed.json"
    skewed.write_text('{"Russian": 8, "Greek": 1, "Arabic": 1}')
    reports = {}
    for prior in ("train", "uniform", "estimate", str(skewed)):
        result = invoke("evaluate", "--prior", prior, "--format", "json", "--home", tiny_trained)
        assert result.exit_code == 0, result.output
        reports[prior] = json_.loads(result.stdout)
        assert reports[prior]["prior"] == prior and reports[prior]["n"] == reports["train"]["n"]
    # Chinese and Japanese get no share: the skewed prior never predicts them, so recall falls.
    assert reports[str(skewed)]["per_label"]["Japanese"]["recall"] == 0
    assert reports["train"]["per_label"]["Japanese"]["recall"] > 0


@pytest.mark.parametrize(
    "content, words",
    [('{"Klingon": 1}', "unknown language"), ('{"Greek": -1}', "negative"), ("{", "not valid JSON")],
)
def test_evaluate_refuses_a_bad_prior_file_in_one_line(invoke, tiny_trained, tmp_path, content, words):
    from tests.conftest import assert_user_error

    path = tmp_path / "prior.json"
    path.write_text(content)
    assert_user_error(invoke("evaluate", "--prior", path, "--home", tiny_trained), words)


def test_train_stores_the_prior_and_conformal_thresholds(tiny_trained):
    from namelang import Classifier
    from namelang.data.split import read_split

    clf = Classifier.load("tiny", home=tiny_trained)
    names, labels, _ = read_split(tiny_trained, "val")
    assert clf.card.conformal["n"] == len(names) and clf.card.conformal["method"] == "lac"
    assert list(clf.card.prior) == clf.labels and sum(clf.card.prior.values()) == pytest.approx(1)
    index = {label: i for i, label in enumerate(clf.labels)}
    refit = fit_conformal(clf.predict_proba(names), np.array([index[lb] for lb in labels]))
    for level in ("0.5", "0.8", "0.9"):
        assert clf.card.conformal["thresholds"][level] == pytest.approx(refit["thresholds"][level], abs=1e-5)


@pytest.fixture
def table_file(tmp_path):
    names = ["Ivanov", "Tanaka", "Haddad", "", "Papadopoulos", "Ivanov", "Wong", "Tanaka", "Ivanov"]
    path = tmp_path / "people.csv"
    path.write_text("id,surname\n" + "".join(f"{i},{n}\n" for i, n in enumerate(names)), encoding="utf-8")
    return path


def test_predict_summary_on_a_piped_file(invoke, tiny_trained, table_file):
    import json as json_

    result = invoke("predict", "--input", table_file, "--column", "surname", "--summary",
                    "--bootstrap", "30", "--home", tiny_trained)  # fmt: skip
    assert result.exit_code == 0, result.output
    mix = json_.loads(result.stdout)  # piped: JSON, and no rows
    assert mix["rows"] == 8 and mix["distinct_names"] == 5 and mix["bootstrap_resamples"] == 30
    tagged = invoke("predict", "--input", table_file, "--column", "surname", "-k", "1", "--format", "json",
                    "--home", tiny_trained)  # fmt: skip
    tops = [r["predictions"][0]["label"] for r in json_.loads(tagged.stdout) if r["predictions"]]
    assert {lb: v["top1_count"] for lb, v in mix["languages"].items() if v["top1_count"]} == {
        lb: tops.count(lb) for lb in set(tops)
    }
    assert sum(v["em_share"] for v in mix["languages"].values()) == pytest.approx(1)


def test_predict_summary_beside_tagged_rows(invoke, tiny_trained, table_file, tmp_path):
    import json as json_

    out, summary = tmp_path / "out.csv", tmp_path / "mix.json"
    args = ("predict", "--input", table_file, "--column", "surname", "--output", out, "--home", tiny_trained)
    result = invoke(*args, "--summary", "--bootstrap", "20")
    assert result.exit_code == 0, result.output
    assert "mix of 8 names" in result.stderr and result.stdout == ""
    assert len(out.read_text().splitlines()) == 10
    result = invoke(*args, "--summary-output", summary, "--bootstrap", "20")
    assert result.exit_code == 0, result.output
    assert json_.loads(summary.read_text())["rows"] == 8


def test_predict_coverage_and_prior(invoke, tiny_trained, table_file, tmp_path):
    import csv

    from namelang import Classifier
    from namelang.uncertainty import ModelUncertainty

    out = tmp_path / "out.csv"
    result = invoke("predict", "--input", table_file, "--column", "surname", "--coverage", "0.8",
                    "--prior", "uniform", "-o", out, "--home", tiny_trained)  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open()))
    clf = Classifier.load(None, home=tiny_trained)
    model = ModelUncertainty.of(clf)
    probs = clf.predict_proba([r["surname"] for r in rows])
    assert [r["prediction_set"] for r in rows] == set_strings(
        prediction_sets(probs, model.threshold(0.8)), clf.labels
    )
    moved = reweight(probs, model.prior, np.full(len(clf.labels), 1 / len(clf.labels)))
    assert [r["prediction"] for r in rows if r["surname"]] == [
        clf.labels[i] for i, r in zip(moved.argmax(axis=1), rows) if r["surname"]
    ]


def test_predict_prior_estimate_reads_stdin_like_a_file(invoke, tiny_trained, table_file):
    args = ("predict", "--column", "surname", "--prior", "estimate", "-f", "csv", "--home", tiny_trained)
    from_file = invoke(*args, "--input", table_file)
    from_stdin = invoke(*args, "--input", "-", input=table_file.read_text())
    assert from_file.exit_code == 0 and from_stdin.exit_code == 0, from_stdin.output
    assert from_file.stdout == from_stdin.stdout


@pytest.mark.parametrize(
    "extra, words",
    [
        (("--coverage", "0.925"), "not one the model was calibrated for"),
        (("--prior", "nope.json"), "no prior file"),
    ],
)
def test_predict_refuses_in_one_line(invoke, tiny_trained, table_file, extra, words):
    from tests.conftest import assert_user_error

    result = invoke("predict", "--input", table_file, "--column", "surname", *extra, "--home", tiny_trained)
    assert_user_error(result, words)


# --- a prior per training source ----------------------------------------------------------------


def test_source_priors_count_a_shared_row_for_each_source_and_are_smoothed():
    priors = source_priors(["A", "A", "B", "C", "C"], ["x", "x;y", "y", "y", "y"], LABELS)
    # x holds A, A; y holds A, B, C, C: (count + 1) / (rows + 3 labels), every label kept.
    assert priors["x"] == pytest.approx({"A": 3 / 5, "B": 1 / 5, "C": 1 / 5})
    assert priors["y"] == pytest.approx({"A": 2 / 7, "B": 2 / 7, "C": 3 / 7})
    assert list(priors) == ["x", "y"] and list(priors["x"]) == LABELS
    assert source_priors(["A", "B"], ["", ""], LABELS) is None  # a split without a source column


SOURCES = {"archive": {"A": 0.8, "B": 0.1, "C": 0.1}, "uniform": {"A": 1.0}}


def test_a_source_name_comes_after_the_keywords_and_before_a_file(tmp_path, monkeypatch):
    trained = np.array([0.5, 0.3, 0.2])
    monkeypatch.chdir(tmp_path)
    (tmp_path / "archive").write_text('{"C": 1}')  # a file named like a source
    chosen = parse_prior("archive", LABELS, SOURCES, trained=trained)
    assert (chosen.kind, chosen.title) == ("source", "archive")
    assert chosen.shares == pytest.approx([0.8, 0.1, 0.1]) and chosen.carried is trained
    for path in ("./archive", str(tmp_path / "archive")):  # written as a path, it is the file
        assert parse_prior(path, LABELS, SOURCES).shares == pytest.approx([0, 0, 1])
    assert parse_prior("archive", LABELS).kind == "file"  # no stored sources: the file, as before
    assert parse_prior("uniform", LABELS, SOURCES).shares == pytest.approx([1 / 3] * 3)  # keywords win


def test_an_unknown_source_is_one_line_naming_the_models_sources():
    with pytest.raises(NamelangError) as caught:
        parse_prior("archiv", LABELS, SOURCES)
    message = str(caught.value)
    assert "(archive, uniform)" in message and "'archiv'" in message and "\n" not in message
    with pytest.raises(NamelangError, match=r"stores no source priors\); no file 'mimesis'"):
        parse_prior("mimesis", LABELS)
    with pytest.raises(NamelangError, match="no source '/etc/passwd'"):  # the HTTP API reads no file
        parse_prior("/etc/passwd", LABELS, SOURCES, files=False)


def test_a_source_prior_moves_from_the_training_shares_a_file_from_the_fitted_prior(tmp_path):
    trained, fitted = np.array([0.5, 0.3, 0.2]), np.array([0.4, 0.4, 0.2])
    probs, _ = synthetic(np.array([0.8, 0.1, 0.1]), 500, trained, seed=10)
    model = ModelUncertainty(LABELS, fitted, None, SOURCES, trained)
    by_source = Adjustment.of_model(model, ScoreOptions(prior="archive")).probabilities(probs)
    assert by_source == pytest.approx(reweight(probs, trained, np.array([0.8, 0.1, 0.1])))
    path = tmp_path / "archive.json"
    path.write_text(json.dumps(SOURCES["archive"]))
    by_file = Adjustment.of_model(model, ScoreOptions(prior=str(path))).probabilities(probs)
    assert by_file == pytest.approx(reweight(probs, fitted, np.array([0.8, 0.1, 0.1])))
    mix = table_mix(probs, model.prior, LABELS, prior=model.parse("archive"), resamples=0)
    assert mix.prior == "archive" and mix.top1 == pytest.approx(
        np.bincount(by_source.argmax(1), minlength=3) / 500
    )


@pytest.fixture(scope="module")
def registers_trained(tmp_path_factory):
    """Two sources prepared together (tests/fixtures/registers: a `census` folder and a `register` CSV)
    and two tiny GRUs trained on them, `tiny` (the default) and `g1`."""
    from namelang.data.sources import read_sources
    from namelang.data.split import prepare
    from tests.conftest import TINY_MODEL
    from tests.test_sources import CENSUS, COLUMNS, REGISTER

    home = tmp_path_factory.mktemp("registers") / "home"
    prepare(read_sources([str(CENSUS), str(REGISTER)], home, **COLUMNS), home, val=0.2, test=0.2, seed=0)
    for args in (["--name", "tiny"], ["--name", "g1", "--seed", "1", "--no-default"]):
        _train(home, *args, *TINY_MODEL)
    return home


def _train(home, *args):
    from typer.testing import CliRunner

    from namelang.cli.app import app

    result = CliRunner().invoke(app, ["train", "--home", str(home), "-q", *args])
    assert result.exit_code == 0, result.output


def _train_split_counts(home, source: str):
    import csv
    from collections import Counter

    with open(home / "prepared" / "train.csv", encoding="utf-8", newline="") as handle:
        return Counter(r["label"] for r in csv.DictReader(handle) if source in r["source"].split(";"))


def test_train_stores_each_sources_shares_of_the_train_split(registers_trained, tiny_home):
    from namelang import Classifier
    from namelang.data.split import read_manifest

    recorded = {s.name: s.rows["train"] for s in read_manifest(registers_trained).sources}
    card = Classifier.load("tiny", home=registers_trained).card
    assert set(card.source_priors) == {"census", "register"}
    for source, shares in card.source_priors.items():
        counts = _train_split_counts(registers_trained, source)
        assert counts == recorded[source]  # the manifest counts a row both sources hold in each, too
        total = sum(counts.values()) + len(card.labels)
        assert shares == pytest.approx({lb: (counts[lb] + 1) / total for lb in card.labels})
    assert _train_split_counts(registers_trained, "census;register") == {}  # not a source of its own
    # The n-gram model stores them too; one source (the tiny corpus folder `src`) gives one prior.
    _train(tiny_home, "--arch", "ngram", "--name", "ng")
    ng = Classifier.load("ng", home=tiny_home).card
    counts = _train_split_counts(tiny_home, "src")
    total = sum(counts.values()) + len(ng.labels)
    assert list(ng.source_priors) == ["src"]
    assert ng.source_priors["src"] == pytest.approx({lb: (counts[lb] + 1) / total for lb in ng.labels})


NAMES = ["Ivanov", "Novak", "Papadopoulos", "Smirnova", "Kowalski", "Dvorak"]


def test_predict_prior_source_reweights_from_the_training_shares(invoke, registers_trained):
    import json as json_

    from namelang import Classifier

    clf = Classifier.load("tiny", home=registers_trained)
    k = len(clf.labels)
    args = ("predict", *NAMES, "--top-k", k, "--format", "json", "--home", registers_trained)
    result = invoke(*args, "--prior", "census")
    assert result.exit_code == 0, result.output
    got = {
        r["name"]: {p["label"]: p["probability"] for p in r["predictions"]}
        for r in json_.loads(result.stdout)
    }
    trained = np.array([clf.card.data.train_label_counts[lb] for lb in clf.labels], dtype=float)
    census = np.array([clf.card.source_priors["census"][lb] for lb in clf.labels])
    want = reweight(clf.predict_proba(NAMES), trained / trained.sum(), census)  # Bayes' rule, by hand
    for name, row in zip(NAMES, want):
        assert [got[name][lb] for lb in clf.labels] == pytest.approx(row, abs=2e-6)
    plain = json_.loads(invoke(*args).stdout)
    assert plain != json_.loads(result.stdout)  # the prior moved something


def test_an_unknown_source_is_one_line_and_exit_1(invoke, registers_trained):
    from tests.conftest import assert_user_error

    result = invoke("predict", "Ivanov", "--prior", "censsu", "--home", registers_trained)
    assert_user_error(result, "(census, register)", "'censsu'", alone=True)
    result = invoke("evaluate", "--prior", "censsu", "--home", registers_trained)
    assert_user_error(result, "(census, register)", "'censsu'")


def test_evaluate_tag_file_and_the_mix_take_a_source_prior(invoke, registers_trained, tmp_path):
    import json as json_

    import namelang
    from namelang import Classifier

    report = json_.loads(invoke("evaluate", "--prior", "register", "--split", "val", "--format", "json",
                                "--home", registers_trained).stdout)  # fmt: skip
    assert report["prior"] == "register"
    table = tmp_path / "people.csv"
    table.write_text("surname\n" + "\n".join(NAMES) + "\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    clf = Classifier.load("tiny", home=registers_trained)
    summary = namelang.tag_file(
        table, out, model=clf, options=namelang.ScoreOptions(prior="register", top_k=1),
        summary=namelang.MixOptions(bootstrap=0),
    )  # fmt: skip
    model = ModelUncertainty.of(clf)
    moved = reweight(clf.predict_proba(NAMES), model.trained, model.parse("register").shares)
    assert [line.split(",")[1] for line in out.read_text().splitlines()[1:]] == [
        clf.labels[i] for i in moved.argmax(axis=1)
    ]
    assert summary.mix.prior == "register"


def test_an_ensemble_carries_its_members_source_priors(invoke, registers_trained):
    from namelang import Classifier

    result = invoke("ensemble", "tiny", "g1", "--name", "ens", "--home", registers_trained)
    assert result.exit_code == 0, result.output
    ensemble = Classifier.load("ens", home=registers_trained)
    assert ensemble.card.source_priors == Classifier.load("tiny", home=registers_trained).card.source_priors
    result = invoke("predict", "Novak", "--prior", "register", "--model", "ens", "--home", registers_trained)
    assert result.exit_code == 0, result.output


def test_a_model_trained_before_source_priors_loads_and_says_it_has_none(invoke, registers_trained, tmp_path):
    import json as json_
    import shutil

    from tests.conftest import assert_user_error

    old = tmp_path / "old"
    shutil.copytree(registers_trained / "models" / "tiny", old)
    card = json_.loads((old / "model.json").read_text())
    del card["source_priors"]
    (old / "model.json").write_text(json_.dumps(card))
    shown = json_.loads(invoke("models", "show", old, "--home", registers_trained).stdout)
    assert shown["source_priors"] is None
    assert (
        invoke(
            "predict", "Novak", "--model", old, "--prior", "uniform", "--home", registers_trained
        ).exit_code
        == 0
    )
    result = invoke("predict", "Novak", "--model", old, "--prior", "census", "--home", registers_trained)
    assert_user_error(result, "this model stores no source priors", "'census'", alone=True)


def test_models_show_lists_the_source_priors(invoke, registers_trained):
    import json as json_

    shown = json_.loads(invoke("models", "show", "tiny", "--home", registers_trained).stdout)
    assert set(shown["source_priors"]) == {"census", "register"}
    assert sum(shown["source_priors"]["census"].values()) == pytest.approx(1)
