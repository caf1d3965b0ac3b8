"""`namelang predict` and the Python API on every input shape, against a tiny trained model."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
from conftest import assert_user_error

from namelang import Classifier
from namelang.errors import NamelangError

TOP = ["name", "prediction", "probability", "prediction_2", "probability_2", "prediction_3", "probability_3"]


@pytest.fixture(scope="module")
def clf(tiny_trained):
    return Classifier.load("tiny", home=tiny_trained)


def test_api_predict_returns_sorted_probabilities(clf):
    out = clf.predict(["Satoshi", "Dovesky", ""], top_k=3)
    assert len(out) == 3 and out[2] == []
    for row in out[:2]:
        assert len(row) == 3 and all(label in clf.labels for label, _ in row)
        probs = [p for _, p in row]
        assert probs == sorted(probs, reverse=True)
    full = clf.predict_proba(["Satoshi", "Dovesky"])
    assert np.allclose(full.sum(axis=1), 1.0)
    assert out[0][0][1] == pytest.approx(full[0].max())
    with pytest.raises(NamelangError):
        clf.predict("Satoshi")


def test_api_predict_frame_keeps_rows_and_columns(clf):
    frame = pd.DataFrame({"id": [3, 1, 2, 9], "name": ["Tanaka", "", "Ivanov", "Nakamura"]})
    out = clf.predict_frame(frame, column="name", top_k=2)
    assert list(out.columns) == ["id", "name", "prediction", "probability", "prediction_2", "probability_2"]
    assert out["id"].tolist() == [3, 1, 2, 9]
    assert out.loc[1, "prediction"] == "" and np.isnan(out.loc[1, "probability"])
    assert (out.loc[[0, 2, 3], "probability"] >= out.loc[[0, 2, 3], "probability_2"]).all()
    assert frame.columns.tolist() == ["id", "name"]  # the caller's frame is untouched


def test_same_code_path_for_cli_and_api(clf, tiny_trained, invoke):
    result = invoke("predict", "Satoshi", "Dovesky", "--home", tiny_trained, "--format", "csv")
    assert result.exit_code == 0, result.output
    cli = pd.read_csv(io.StringIO(result.stdout))
    api = clf.predict(["Satoshi", "Dovesky"], top_k=3)
    assert list(cli.columns) == TOP
    assert cli["prediction"].tolist() == [row[0][0] for row in api]
    assert np.allclose(cli["probability"], [row[0][1] for row in api], atol=1e-6)


def test_piped_default_is_csv_and_json_shapes(tiny_trained, invoke):
    csv_out = invoke("predict", "Satoshi", "--home", tiny_trained)
    assert csv_out.stdout.splitlines()[0] == ",".join(TOP)
    as_json = json.loads(invoke("predict", "Satoshi", "Ivanov", "-f", "json", "--home", tiny_trained).stdout)
    assert [o["name"] for o in as_json] == ["Satoshi", "Ivanov"]
    assert len(as_json[0]["predictions"]) == 3 and set(as_json[0]["predictions"][0]) == {
        "label",
        "probability",
    }
    lines = invoke("predict", "Satoshi", "Ivanov", "-f", "jsonl", "-k", "1", "--home", tiny_trained).stdout
    objects = [json.loads(line) for line in lines.splitlines()]
    assert [len(o["predictions"]) for o in objects] == [1, 1]


def test_table_format_for_people(tiny_trained, invoke):
    result = invoke("predict", "Satoshi", "Ivanov", "-f", "table", "--home", tiny_trained)
    assert result.exit_code == 0 and "Satoshi" in result.stdout and "#1" in result.stdout


def test_stdin_lines(tiny_trained, invoke):
    result = invoke("predict", "--home", tiny_trained, "-k", "1", input="Tanaka\n\nIvanov\n")
    assert result.exit_code == 0, result.output
    out = pd.read_csv(io.StringIO(result.stdout), keep_default_na=False)
    assert out["name"].tolist() == ["Tanaka", "", "Ivanov"] and out.loc[1, "prediction"] == ""


def test_csv_with_blank_and_odd_rows_keeps_order_and_count(tiny_trained, tmp_path, invoke):
    rows = [
        ("1", "Tanaka", "x"),
        ("2", "", "blank"),
        ("3", "   ", "spaces"),
        ("4", "李小龙", "cjk"),
        ("5", "😀🙂", "emoji"),
        ("6", "Q" * 500, "long"),
        ("7", '"Quoted, with comma"', "quoted"),
        ("8", "Ivanov", "y"),
    ]
    src = tmp_path / "people.csv"
    src.write_text("id,surname,note\n" + "\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    out_path = tmp_path / "tagged.csv"
    result = invoke("predict", "--input", src, "--column", "surname", "-o", out_path, "--home", tiny_trained)
    assert result.exit_code == 0, result.output
    out = pd.read_csv(out_path, dtype=str, keep_default_na=False)
    assert out["id"].tolist() == [r[0] for r in rows]
    assert out["note"].tolist() == [r[2] for r in rows]
    assert list(out.columns[:3]) == ["id", "surname", "note"] and "prediction_3" in out.columns
    assert out.loc[1, "prediction"] == "" and out.loc[2, "prediction"] == ""
    assert all(out.loc[i, "prediction"] != "" for i in (0, 3, 4, 5, 6, 7))  # unknown characters still score
    assert not list(tmp_path.glob(".tagged*"))  # no temporary file left behind


def test_tsv_stdin_and_prefix(tiny_trained, invoke):
    data = "name\tprediction\nTanaka\tmine\n"
    clash = invoke("predict", "--input", "-", "--home", tiny_trained, input=data)
    assert_user_error(clash, "already has a column 'prediction'", "--prefix")
    result = invoke(
        "predict", "--input", "-", "--prefix", "ml_", "-k", "1", "--home", tiny_trained, input=data
    )
    assert result.exit_code == 0, result.output
    out = pd.read_csv(io.StringIO(result.stdout))
    assert list(out.columns) == ["name", "prediction", "ml_prediction", "ml_probability"]
    assert out.loc[0, "prediction"] == "mine"


def test_min_prob_abstains_with_no_prediction_unlike_unknown(tmp_path, invoke):
    """The shipped model: Korhonen is `unknown` (Finnish, a language outside the 18) at 0.82; Silva's top
    is under 0.5, so
    with --min-prob 0.5 it gets no prediction at all: empty in CSV, null in JSON and Parquet; its
    probability is not the top language's, and prediction_2 stays the runner-up."""
    src = tmp_path / "in.csv"
    src.write_text("name\nSilva\nKorhonen\n\n", encoding="utf-8")
    args = ("-i", src, "-m", "pretrained", "--min-prob", "0.5", "-k", "2", "--home", tmp_path)
    result = invoke("predict", *args, "-f", "csv")
    assert result.exit_code == 0, result.output
    rows = result.stdout.splitlines()
    assert rows[1].startswith("Silva,,,") and rows[1].split(",")[3] not in ("", "unknown")
    assert rows[2].startswith("Korhonen,unknown,0.8") and rows[3] == ",,,,"
    assert "1 blank, 1 below --min-prob 0.5: no prediction" in result.stderr
    records = json.loads(invoke("predict", *args, "-f", "json").stdout)
    assert records[0]["predictions"][0] == {"label": None, "probability": None}
    assert records[0]["predictions"][1]["label"] == rows[1].split(",")[3]
    assert records[1]["predictions"][0]["label"] == "unknown" and records[2]["predictions"] == []
    parquet = tmp_path / "out.parquet"
    assert invoke("predict", *args, "-o", parquet).exit_code == 0
    got = pd.read_parquet(parquet)
    assert got["prediction"].isna().tolist() == [True, False, True]  # Silva (below) and the blank name
    assert got["probability"].isna().tolist() == [True, False, True] and got.loc[1, "prediction"] == "unknown"
    assert got["prediction_2"].notna().tolist() == [True, True, False]
    table = invoke("predict", *args, "-f", "table")
    assert "(below 0.5)" in table.stdout and "unknown" in table.stdout


