"""The scoring records and steps on their own, without a terminal: ScoreOptions, PredictionColumns,
Adjustment (priors, sets, the mix), Cells, the record encoder and `tag_file` over lists and sinks."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import numpy as np
import pytest

import namelang
from namelang.errors import NamelangError
from namelang.inference import Classifier
from namelang.scoring import MixOptions, PredictionColumns, ScoreOptions, TableOptions
from namelang.scoring.adjust import Adjustment
from namelang.scoring.cells import Cells, factorize
from namelang.scoring.records import csv_cells, json_texts
from namelang.scoring.sinks import Sink
from namelang.uncertainty import DistinctNames, ModelUncertainty, estimate_prior, reweight, table_mix

LABELS = ["A", "B", "C"]


# --- ScoreOptions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field, value",
    [("top_k", 0), ("top_k", 2.5), ("top_k", True), ("min_prob", 1.5), ("min_prob", float("nan")),
     ("coverage", 1.0), ("coverage", 0.0), ("coverage", float("inf"))],
)  # fmt: skip
def test_score_options_refuse_bad_values_naming_the_parameter(field, value):
    from namelang.cli.options import flag_words

    with pytest.raises(NamelangError) as caught:
        ScoreOptions(**{field: value})
    assert str(caught.value).startswith(field)  # worded for Python ...
    assert caught.value.worded(flag_words).startswith("--" + field.replace("_", "-"))  # ... and for the CLI


def test_score_options_plain_and_defaults():
    assert ScoreOptions().plain and ScoreOptions(prior=None).prior == "train"
    assert not ScoreOptions(prior="uniform").plain and ScoreOptions(prior="uniform").reweights
    assert not ScoreOptions(coverage=0.9).plain and not ScoreOptions(coverage=0.9).reweights
    assert ScoreOptions(explain=True, min_prob=0.5, top_k=1).plain  # a name's answer is its own
    with pytest.raises(TypeError):
        ScoreOptions(3)  # keyword-only: a record, not a positional hand-off
    assert namelang.ScoreOptions is ScoreOptions and namelang.TableOptions is TableOptions


# --- PredictionColumns ------------------------------------------------------------------------------


def test_prediction_columns_name_every_added_column_by_kind():
    columns = PredictionColumns.of(ScoreOptions(top_k=40, prefix="ml_", coverage=0.9, explain=True), LABELS)
    assert columns.k == 3  # at most the model's labels
    assert columns.pairs[:2] == [("ml_prediction", "ml_probability"), ("ml_prediction_2", "ml_probability_2")]
    assert (columns.prediction, columns.probability) == ("ml_prediction", "ml_probability")
    assert columns.extra == ["ml_prediction_set", "ml_script_path"]
    assert columns.names == [*(c for pair in columns.pairs for c in pair), *columns.extra]
    kinds = columns.kinds()
    assert [kinds[c] for c in columns.names] == ["label", "probability"] * 3 + ["set", "path"]
    plain = PredictionColumns.of(ScoreOptions(top_k=1), LABELS)
    assert plain.names == ["prediction", "probability"] and plain.extra == []


def test_prediction_columns_types_and_clash():
    import pandas as pd
    import pyarrow as pa

    from namelang.cli.options import flag_words

    columns = PredictionColumns(2, "", sets=True)
    meta = columns.meta(pd.DataFrame({"id": pd.Series([], dtype="int64")}))
    assert list(meta.columns) == ["id", *columns.names]
    assert [str(meta[c].dtype) for c in columns.names] == ["object", "float64"] * 2 + ["object"]
    assert [f.type for f in columns.arrow_fields()] == [pa.string(), pa.float64()] * 2 + [pa.string()]
    schema = columns.text_schema(["id", "name"])
    assert schema.names == ["id", "name", *columns.names] and schema.field("id").type == pa.string()
    own = pa.schema([pa.field("n", pa.int32())], metadata={b"k": b"v"})
    assert columns.arrow_schema(own).metadata == {b"k": b"v"}
    with pytest.raises(NamelangError) as caught:
        columns.check_clash(["name", "prediction_set"])
    assert "'prediction_set'" in str(caught.value) and "prefix='ml_'" in str(caught.value)
    assert "--prefix ml_" in caught.value.worded(flag_words)
    for fmt in (None, "csv", "tsv", "parquet"):  # a column like any other
        columns.check_clash(["name", "predictions"], fmt)
    for fmt in ("json", "jsonl"):  # the key a JSON record gives the answers
        with pytest.raises(NamelangError, match="a column 'predictions'.*fmt='csv'"):
            columns.check_clash(["name", "predictions"], fmt)


# --- Adjustment ---------------------------------------------------------------------------------------


@pytest.fixture
def model():
    conformal = {"thresholds": {"0.9": 0.25}}
    return ModelUncertainty(LABELS, np.array([0.6, 0.3, 0.1]), conformal, {"census": {"A": 0.2, "B": 0.2, "C": 0.6}},
                            np.array([0.5, 0.3, 0.2]))  # fmt: skip


PROBS = np.array([[0.7, 0.2, 0.1], [0.3, 0.4, 0.3], [np.nan] * 3, [0.1, 0.1, 0.8]], dtype=np.float32)


def test_an_adjustment_applies_the_prior_the_library_defines(model):
    # A source's shares move from the training split's (`trained`), the others from the model's prior.
    for prior, source, target in [("uniform", model.prior, np.full(3, 1 / 3)),
                                  ("census", model.trained, np.array([0.2, 0.2, 0.6])),
                                  ({"A": 1, "B": 1, "C": 2}, model.prior, np.array([0.25, 0.25, 0.5]))]:  # fmt: skip
        adjustment = Adjustment.of_model(model, ScoreOptions(prior=prior))
        want = reweight(PROBS.astype(np.float64), source, target)
        assert np.allclose(adjustment.probabilities(PROBS), want, equal_nan=True), prior
        assert adjustment.sets(PROBS) is None  # no coverage, no sets
    same = Adjustment.of_model(model, ScoreOptions(coverage=0.9))
    assert same.probabilities(PROBS) is PROBS  # the model's own prior: untouched
    assert same.sets(PROBS) == ["A", "B|A|C", "", "C"]  # most probable first; blank: empty


def test_an_estimated_prior_is_settled_by_a_pass_and_handed_on(model):
    pending = Adjustment.of_model(model, ScoreOptions(prior="estimate"))
    assert pending.pending
    with pytest.raises(ValueError):
        pending.probabilities(PROBS)  # no hidden state: the estimate is the caller's pass
    settled = pending.settled(PROBS)
    assert not settled.pending and pending.pending  # a new value; the first is unchanged
    found = estimate_prior(PROBS[[0, 1, 3]], model.prior)  # EM over the rows with a name
    want = reweight(PROBS.astype(np.float64), found.source, found.prior)
    assert np.allclose(settled.probabilities(PROBS), want, equal_nan=True)
    # Distinct rows with counts estimate what the repeated rows do.
    repeated = np.concatenate([PROBS, PROBS[[0, 0, 3]]])
    by_counts = pending.settled(PROBS[[0, 1, 3]], np.array([3, 1, 2]))
    assert np.allclose(by_counts.target, pending.settled(repeated).target, atol=1e-6)
    nothing = pending.settled(PROBS[[2]])  # only blank rows: the model's own prior
    assert np.array_equal(nothing.target, nothing.source)


def test_the_mix_of_collected_names(model):
    seen = DistinctNames(3)
    seen.add(["a", "b", "", "c"], PROBS)
    seen.add(["a"], PROBS[[0]])
    adjustment = Adjustment.of_model(model, ScoreOptions(prior="uniform"))
    mix = adjustment.mix(seen, MixOptions(bootstrap=0))
    probs, counts = seen.arrays()
    want = table_mix(probs, model.prior, LABELS, counts, model.parse("uniform"), 0)
    assert mix.rows == 4 and mix.distinct == 3 and mix.prior == "uniform"
    assert np.allclose(mix.probability_sum, want.probability_sum) and np.allclose(mix.em, want.em)
    moved = reweight(probs, model.prior, np.full(3, 1 / 3))
    assert np.allclose(mix.top1, np.bincount(moved.argmax(1), weights=counts, minlength=3) / 4)


# --- Cells and the record encoder ------------------------------------------------------------------


class Stub:
    """A classifier's face as Cells sees it: labels, rank, script_paths."""

    labels = LABELS
    rank = Classifier.rank

    def script_paths(self, names):
        return [f"path of {n}" if n.strip() else "" for n in names]


