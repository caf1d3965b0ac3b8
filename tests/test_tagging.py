"""`namelang.tag_file`: the streaming loop as a library function, its cache, and Parquet in and out."""

from __future__ import annotations

import io
import subprocess
import sys

import pandas as pd
import pytest
from conftest import assert_user_error

import namelang
from namelang import Classifier, ScoreOptions
from namelang.errors import NamelangError
from namelang.scoring import TableOptions

NAMES = ["Tanaka", "", "Ivanov", "李小龙", "Tanaka", "😀", "Papadopoulos", "Ivanov", " ", "Wong"]


@pytest.fixture(scope="module")
def clf(tiny_trained):
    return Classifier.load("tiny", home=tiny_trained)


def write_csv(path, names=NAMES):
    pd.DataFrame({"id": range(len(names)), "surname": names}).to_csv(path, index=False)
    return path


def test_tag_file_writes_and_summarises(clf, tmp_path):
    seen = []
    summary = namelang.tag_file(
        write_csv(tmp_path / "in.csv"), tmp_path / "out.csv", model=clf, column="surname",
        options=ScoreOptions(top_k=2), table=TableOptions(batch_size=3), progress=seen.append,
    )  # fmt: skip
    out = pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False)
    assert out["surname"].tolist() == NAMES and out["id"].tolist() == [str(i) for i in range(10)]
    expected = clf.predict_frame(pd.DataFrame({"surname": NAMES}), "surname", top_k=2)
    assert out["prediction"].tolist() == expected["prediction"].tolist()
    assert (summary.rows, summary.blank, summary.column, summary.model) == (10, 2, "surname", "tiny")
    assert summary.output == str(tmp_path / "out.csv") and summary.seconds > 0
    assert [p.rows for p in seen] == [3, 6, 9, 10] and seen[-1].done == seen[-1].total


def test_cache_carries_names_across_chunks_without_changing_results(clf, tmp_path):
    src = write_csv(tmp_path / "in.csv", NAMES * 5)
    cached, uncached, tiny = io.StringIO(), io.StringIO(), io.StringIO()
    summary = namelang.tag_file(src, cached, model=clf, column="surname", table=TableOptions(batch_size=7))
    cold = namelang.tag_file(src, uncached, model=clf, column="surname",
                             table=TableOptions(batch_size=7, cache_size=0))  # fmt: skip
    namelang.tag_file(src, tiny, model=clf, column="surname", table=TableOptions(batch_size=7, cache_size=2))
    assert cached.getvalue() == uncached.getvalue() == tiny.getvalue()
    distinct = len({clf.normalize([n])[0] for n in NAMES})
    assert summary.scored == distinct and summary.cache_hits > 0
    assert cold.cache_hits == 0 and cold.scored > distinct


def test_tag_file_is_exported_lazily():
    code = "import sys, namelang; namelang.tag_file; print(sorted({'pandas', 'pyarrow', 'torch'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_errors_come_before_anything_is_written(clf, tmp_path):
    src = write_csv(tmp_path / "in.csv")
    with pytest.raises(NamelangError, match="no column 'name'"):
        namelang.tag_file(src, tmp_path / "out.csv", model=clf)
    with pytest.raises(NamelangError, match="needs a file") as caught:
        namelang.tag_file(src, None, model=clf, column="surname", table=TableOptions(fmt="parquet"))
    assert "output='FILE.parquet'" in str(caught.value)  # worded for Python, not as a flag
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def typed_table():
    import pyarrow as pa

    return pa.table(
        {
            "id": pa.array([5, None, 7, 1, 9, 2], type=pa.int64()),
            "surname": pa.array(["Tanaka", None, "", "Ivanov", "Müller", "Wong"], type=pa.string()),
            "when": pa.array([1, 2, None, 4, 5, 6], type=pa.timestamp("ms")),
            "score": pa.array([0.5, None, 1.5, 2.5, None, 3.5], type=pa.float32()),
        },
        metadata={b"origin": b"test"},
    )


def test_parquet_round_trip_keeps_schema_nulls_and_order(clf, tiny_trained, tmp_path, invoke):
    import pyarrow.parquet as pq

    table = typed_table()
    pq.write_table(table, tmp_path / "in.parquet", row_group_size=2)  # read by batches of 2
    result = invoke("predict", "-i", tmp_path / "in.parquet", "-c", "surname", "-o", tmp_path / "out.parquet",
                    "-k", "2", "--batch-size", "2", "--home", tiny_trained)  # fmt: skip
    assert result.exit_code == 0, result.output
    out = pq.read_table(tmp_path / "out.parquet")
    added = ["prediction", "probability", "prediction_2", "probability_2"]
    assert out.schema.names == table.schema.names + added
    assert out.schema.metadata[b"origin"] == b"test"
    assert all(out.schema.field(f.name).type == f.type for f in table.schema)
    assert [str(out.schema.field(c).type) for c in added] == ["string", "double"] * 2
    assert out.select(table.schema.names).equals(table)  # values, nulls and order untouched
    blank = out.column("prediction").is_null().to_pylist()
    assert blank == [False, True, True, False, False, False]
    assert out.column("probability").null_count == 2
    expected = clf.predict(["Tanaka", "Ivanov", "Müller", "Wong"], top_k=1)
    got = [v for v in out.column("prediction").to_pylist() if v is not None]
    assert got == [row[0][0] for row in expected]
    assert pq.ParquetFile(tmp_path / "out.parquet").num_row_groups == 3
    assert "6 rows scored (2 blank)" in result.stderr