def test_missing_column_lists_columns(tiny_trained, tmp_path, invoke):
    src = tmp_path / "x.csv"
    src.write_text("id,surname\n1,Tanaka\n", encoding="utf-8")
    assert_user_error(
        invoke("predict", "--input", src, "--column", "name", "--home", tiny_trained), "id, surname"
    )
    # Without --column, a file with several columns and none called `name` is an error too.
    assert_user_error(invoke("predict", "--input", src, "--home", tiny_trained), "'name'")


def test_invalid_utf8_and_nul_name_the_line(tiny_trained, tmp_path, invoke):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"name\nTanaka\nIvanov\nM\xfcller\n")
    assert_user_error(invoke("predict", "--input", bad, "--home", tiny_trained), "line 4", "UTF-8")
    nul = tmp_path / "nul.csv"
    nul.write_bytes(b"name\nTanaka\nIva\x00nov\n")
    assert_user_error(invoke("predict", "--input", nul, "--home", tiny_trained), "line 3", "NUL")
    assert_user_error(invoke("predict", "--home", tiny_trained, input=b"Tanaka\n\xff\xfe\n"), "line 2")


def test_failed_run_keeps_existing_output(tiny_trained, tmp_path, invoke):
    out = tmp_path / "out.csv"
    out.write_text("precious\n")
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"name\n" + b"Tanaka\n" * 10 + b"\xff\n")
    result = invoke("predict", "--input", bad, "-o", out, "--batch-size", "3", "--home", tiny_trained)
    assert result.exit_code == 1 and out.read_text() == "precious\n"