def test_cells_rank_abstain_and_blank_once():
    columns = PredictionColumns.of(ScoreOptions(top_k=2, explain=True), LABELS)
    cells = Cells.of(Stub(), ["x", "y", " ", "z"], PROBS, columns, min_prob=0.5)
    assert cells.labels[0].tolist() == ["A", None, "", "C"]  # y is below 0.5: no prediction
    assert cells.labels[1].tolist() == ["B", "A", "", "A"]  # its runner-up stays
    assert np.isnan(cells.probabilities[0][[1, 2]]).all() and cells.probabilities[0][0] == pytest.approx(0.7)
    assert cells.blank.tolist() == [False, False, True, False] and cells.below.tolist() == [
        False,
        True,
        False,
        False,
    ]
    assert cells.paths.tolist() == ["path of x", "path of y", "", "path of z"]
    nulls = dict(cells.named(nulls=True))
    assert nulls["prediction"].tolist() == ["A", None, None, "C"] and nulls["script_path"][2] is None


def test_json_records_have_one_shape():
    columns = PredictionColumns.of(ScoreOptions(top_k=2, coverage=0.9), LABELS)
    named = [
        ("id", np.array([1.0, np.nan, 3.0, 4.0])),
        ("name", ["x", "y", "", "Zoë"]),
        ("prediction", np.array(["A", None, "", "C"], dtype=object)),
        ("probability", np.array([0.7, np.nan, np.nan, 0.123456789])),
        ("prediction_2", np.array(["B", "A", "", "A"], dtype=object)),
        ("probability_2", np.array([0.2, 0.3, np.nan, 0.1])),
        ("prediction_set", np.array(["A|B", "A|B|C", "", "C"], dtype=object)),
    ]
    want = [
        {"id": 1.0, "name": "x", "predictions": [{"label": "A", "probability": 0.7}, {"label": "B", "probability": 0.2}],
         "prediction_set": ["A", "B"]},
        {"id": None, "name": "y", "predictions": [{"label": None, "probability": None}, {"label": "A", "probability": 0.3}],
         "prediction_set": ["A", "B", "C"]},
        {"id": 3.0, "name": "", "predictions": [], "prediction_set": []},
        {"id": 4.0, "name": "Zoë", "predictions": [{"label": "C", "probability": 0.123457}, {"label": "A", "probability": 0.1}],
         "prediction_set": ["C"]},
    ]  # fmt: skip
    assert json_texts(named, columns) == [json.dumps(w, ensure_ascii=False) for w in want]
    assert json_texts([("name", [])], columns) == []
    assert csv_cells(named[6][1]) == ["A|B", "A|B|C", "", "C"]  # CSV: one cell, joined by '|'
    assert csv_cells(named[3][1]) == ["0.700000", "", "", "0.123457"]
    assert csv_cells(np.array([1, 2])) is None  # ints: written as pandas writes them