def test_csv_to_parquet_and_parquet_to_csv(tiny_trained, tmp_path, invoke):
    import pyarrow.parquet as pq

    src = write_csv(tmp_path / "in.csv")
    as_parquet = invoke(
        "predict", "-i", src, "-c", "surname", "-o", tmp_path / "t.parquet", "--home", tiny_trained
    )
    as_csv = invoke("predict", "-i", src, "-c", "surname", "--home", tiny_trained)
    assert as_parquet.exit_code == 0 and as_csv.exit_code == 0, as_parquet.output
    table = pq.read_table(tmp_path / "t.parquet")
    assert {str(f.type) for f in table.schema} == {"string", "double"}
    assert table.schema.field("id").type == table.schema.field("surname").type  # text columns stay strings
    round_trip = invoke("predict", "-i", tmp_path / "t.parquet", "-c", "surname", "--prefix", "again_", "-k", "1",
                        "--home", tiny_trained)  # fmt: skip
    assert round_trip.exit_code == 0, round_trip.output
    back = pd.read_csv(io.StringIO(round_trip.stdout), dtype=str, keep_default_na=False)
    direct = pd.read_csv(io.StringIO(as_csv.stdout), dtype=str, keep_default_na=False)
    assert back[direct.columns].equals(direct)
    assert back["again_prediction"].tolist() == direct["prediction"].tolist()


def test_parquet_errors(tiny_trained, tmp_path, invoke):
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"not parquet at all")
    assert_user_error(
        invoke("predict", "-i", bad, "--home", tiny_trained), "cannot read as Parquet", alone=True
    )
    src = write_csv(tmp_path / "in.csv")
    result = invoke("predict", "-i", src, "-c", "surname", "-f", "parquet", "--home", tiny_trained)
    assert_user_error(result, "--output", alone=True)


def test_empty_parquet_keeps_its_schema(tiny_trained, tmp_path, invoke):
    import pyarrow.parquet as pq

    pq.write_table(typed_table().slice(0, 0), tmp_path / "none.parquet")
    result = invoke("predict", "-i", tmp_path / "none.parquet", "-c", "surname", "-o", tmp_path / "o.parquet",
                    "-k", "1", "--home", tiny_trained)  # fmt: skip
    assert result.exit_code == 0, result.output
    out = pq.read_table(tmp_path / "o.parquet")
    assert out.num_rows == 0 and out.schema.names[-2:] == ["prediction", "probability"]


def test_a_table_of_only_blank_names_is_written_not_a_crash(tiny_trained, tmp_path, invoke):
    src = tmp_path / "blank.csv"
    src.write_text('name,id\n" ",1\n,2\n', encoding="utf-8")
    result = invoke("predict", "-i", src, "-o", tmp_path / "out.csv", "--home", tiny_trained)
    assert result.exit_code == 0, result.output
    assert "2 rows scored (2 blank)" in result.stderr
    assert (tmp_path / "out.csv").read_text().splitlines()[1:] == [" ,1,,,,,,", ",2,,,,,,"]


def test_an_opened_table_is_read_again_in_its_own_encoding(clf, tmp_path):
    """A table opened in latin-1 and passed to `tag_file` is read twice (prior `estimate`) in latin-1:
    `TableOptions.encoding` is for a path only."""
    from namelang.data.table import open_table

    src = tmp_path / "latin.csv"
    src.write_bytes("surname\nMüller\nTanaka\n".encode("latin-1"))
    out = io.StringIO()
    summary = namelang.tag_file(open_table(src, "latin-1"), out, model=clf,
                                options=ScoreOptions(prior="estimate", top_k=1))  # fmt: skip
    assert summary.rows == 2
    assert pd.read_csv(io.StringIO(out.getvalue()))["surname"].tolist() == ["Müller", "Tanaka"]


def test_a_json_records_clash_is_refused_before_any_name_is_scored(clf, tmp_path):
    src, out = tmp_path / "c.csv", tmp_path / "out.jsonl"
    src.write_text("name,predictions\nSatoshi,x\n", encoding="utf-8")
    seen = []
    with pytest.raises(NamelangError, match="a column 'predictions'"):
        namelang.tag_file(src, out, model=clf, options=ScoreOptions(prior="estimate"), progress=seen.append)
    assert seen == [] and not out.exists()  # not after the estimate's pass over the table
