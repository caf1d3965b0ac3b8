"""`predict --explain`: the `script_path` column, on every input shape and output format.

The shipped model (it has Korean, Japanese, Greek and Russian labels, and a lexicon of its train names)
runs from an empty workspace.
"""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from namelang.inference import Classifier

# name -> the path it takes with the shipped model; a blank name gets an empty one.
PATHS = {
    "Smirnova": "lexicon",  # a name of the shipped model's train split: answered from its lexicon
    "Zyxwarova": "model",  # a name no source holds
    "Смирнова": "lexicon",  # written in Latin (Smirnova), a train name
    "Зыхварова": "transliterated",
    "Ζυχβαρόπουλος": "transliterated",
    "김": "rule: Hangul -> Korean",
    "スズキ": "rule: Kana -> Japanese",
    "": "",
}
NAMES = list(PATHS)
WANT = list(PATHS.values())


@pytest.fixture
def home(tmp_path):
    return tmp_path / "empty-home"


def read(text: str, fmt: str = "csv") -> pd.DataFrame:
    if fmt in ("json", "jsonl"):
        records = json.loads(text) if fmt == "json" else [json.loads(line) for line in text.splitlines()]
        return pd.DataFrame(records)
    return pd.read_csv(io.StringIO(text), sep="\t" if fmt == "tsv" else ",", dtype=str, keep_default_na=False)


def test_explain_names_each_path_after_the_predictions(home, invoke):
    result = invoke("predict", *NAMES, "--explain", "-f", "csv", "-k", "2", "--home", home)
    assert result.exit_code == 0, result.output
    out = read(result.stdout)
    assert out.columns[-1] == "script_path" and out.columns[-2] == "probability_2"
    assert out["script_path"].tolist() == WANT
    # the Cyrillic spelling scores as its Latin one, kept to Russian or out of scope
    assert out.loc[0, "prediction"] == out.loc[2, "prediction"] == "Russian"
    assert float(out.loc[2, "probability"]) >= float(out.loc[0, "probability"])
    assert out.loc[4, "prediction"] == "Greek" and float(out.loc[4, "probability"]) == 1.0
    assert out.loc[5, "prediction"] == "Korean" and out.loc[7, "prediction"] == ""


def test_no_script_path_without_explain(home, invoke):
    result = invoke("predict", *NAMES, "-f", "csv", "--home", home)
    assert result.exit_code == 0, result.output
    assert "script_path" not in read(result.stdout).columns


@pytest.mark.parametrize("fmt", ["csv", "tsv", "json", "jsonl", "parquet"])
def test_every_format_and_input_shape(fmt, home, tmp_path, invoke):
    import pyarrow as pa
    import pyarrow.parquet as pq

    ids = [str(i) for i in range(len(NAMES))]
    pd.DataFrame({"id": ids, "name": NAMES}).to_csv(tmp_path / "in.csv", index=False)
    pq.write_table(pa.table({"id": ids, "name": [*NAMES[:-1], None]}), tmp_path / "in.parquet")
    (tmp_path / "in.txt").write_text("\n".join(NAMES) + "\n", encoding="utf-8")
    inputs = {"csv": ("-i", tmp_path / "in.csv"), "parquet": ("-i", tmp_path / "in.parquet"),
              "txt": ("-i", tmp_path / "in.txt"), "args": tuple(NAMES)}  # fmt: skip
    for shape, given in inputs.items():
        target = tmp_path / f"{shape}.{fmt}"
        result = invoke(
            "predict", *given, "--explain", "-f", fmt, "-o", target, "--prefix", "ml_", "--home", home
        )
        assert result.exit_code == 0, result.output
        if fmt == "parquet":
            got = pq.read_table(target).column("ml_script_path").to_pylist()
            assert got == [*WANT[:-1], None], shape  # a blank name's cell is null, as its prediction's
        else:
            assert read(target.read_text(encoding="utf-8"), fmt)["ml_script_path"].tolist() == WANT, shape
    stdin = invoke("predict", "--explain", "-f", fmt if fmt != "parquet" else "csv", "--home", home,
                   input="\n".join(NAMES) + "\n")  # fmt: skip
    assert stdin.exit_code == 0, stdin.output
    assert read(stdin.stdout, fmt if fmt != "parquet" else "csv")["script_path"].tolist() == WANT


def test_table_format_shows_the_path(home, invoke):
    result = invoke("predict", "Smirnova", "Зыхварова", "--explain", "-f", "table", "-k", "1", "--home", home)
    assert result.exit_code == 0, result.output
    assert "script path" in result.stdout and "transliterated" in result.stdout


def test_explain_with_prior_coverage_min_prob_and_summary(home, tmp_path, invoke):
    pd.DataFrame({"name": NAMES}).to_csv(tmp_path / "in.csv", index=False)
    args = ("-i", tmp_path / "in.csv", "-k", "1", "--prior", "uniform", "--coverage", "0.9", "--home", home)
    plain = invoke("predict", *args, "-f", "csv", "--min-prob", "0.999")
    result = invoke("predict", *args, "-f", "csv", "--min-prob", "0.999", "--explain")
    assert result.exit_code == 0, result.output
    out, before = read(result.stdout), read(plain.stdout)
    assert list(out.columns) == ["name", "prediction", "probability", "prediction_set", "script_path"]
    assert out.drop(columns="script_path").equals(before)  # --explain adds a column and changes nothing
    assert out["script_path"].tolist() == WANT
    below = (out["prediction"] == "") & (out["script_path"] != "")  # a name below --min-prob: no prediction
    assert below.any() and "unknown" not in out["prediction"].tolist()
    summary = invoke("predict", *args, "--summary", "--explain", "-o", tmp_path / "out.csv")
    assert summary.exit_code == 0, summary.output
    assert read((tmp_path / "out.csv").read_text(encoding="utf-8"))["script_path"].tolist() == WANT
    assert "mix of 7 names" in summary.stderr  # blank names are left out


def test_a_rule_whose_label_the_model_lacks_is_the_model(tiny_trained, invoke):
    # The tiny model has no Korean label: a Hangul name is left to the model, and --explain says so.
    clf = Classifier.load("tiny", home=tiny_trained)
    assert "Korean" not in clf.labels and "Japanese" in clf.labels
    result = invoke("predict", "김", "スズキ", "--explain", "-f", "csv", "--home", tiny_trained)
    assert result.exit_code == 0, result.output
    assert read(result.stdout)["script_path"].tolist() == ["model", "rule: Kana -> Japanese"]


def test_an_input_column_named_script_path_asks_for_a_prefix(home, tmp_path, invoke):
    from conftest import assert_user_error

    pd.DataFrame({"name": ["Ivanov"], "script_path": ["x"]}).to_csv(tmp_path / "in.csv", index=False)
    assert_user_error(invoke("predict", "-i", tmp_path / "in.csv", "--explain", "--home", home), "--prefix")
    assert invoke("predict", "-i", tmp_path / "in.csv", "--home", home).exit_code == 0