def test_chunked_input_matches_single_chunk(tiny_trained, tmp_path, invoke):
    names = ["Tanaka", "Ivanov", "", "Papadopoulos", "Wong", "Haddad"] * 7
    src = tmp_path / "many.csv"
    src.write_text("name\n" + "\n".join(names) + "\n", encoding="utf-8")
    small = invoke("predict", "--input", src, "--batch-size", "5", "--home", tiny_trained)
    big = invoke("predict", "--input", src, "--home", tiny_trained)
    assert small.exit_code == 0 and small.stdout == big.stdout
    assert len(small.stdout.splitlines()) == len(names) + 1


def test_text_file_one_name_per_line(tiny_trained, tmp_path, invoke):
    src = tmp_path / "names.txt"
    src.write_text("Tanaka\nSmith, John\n", encoding="utf-8")
    out = pd.read_csv(io.StringIO(invoke("predict", "-i", src, "--home", tiny_trained).stdout))
    assert out["name"].tolist() == ["Tanaka", "Smith, John"]


def test_usage_errors(tiny_trained, tmp_path, invoke):
    assert_user_error(invoke("predict", "--home", tiny_trained, input=""), "<stdin> is empty")
    both = invoke("predict", "A", "--input", "x.csv", "--home", tiny_trained)
    assert both.exit_code == 2 and "not both" in both.stderr  # a usage mistake
    assert_user_error(
        invoke("predict", "A", "--model", "nope", "--home", tiny_trained), "unknown model 'nope'"
    )
    assert_user_error(
        invoke("predict", "--input", tmp_path / "none.csv", "--home", tiny_trained), "no such file"
    )
    assert invoke("predict", "A", "-k", "0", "--home", tiny_trained).exit_code == 2  # Click's usage error


def test_pretrained_model_works_without_a_workspace(tmp_path, invoke):
    result = invoke("predict", "Satoshi", "Ivanov", "--home", tmp_path / "empty", "-k", "1")
    assert result.exit_code == 0, result.output
    out = pd.read_csv(io.StringIO(result.stdout))
    assert out["prediction"].tolist() == ["Japanese", "Russian"]
    assert result.stderr == "2 rows scored by pretrained (gru, cpu)\n"
    assert not (tmp_path / "empty").exists()  # predicting writes nothing into the workspace
    clf = Classifier.load(home=tmp_path / "empty")
    assert clf.name == "pretrained" and {"Japanese", "Russian"} <= set(clf.labels)


def test_architecture_without_numpy_engine_runs_on_torch(tiny_trained, monkeypatch):
    from namelang.models.registry import GRUSpec

    numpy_probs = Classifier.load("tiny", home=tiny_trained).predict_proba(["Tanaka", "Ivanov", ""])

    def missing(self, state, n_chars, n_labels):
        raise NotImplementedError

    monkeypatch.setattr(GRUSpec, "numpy_engine", missing)
    clf = Classifier.load("tiny", home=tiny_trained, device="cpu")
    torch_probs = clf.predict_proba(["Tanaka", "Ivanov", ""])
    assert np.allclose(numpy_probs[:2], torch_probs[:2], atol=1e-5)
    assert np.isnan(torch_probs[2]).all()