def test_factorize_with_and_without_pandas():
    values = ["b", None, "a", "b", float("nan")]
    codes, distinct = factorize(values)
    assert distinct == ["b", "a"] and codes.tolist() == [0, -1, 1, 0, -1]
    code = "from namelang.scoring.cells import factorize; import sys; print(factorize(['b', None, 'a', 'b'])[0].tolist(), 'pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["[0,", "-1,", "1,", "0]", "False"]


# --- tag_file over a list, into a Sink ----------------------------------------------------------------


class Keep(Sink):
    def __init__(self):
        self.chunks, self.closed = [], False

    def write(self, chunk):
        self.chunks.append(chunk)

    def close(self):
        self.closed = True


def test_tag_file_takes_a_list_a_sink_and_a_model_name(tmp_path, monkeypatch):
    monkeypatch.setenv("NAMELANG_HOME", str(tmp_path))
    sink = Keep()
    names = ["Satoshi", "", "Dovesky", "Satoshi"]
    options = ScoreOptions(top_k=2, coverage=0.9, explain=True)
    summary = namelang.tag_file(names, sink, model="pretrained", options=options, summary=MixOptions(bootstrap=0),
                                table=TableOptions(batch_size=3))  # fmt: skip
    assert sink.closed and [len(chunk[0][1]) for chunk in sink.chunks] == [3, 1]
    got = dict(sink.chunks[0])
    assert got["name"] == names[:3] and got["prediction"][1] == "" and got["prediction_set"][1] == ""
    assert (summary.rows, summary.blank, summary.model, summary.mix.rows) == (4, 1, "pretrained", 3)
    clf = Classifier.load("pretrained", device="cpu")
    frame = clf.predict_frame(__import__("pandas").DataFrame({"name": names}), options=options)
    assert frame["prediction_set"].tolist()[:3] == got["prediction_set"].tolist()
    assert frame["script_path"].tolist()[:3] == got["script_path"].tolist()