def test_one_column_file_uses_that_column_in_every_format(tiny_trained, tmp_path, invoke):
    src = tmp_path / "surnames.csv"
    src.write_text("surname\nTanaka\nIvanov\n", encoding="utf-8")
    table = invoke("predict", "-i", src, "-f", "table", "--home", tiny_trained)
    assert table.exit_code == 0 and "surname" in table.stdout and "Tanaka" in table.stdout
    as_json = json.loads(invoke("predict", "-i", src, "-f", "json", "--home", tiny_trained).stdout)
    assert [o["surname"] for o in as_json] == ["Tanaka", "Ivanov"] and as_json[0]["predictions"]


def test_header_only_csv_gives_header_and_added_columns(tiny_trained, tmp_path, invoke):
    src = tmp_path / "empty.csv"
    src.write_text("id,name\n", encoding="utf-8")
    result = invoke("predict", "-i", src, "-k", "1", "--home", tiny_trained)
    assert result.exit_code == 0, result.output
    assert result.stdout == "id,name,prediction,probability\n"
    assert "0 rows scored" in result.stderr


def test_output_into_a_missing_folder_creates_nothing(tiny_trained, tmp_path, invoke):
    target = tmp_path / "no" / "such" / "out.csv"
    result = invoke("predict", "Tanaka", "-o", target, "--home", tiny_trained)
    assert_user_error(result, "no such folder", str(target.parent), alone=True)
    assert not (tmp_path / "no").exists()


def test_a_failed_predict_prints_only_its_error(tiny_trained, tmp_path, invoke):
    src = tmp_path / "x.csv"
    src.write_text("id,surname\n1,Tanaka\n", encoding="utf-8")
    assert_user_error(invoke("predict", "-i", src, "-c", "nope", "--home", tiny_trained), "nope", alone=True)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"name\nTanaka\n\xff\n")
    assert_user_error(invoke("predict", "-i", bad, "--home", tiny_trained), "line 3", alone=True)


def test_a_repeated_column_name_keeps_its_header(tiny_trained, tmp_path, invoke):
    src = tmp_path / "dup.csv"
    src.write_text("name,name\nTanaka,x\n,y\n", encoding="utf-8")
    result = invoke("predict", "-i", src, "-k", "1", "--home", tiny_trained)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "name,name,prediction,probability"
    assert lines[1].startswith("Tanaka,x,") and lines[2] == ",y,,"  # the first `name` is scored


def test_encoding_option(tiny_trained, tmp_path, invoke):
    src = tmp_path / "latin.csv"
    src.write_bytes("name\nMüller\nTanaka\n".encode("latin-1"))
    error = assert_user_error(invoke("predict", "-i", src, "--home", tiny_trained), "line 2", alone=True)
    assert "--encoding" in error
    result = invoke("predict", "-i", src, "--encoding", "latin-1", "-k", "1", "--home", tiny_trained)
    assert result.exit_code == 0, result.output
    assert pd.read_csv(io.StringIO(result.stdout))["name"].tolist() == ["Müller", "Tanaka"]
    utf16 = tmp_path / "utf16.csv"
    utf16.write_bytes("name\nMüller\n".encode("utf-16"))
    result = invoke("predict", "-i", utf16, "--encoding", "utf-16", "-k", "1", "--home", tiny_trained)
    assert result.exit_code == 0 and result.stdout.splitlines()[1].startswith("Müller,"), result.output
    assert_user_error(
        invoke("predict", "-i", src, "--encoding", "klingon", "--home", tiny_trained), "klingon"
    )


def test_an_encoded_table_is_read_twice_in_its_encoding(tiny_trained, tmp_path, invoke):
    """--prior estimate reads the input twice: the second pass decodes it as --encoding said too."""
    src = tmp_path / "latin.csv"
    src.write_bytes("name\nMüller\nTanaka\n".encode("latin-1"))
    common = ("-i", src, "--encoding", "latin-1", "--prior", "estimate", "--home", tiny_trained)
    result = invoke("predict", *common, "-k", "1")
    assert result.exit_code == 0, result.output
    assert pd.read_csv(io.StringIO(result.stdout))["name"].tolist() == ["Müller", "Tanaka"]
    summary = tmp_path / "mix.json"
    result = invoke("predict", *common, "--summary", "--summary-output", summary, "--bootstrap", "0")
    assert result.exit_code == 0, result.output
    assert json.loads(summary.read_text())["rows"] == 2


def test_documented_stdin_examples_skip_the_header(tiny_trained, tmp_path):
    import os
    import subprocess

    (tmp_path / "surnames.csv").write_text("surname,city\nTanaka,Osaka\nIvanov,Kyiv\n", encoding="utf-8")
    env = {**os.environ, "NAMELANG_HOME": str(tiny_trained)}
    for command in (  # as the README writes them
        "cut -d, -f1 surnames.csv | tail -n +2 | namelang predict --format jsonl",
        "namelang predict --input - --column surname --format jsonl < surnames.csv",
    ):
        done = subprocess.run(command, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        rows = [json.loads(line) for line in done.stdout.splitlines()]
        assert [r.get("name", r.get("surname")) for r in rows] == ["Tanaka", "Ivanov"], command


def test_terminal_shows_the_model_once_and_counts_in_words(tiny_trained, invoke):
    result = invoke("predict", "Tanaka", "-f", "table", "--home", tiny_trained)
    assert result.exit_code == 0, result.output
    assert result.output.count("tiny") == 1 and "1 row scored by tiny" in result.stderr


def test_names_in_capitals_or_small_letters_reach_the_network_capitalised():
    """Registers are often in capitals: the network reads SILVA and silva as Silva (it was trained on
    capitalised names; as written, SILVA read as Korean), mixed case as written."""
    from namelang.inference import Classifier, cased_as_trained

    clf = Classifier.load("pretrained", lexicon=False)
    silva, upper, lower = clf.predict_proba(["Silva", "SILVA", "silva"])
    assert np.array_equal(upper, silva) and np.array_equal(lower, silva)
    assert clf.labels[silva.argmax()] in ("Portuguese", "Spanish")  # not Korean
    assert cased_as_trained(["O'BRIEN", "al-harthi", "McDonald", "X", "VAN DER BERG"]) == [
        "O'Brien", "Al-Harthi", "McDonald", "X", "Van Der Berg"
    ]  # fmt: skip


def test_a_parquet_list_column_goes_through_json_as_before(invoke, tmp_path):
    """A nested Parquet cell (a list) is a value of its own column in JSON output; the new encoder
    compared it with itself (`v != v` on an array) and failed with 'unexpected ValueError'; so did CSV."""
    import json

    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    src = tmp_path / "typed.parquet"
    pd.DataFrame({"name": ["Satoshi", "Silva", None], "l": [[1, 2], [3], None]}).to_parquet(src)
    result = invoke("predict", "-i", src, "-f", "jsonl", "-k", "1")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["name"] for r in rows] == ["Satoshi", "Silva", None]
    assert rows[0]["l"] != rows[1]["l"] and rows[2]["l"] is None
    assert rows[0]["predictions"][0]["label"]
    as_csv = invoke("predict", "-i", src, "-f", "csv", "-k", "1")  # the same cells, compared as CSV
    assert as_csv.exit_code == 0, as_csv.output
    assert as_csv.stdout.splitlines()[1].startswith("Satoshi,[1 2],") and as_csv.stdout.splitlines()[
        3
    ].startswith(",,")


def test_an_input_column_named_predictions_is_refused_for_json_only(invoke, tmp_path):
    """JSON records give the answers under `predictions`: an input column of that name would make a
    duplicate key (json.load keeps the last), so JSON output refuses it in one line; CSV keeps it."""
    src = tmp_path / "c.csv"
    src.write_text("name,predictions\nSatoshi,x\n", encoding="utf-8")
    for fmt in ("json", "jsonl"):
        out = tmp_path / f"out.{fmt}"
        result = invoke("predict", "-i", src, "-f", fmt, "-o", out)
        assert_user_error(result, "a column 'predictions'", alone=True)
        assert "--format csv" in result.stderr and not out.exists()
        # Refused with the header, before the first of the two passes `--prior estimate` reads.
        estimated = invoke("predict", "-i", src, "-f", fmt, "--prior", "estimate", "-o", out)
        assert estimated.stderr == result.stderr and estimated.exit_code == result.exit_code
        assert not out.exists()
    # No records written (the mix alone, as JSON): nothing clashes.
    result = invoke("predict", "-i", src, "-f", "json", "--summary", "--bootstrap", "0")
    assert result.exit_code == 0 and json.loads(result.stdout)["rows"] == 1, result.output
    result = invoke("predict", "-i", src, "-f", "csv")
    assert result.exit_code == 0 and result.stdout.splitlines()[0].startswith("name,predictions,prediction,")