def test_an_estimated_prior_over_a_table_equals_it_over_a_frame(tmp_path):
    import pandas as pd

    clf = Classifier.load("pretrained", device="cpu")
    names = ["Smith", "Kelly", "Ivanov", "Tanaka", "Smith", "", "O'Neill", "Nguyen"] * 3
    options = ScoreOptions(prior="estimate", top_k=2)
    out = io.StringIO()
    namelang.tag_file(names, out, model=clf, options=options, table=TableOptions(fmt="csv", batch_size=5))
    table = pd.read_csv(io.StringIO(out.getvalue()), keep_default_na=False)
    frame = clf.predict_frame(pd.DataFrame({"name": names}), options=options)
    assert table["prediction"].tolist() == frame["prediction"].tolist()
    assert np.allclose(pd.to_numeric(table["probability"].replace("", np.nan)), frame["probability"],
                       atol=2e-6, equal_nan=True)  # fmt: skip


def test_names_in_a_list_are_tagged_without_pandas(tmp_path):
    code = (
        "import io, sys, namelang\n"
        "out = io.StringIO()\n"
        "namelang.tag_file(['Satoshi', ''], out, model='pretrained', "
        "options=namelang.ScoreOptions(coverage=0.9), table=namelang.TableOptions(fmt='json'))\n"
        "print(out.getvalue()); print('pandas' in sys.modules)"
    )
    env = {"NAMELANG_HOME": str(tmp_path), "PATH": ""}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    text, loaded = done.stdout.rsplit("\n", 2)[:2]
    assert loaded == "False"
    records = json.loads(text)
    assert records[0]["prediction_set"] and records[1] == {
        "name": "",
        "predictions": [],
        "prediction_set": [],
    }


def test_a_tagger_that_applies_a_prior_or_sets_is_given_its_adjustment():
    from types import SimpleNamespace

    from namelang.scoring.step import Tagger

    stub = SimpleNamespace(labels=LABELS)
    assert Adjustment.for_table(stub, ScoreOptions()) is None  # plain and no mix: nothing to build
    Tagger(stub, 0, ScoreOptions())
    for options in (ScoreOptions(prior="uniform"), ScoreOptions(coverage=0.9)):
        with pytest.raises(ValueError, match="Adjustment"):
            Tagger(stub, 0, options)  # not built behind the caller's back (Adjustment.for_table)
