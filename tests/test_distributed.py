"""`predict --engine dask` on a real cluster: a `dask scheduler` and two `dask worker` processes on 127.0.0.1.

The workers run from another folder with an empty NAMELANG_HOME, so a model reaches them only as data.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import assert_user_error, sigint_as_a_terminal_sends_it

pytest.importorskip("distributed")
ROOT = Path(__file__).resolve().parents[1]
ODD = ["Tanaka", "", "李小龙", "😀🙂", '"Quoted, with comma"', "   ", "Ivanov", "Q" * 80, "O'Brien", "Wong"]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    from distributed import Client

    where = tmp_path_factory.mktemp("cluster")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "NAMELANG_HOME": str(where / "empty-home")}  # fmt: skip
    file = where / "scheduler.json"
    common = dict(cwd=where, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    scheduler = subprocess.Popen([sys.executable, "-m", "dask", "scheduler", "--host", "127.0.0.1", "--port", "0",
                                  "--no-dashboard", "--scheduler-file", str(file)], **common)  # fmt: skip
    workers = []
    try:
        deadline = time.monotonic() + 60
        while not file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        for _ in range(2):
            workers.append(subprocess.Popen([sys.executable, "-m", "dask", "worker", "--scheduler-file", str(file),
                                             "--nthreads", "1", "--no-nanny", "--no-dashboard", "--host", "127.0.0.1",
                                             "--local-directory", str(where)], **common))  # fmt: skip
        with Client(scheduler_file=str(file)) as client:
            client.wait_for_workers(2, timeout=60)
            yield client.scheduler.address
    finally:  # the workers first: one that loses its scheduler while closing waits for it to come back
        for group in (workers, [scheduler]):
            for process in group:
                process.terminate()
            for process in group:
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def write_people(path: Path, names=ODD, repeat: int = 30) -> Path:
    names = names * repeat
    frame = pd.DataFrame(
        {"id": range(len(names)), "name": names, "other": [f"x{i}" for i in range(len(names))]}
    )
    text = frame.to_csv(index=False).replace("id,name,other", "id,name,name", 1)  # a repeated column name
    path.write_text(text, encoding="utf-8")
    return path


def _local_equals_dask(invoke, cluster, tmp_path: Path, *args, dask_args=()) -> Path:
    """`predict ARGS` to CSV on both engines: the Dask output equals the local one byte for byte."""
    local = invoke("predict", *args, "-o", tmp_path / "local.csv")
    assert local.exit_code == 0, local.output
    dask = invoke("predict", *args, "-o", tmp_path / "dask.csv", "--engine", "dask", "--scheduler", cluster,
                  *dask_args)  # fmt: skip
    assert dask.exit_code == 0, dask.output
    assert (tmp_path / "dask.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()
    return tmp_path / "local.csv"


def read_parts(folder: Path) -> pd.DataFrame:
    parts = sorted(folder.glob("part-*.csv"))
    return pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False) for p in parts], ignore_index=True)


def test_dask_csv_equals_local_row_for_row(cluster, tiny_trained, tmp_path, invoke):
    src = write_people(tmp_path / "people.csv")
    local = invoke("predict", "-i", src, "-o", tmp_path / "local.csv", "--home", tiny_trained)
    assert local.exit_code == 0, local.output
    args = ("--engine", "dask", "--scheduler", cluster, "--blocksize", "1kB", "--home", tiny_trained)
    one = invoke("predict", "-i", src, "-o", tmp_path / "one.csv", *args)
    assert one.exit_code == 0, one.output
    assert (tmp_path / "one.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()
    parts = invoke("predict", "-i", src, "-o", tmp_path / "parts", *args)
    assert parts.exit_code == 0, parts.output
    assert len(list((tmp_path / "parts").glob("part-*.csv"))) > 2
    expected = pd.read_csv(tmp_path / "local.csv", dtype=str, keep_default_na=False)
    assert read_parts(tmp_path / "parts").equals(expected)
    first = (tmp_path / "parts" / "part-00000.csv").read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("id,name,name,prediction,")
    assert f"Dask: {cluster}, 2 workers" in parts.stderr


def test_dask_min_prob_abstains_as_local_does(cluster, tiny_trained, tmp_path, invoke):
    """Below --min-prob the Dask engine writes no prediction (empty cells), byte for byte as local."""
    src = write_people(tmp_path / "people.csv", repeat=3)
    common = ("-i", src, "--min-prob", "0.9", "-k", "2", "--home", tiny_trained)
    rows = pd.read_csv(
        _local_equals_dask(invoke, cluster, tmp_path, *common), dtype=str, keep_default_na=False
    )
    below = rows[(rows["prediction"] == "") & (rows["prediction_2"] != "")]
    assert len(below) and (below["probability"] == "").all() and "unknown" not in set(rows["prediction"])


def test_dask_parquet_equals_local(cluster, tiny_trained, tmp_path, invoke):
    import pyarrow as pa
    import pyarrow.parquet as pq

    names = ODD * 20 + [None]
    table = pa.table({"id": pa.array(range(len(names)), type=pa.int32()), "name": pa.array(names),
                      "when": pa.array([i if i % 7 else None for i in range(len(names))], type=pa.timestamp("s"))})  # fmt: skip
    (tmp_path / "in").mkdir()
    pq.write_table(table.slice(0, 100), tmp_path / "in" / "a.parquet", row_group_size=30)
    pq.write_table(table.slice(100), tmp_path / "in" / "b.parquet", row_group_size=30)
    pq.write_table(table, tmp_path / "whole.parquet", row_group_size=30)
    local = invoke(
        "predict", "-i", tmp_path / "whole.parquet", "-o", tmp_path / "local.parquet", "--home", tiny_trained
    )
    assert local.exit_code == 0, local.output
    args = ("--engine", "dask", "--scheduler", cluster, "--home", tiny_trained)
    blank = sum(1 for n in names if n is None or not n.strip())
    for target in ("one.parquet", "parts"):
        result = invoke("predict", "-i", tmp_path / "in", "-o", tmp_path / target, *args)
        assert result.exit_code == 0, result.output
        assert f"{len(names)} rows ({blank} blank) scored" in result.stderr
    expected = pq.read_table(tmp_path / "local.parquet")
    one = pq.read_table(tmp_path / "one.parquet")
    parts = pa.concat_tables(pq.read_table(p) for p in sorted((tmp_path / "parts").glob("part-*.parquet")))
    for got in (one, parts):
        assert got.schema.equals(expected.schema, check_metadata=False)
        assert got.equals(expected)
    assert expected.column("prediction").null_count == blank


def test_dask_explain_equals_local(cluster, tiny_trained, tmp_path, invoke):
    import pyarrow.parquet as pq

    scripts = ["Смирнова", "Παπαδόπουλος", "スズキ", "김"]
    src = write_people(tmp_path / "people.csv", names=ODD + scripts, repeat=10)
    args = ("-i", src, "--explain", "--home", tiny_trained)
    on_dask = ("--engine", "dask", "--scheduler", cluster, "--blocksize", "1kB")
    for suffix in ("csv", "parquet"):
        local = invoke("predict", *args, "-o", tmp_path / f"local.{suffix}")
        assert local.exit_code == 0, local.output
        result = invoke("predict", *args, "-o", tmp_path / f"dask.{suffix}", *on_dask)
        assert result.exit_code == 0, result.output
    assert (tmp_path / "dask.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()
    assert pq.read_table(tmp_path / "dask.parquet").equals(pq.read_table(tmp_path / "local.parquet"))
    out = pd.read_csv(tmp_path / "dask.csv", dtype=str, keep_default_na=False)
    paths = dict(zip(out["name"], out["script_path"]))
    assert [paths[n] for n in ["Tanaka", "", *scripts]] == [
        "model", "", "transliterated", "transliterated", "rule: Kana -> Japanese", "model"  # no Korean label
    ]  # fmt: skip


# --- priors, prediction sets and the mix on the Dask engine ------------------------------------------

# Names of the tiny model's languages, each several times: the EM estimate moves away from the model's prior.
SKEWED = ["Tanaka", "Suzuki", "Ivanov", "Wong", "Papadopoulos", "Smirnov", "", "Ito", "Tanaka", "Li"]


@pytest.mark.parametrize(
    "extra",
    [
        ("--prior", "uniform"),
        ("--coverage", "0.9"),
        ("--prior", "estimate"),
        ("--prior", "estimate", "--coverage", "0.8"),
    ],
    ids=["uniform", "coverage", "estimate", "estimate+coverage"],
)
def test_dask_prior_and_coverage_give_the_local_rows(cluster, tiny_trained, tmp_path, invoke, extra):
    """--prior and --coverage on the Dask engine: byte for byte the local engine's CSV, over many partitions."""
    src = write_people(tmp_path / "people.csv", names=SKEWED, repeat=20)
    out = _local_equals_dask(invoke, cluster, tmp_path, "-i", src, *extra, "--home", tiny_trained,
                             dask_args=("--blocksize", "1kB"))  # fmt: skip
    rows = pd.read_csv(out, dtype=str, keep_default_na=False)
    plain = invoke("predict", "-i", src, "-o", tmp_path / "plain.csv", "--home", tiny_trained)
    assert plain.exit_code == 0, plain.output
    if "--coverage" in extra:
        assert (
            set(rows["prediction_set"]) - {""} and (rows["prediction_set"] == "").sum() == 20
        )  # blank names
    if "--prior" in extra:  # the prior moved the probabilities: not the rows the model gives alone
        assert not rows["probability"].equals(pd.read_csv(tmp_path / "plain.csv", dtype=str)["probability"])


def test_dask_parquet_with_coverage_equals_local(cluster, tiny_trained, tmp_path, invoke):
    import pyarrow as pa
    import pyarrow.parquet as pq

    names = SKEWED * 12 + [None]
    (tmp_path / "in").mkdir()
    table = pa.table({"id": pa.array(range(len(names)), type=pa.int32()), "name": pa.array(names)})
    pq.write_table(table.slice(0, 60), tmp_path / "in" / "a.parquet", row_group_size=25)
    pq.write_table(table.slice(60), tmp_path / "in" / "b.parquet", row_group_size=25)
    pq.write_table(table, tmp_path / "whole.parquet")
    args = ("--coverage", "0.9", "--prior", "estimate", "--home", tiny_trained)
    local = invoke("predict", "-i", tmp_path / "whole.parquet", "-o", tmp_path / "local.parquet", *args)
    assert local.exit_code == 0, local.output
    dask = invoke("predict", "-i", tmp_path / "in", "-o", tmp_path / "dask.parquet", *args, "--engine", "dask",
                  "--scheduler", cluster)  # fmt: skip
    assert dask.exit_code == 0, dask.output
    got, expected = pq.read_table(tmp_path / "dask.parquet"), pq.read_table(tmp_path / "local.parquet")
    assert got.schema.equals(expected.schema, check_metadata=False) and got.equals(expected)
    assert expected.schema.field("prediction_set").type == pa.string()
    assert expected.column("prediction_set").null_count == 13  # blank names: no set


@pytest.mark.parametrize("prior", ["train", "estimate"])
def test_dask_summary_is_the_local_mix(cluster, tiny_trained, tmp_path, invoke, prior):
    """--summary on the Dask engine: the same mix (EM estimate and bootstrap interval) as the local engine's."""
    # The first partitions hold two names only: the distinct names are merged in the local engine's order.
    src = write_people(tmp_path / "people.csv", names=["Wong", "Tanaka"] * 60 + SKEWED * 12, repeat=1)
    args = ("-i", src, "--prior", prior, "--bootstrap", "30", "--seed", "3", "--home", tiny_trained)
    on_dask = ("--engine", "dask", "--scheduler", cluster, "--blocksize", "1kB")
    for engine, more in (("local", ()), ("dask", on_dask)):
        result = invoke("predict", *args, "-o", tmp_path / f"{engine}.csv", "--summary-output",
                        tmp_path / f"{engine}.json", *more)  # fmt: skip
        assert result.exit_code == 0, result.output
    assert (tmp_path / "dask.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()
    local, dask = (json.loads((tmp_path / f"{e}.json").read_text()) for e in ("local", "dask"))
    assert dask == local
    assert local["rows"] == 228 and local["distinct_names"] == 8 and local["prior"] == prior
    alone = invoke("predict", *args, "--summary", *on_dask)  # the mix alone: no output to write
    assert alone.exit_code == 0, alone.output
    assert json.loads(alone.stdout) == local
    assert "240 rows scored" in alone.stderr


def test_a_prior_given_as_data_reaches_the_workers(cluster, tiny_trained, tmp_path):
    """A library caller's prior as a dict, with coverage: sent to the workers as data, the local engine's rows."""
    from namelang.distributed import DaskOptions, ModelPayload, tag_dataset
    from namelang.scoring import ScoreOptions
    from namelang.tagging import tag_file

    src = write_people(tmp_path / "people.csv", names=SKEWED, repeat=20)
    payload = ModelPayload.load("tiny", tiny_trained)
    prior = dict.fromkeys(payload.labels, 0.05) | {"Japanese": 1.0 - 0.05 * (len(payload.labels) - 1)}
    options = ScoreOptions(top_k=2, prior=prior, coverage=0.9, prefix="x_")
    local = tag_file(src, tmp_path / "local.csv", model=tiny_trained / "models" / "tiny", options=options)
    summary = tag_dataset(src, tmp_path / "dask.csv", model=payload, options=options,
                          cluster=DaskOptions(scheduler=cluster, blocksize="1kB"))  # fmt: skip
    assert (tmp_path / "dask.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()
    assert summary.partitions > 1 and summary.mix is None and local.rows == 200
    rows = pd.read_csv(tmp_path / "dask.csv", dtype=str, keep_default_na=False)
    assert (rows["x_prediction"] == "Japanese").sum() > (rows["name"] == "Tanaka").sum()


def test_a_worker_without_the_model_folder_scores_it(cluster, tiny_trained, tmp_path):
    from distributed import Client

    from namelang import Classifier
    from namelang.distributed import DaskOptions, ModelPayload, tag_dataset
    from namelang.scoring import ScoreOptions

    folder = tmp_path / "model-only-here"
    shutil.copytree(tiny_trained / "models" / "tiny", folder)
    expected = Classifier.load(folder).predict(["Tanaka", "Ivanov"], top_k=1)
    payload = ModelPayload.load(folder)
    shutil.rmtree(folder)  # gone from every disk: the workers can only use what they are sent
    src = tmp_path / "names.csv"
    src.write_text("name\nTanaka\nIvanov\n", encoding="utf-8")
    summary = tag_dataset(src, tmp_path / "out.parquet", model=payload, options=ScoreOptions(top_k=1),
                          cluster=DaskOptions(scheduler=cluster))  # fmt: skip
    out = pd.read_parquet(tmp_path / "out.parquet")
    assert out["prediction"].tolist() == [row[0][0] for row in expected]
    assert summary.rows == 2 and summary.model == "model-only-here" and summary.workers == 2
    with Client(cluster) as client:
        assert not any(client.run(lambda: "torch" in sys.modules).values())  # the numpy engine only


def test_an_ngram_model_and_an_ensemble_run_on_the_workers(cluster, tiny_trained, tmp_path, invoke):
    """Every kind of model travels as the store's files (an n-gram's vocabulary, an ensemble's members):
    on main the n-gram failed on the workers ("cannot read …/vocabulary.json") and an ensemble was refused."""
    home = tmp_path / "home"
    shutil.copytree(tiny_trained, home)
    trained = invoke("train", "--arch", "ngram", "--name", "ng", "--home", home)
    assert trained.exit_code == 0, trained.output
    made = invoke("ensemble", "tiny", "ng", "--name", "both", "--home", home)
    assert made.exit_code == 0, made.output
    src = write_people(tmp_path / "people.csv")
    for model in ("ng", "both"):
        args = ("-i", src, "--home", home, "-m", model, "--coverage", "0.9")
        out = pd.read_csv(
            _local_equals_dask(invoke, cluster, tmp_path, *args), dtype=str, keep_default_na=False
        )
        named = out["name"].str.strip() != ""
        assert named.sum() > 10 and (out.loc[named, ["prediction", "prediction_set"]] != "").all().all()


def test_dask_mistakes_are_one_line_and_write_nothing(cluster, tiny_trained, tmp_path, invoke):
    import dask

    src = write_people(tmp_path / "people.csv", repeat=1)
    before = sorted(tmp_path.iterdir())
    args = ("--engine", "dask", "--home", tiny_trained, "-o", tmp_path / "out")
    assert_user_error(
        invoke("predict", "-i", src, "-c", "nope", "--scheduler", cluster, *args), "nope", alone=True
    )
    assert_user_error(invoke("predict", "-i", tmp_path / "none-*.csv", "--scheduler", cluster, *args), "no files match", alone=True)  # fmt: skip
    # A prior or coverage the model cannot give, and no output: found before the cluster starts.
    assert_user_error(invoke("predict", "-i", src, "--coverage", "0.925", "--scheduler", cluster, *args),
                      "not one the model was calibrated for", alone=True)  # fmt: skip
    assert_user_error(invoke("predict", "-i", src, "--prior", tmp_path / "no.json", "--scheduler", cluster, *args),
                      "no prior file", alone=True)  # fmt: skip
    no_output = invoke(
        "predict", "-i", src, "--prior", "estimate", "--engine", "dask", "--home", tiny_trained
    )
    assert_user_error(no_output, "pass --output FOLDER", alone=True)
    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
        result = invoke("predict", "-i", src, "--scheduler", "tcp://127.0.0.1:9", *args)
    assert_user_error(result, "cannot reach the Dask scheduler", alone=True)
    assert sorted(tmp_path.iterdir()) == before


def test_without_the_extra_dask_names_the_install(tiny_trained, tmp_path, invoke, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed: importing it fails
    src = write_people(tmp_path / "people.csv", repeat=1)
    result = invoke("predict", "-i", src, "--engine", "dask", "-o", tmp_path / "out", "--home", tiny_trained)
    assert_user_error(result, 'pip install "namelang[dask]"', alone=True)


def test_the_lexicon_travels_to_the_workers(cluster, tiny_trained, tmp_path, invoke):
    from namelang.data.split import read_split
    from namelang.distributed import ModelPayload
    from namelang.models.store import LEXICON

    assert LEXICON in ModelPayload.load("tiny", tiny_trained).files
    known = read_split(tiny_trained, "train")[0][:3]  # names the model trained on: answered from its lexicon
    src = write_people(tmp_path / "people.csv", names=known + ["Tanaka"], repeat=10)
    args = ("-i", src, "--explain", "--home", tiny_trained)
    out = pd.read_csv(_local_equals_dask(invoke, cluster, tmp_path, *args), dtype=str, keep_default_na=False)
    assert dict(zip(out["name"], out["script_path"])) == {
        **dict.fromkeys(known, "lexicon"),
        "Tanaka": "model",
    }


def _write_parts(folder: Path, parts: dict[str, bytes]) -> Path:
    folder.mkdir()
    for name, data in parts.items():
        (folder / name).write_bytes(data)
    return folder


DIFFERING_PARTS = {
    "a part without the name column": ({"b.csv": b"surname,id\nSmith,3\n"}, ["b.csv", "'name'"]),
    "an extra column": ({"b.csv": b"name,id,age\nSmith,3,4\n"}, ["b.csv", "'age'"]),
    "columns in another order": ({"b.csv": b"id,name\n3,Smith\n"}, ["b.csv", "order"]),
    "a tab-separated part": ({"b.csv": b"name\tid\nSmith\t3\n"}, ["b.csv", "separat"]),
    "a latin-1 part": ({"b.csv": "name,id\nMüller,3\n".encode("latin-1")}, ["b.csv", "UTF-8"]),
    # past the 64 KB read up front: found by a worker, still one line
    "latin-1 after 64 KB": (
        {"b.csv": ("name,id\n" + "Ivanov,1\n" * 9000 + "Müller,3\n").encode("latin-1")},
        ["UTF-8", "--encoding"],
    ),
}


@pytest.mark.parametrize("case", list(DIFFERING_PARTS))
def test_parts_that_differ_are_one_line_naming_the_part(cluster, tiny_trained, tmp_path, invoke, case):
    parts, words = DIFFERING_PARTS[case]
    src = _write_parts(tmp_path / "in", {"a.csv": b"name,id\nIvanov,1\nTanaka,2\n", **parts})
    before = sorted(tmp_path.iterdir())
    result = invoke("predict", "--engine", "dask", "-i", src, "-o", tmp_path / "out", "--scheduler", cluster,
                    "--home", tiny_trained)  # fmt: skip
    assert_user_error(result, *words, alone="64 KB" not in case)  # found up front: before the banner
    assert sorted(tmp_path.iterdir()) == before


def test_parquet_parts_with_another_type_are_one_line(cluster, tiny_trained, tmp_path, invoke):
    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "in").mkdir()
    pq.write_table(pa.table({"name": ["Ivanov", "Tanaka"]}), tmp_path / "in" / "a.parquet")
    pq.write_table(pa.table({"name": [1, 2]}), tmp_path / "in" / "b.parquet")
    result = invoke("predict", "--engine", "dask", "-i", tmp_path / "in", "-o", tmp_path / "out",
                    "--scheduler", cluster, "--home", tiny_trained)  # fmt: skip
    assert_user_error(result, "b.parquet", "'name'", alone=True)
    assert not (tmp_path / "out").exists()


def _typed_columns():
    """A Parquet name column of each type that is not text: left blank (no prediction), never a crash."""
    import datetime

    import pyarrow as pa

    day = datetime.date(2020, 1, 2)
    return {
        "int": pa.array([1, None, 3], type=pa.int64()),
        "float": pa.array([1.5, None, float("nan")]),
        "bool": pa.array([True, None, False]),
        "date": pa.array([day, None, day]),
        "timestamp": pa.array([datetime.datetime(2020, 1, 2, 3), None, None], type=pa.timestamp("ms")),
        "null": pa.array([None, None, None], type=pa.null()),
    }


@pytest.mark.parametrize("kind", ["int", "float", "bool", "date", "timestamp", "null"])
def test_a_name_column_that_is_not_text_is_blank_on_both_engines(
    cluster, tiny_trained, tmp_path, invoke, kind
):
    import pyarrow as pa
    import pyarrow.parquet as pq

    src = tmp_path / "typed.parquet"
    pq.write_table(
        pa.table({"id": pa.array([None, 2, 3], type=pa.int32()), "name": _typed_columns()[kind]}), src
    )
    for suffix in ("csv", "parquet"):
        local = invoke("predict", "-i", src, "-o", tmp_path / f"local.{suffix}", "--home", tiny_trained)
        assert local.exit_code == 0, local.output
        assert "3 rows scored (3 blank)" in local.stderr
        dask = invoke("predict", "--engine", "dask", "-i", src, "-o", tmp_path / f"dask.{suffix}",
                      "--scheduler", cluster, "--home", tiny_trained)  # fmt: skip
        assert dask.exit_code == 0, dask.output
    assert (tmp_path / "dask.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()
    dask, local = pq.read_table(tmp_path / "dask.parquet"), pq.read_table(tmp_path / "local.parquet")
    assert dask.schema.equals(local.schema)
    assert dask.to_pandas(ignore_metadata=True).equals(local.to_pandas(ignore_metadata=True))  # NaN too
    assert local.column("prediction").null_count == 3
    assert (tmp_path / "local.csv").read_text().splitlines()[1].startswith(",")  # the null id stays empty


TEXT_CELLS = ["Ivanov", "123", "1.5", "True", "2020-01-02", "", "NaN", "null", 'O"Brien', '"Quoted"']


@pytest.mark.parametrize("suffix", ["csv", "tsv", "txt"])
def test_text_cells_that_look_like_numbers_are_scored_as_text_on_both_engines(cluster, tiny_trained, tmp_path,
                                                                            invoke, suffix):  # fmt: skip
    import csv

    src = tmp_path / f"people.{suffix}"
    if suffix == "txt":  # one name per line, quotes and all
        src.write_text("\n".join(TEXT_CELLS * 20) + "\n", encoding="utf-8")
    else:
        with open(src, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, delimiter="\t" if suffix == "tsv" else ",", lineterminator="\n")
            writer.writerows([["name", "id"], *([cell, i] for i, cell in enumerate(TEXT_CELLS * 20))])
    args = ("-i", src, "--home", tiny_trained)
    local = _local_equals_dask(invoke, cluster, tmp_path, *args, dask_args=("--blocksize", "1kB"))
    out = pd.read_csv(local, dtype=str, keep_default_na=False)
    assert out["name"].tolist() == TEXT_CELLS * 20
    assert (out["prediction"] != "").sum() == 9 * 20  # only the empty name is blank


def test_quoted_line_breaks_in_blocks_fail_the_same_way_wherever_the_boundaries_land(cluster, tiny_trained,
                                                                                      tmp_path, invoke):  # fmt: skip
    rows = [f'"Iva\nnov{i}",{i}' if i % 7 == 0 else f"Tanaka{i},{i}" for i in range(300)]
    src = tmp_path / "breaks.csv"
    src.write_text("name,id\n" + "\n".join(rows) + "\n", encoding="utf-8")
    args = ("--engine", "dask", "--scheduler", cluster, "--home", tiny_trained)
    for blocksize in ("1000B", "1024B", "1111B", "1500B", "2047B"):  # boundaries inside and outside quotes
        result = invoke("predict", "-i", src, "-o", tmp_path / "out.csv", "--blocksize", blocksize, *args)
        assert_user_error(result, "breaks.csv", "line break")
        assert "Traceback" not in result.stderr and not (tmp_path / "out.csv").exists()
    whole = invoke(
        "predict", "-i", src, "-o", tmp_path / "out.csv", *args
    )  # one block: read whole, correctly
    assert whole.exit_code == 0, whole.output
    local = invoke("predict", "-i", src, "-o", tmp_path / "local.csv", "--home", tiny_trained)
    assert local.exit_code == 0, local.output
    assert (tmp_path / "out.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()
    assert pd.read_csv(tmp_path / "out.csv")["id"].tolist() == list(range(300))


def _run_on_a_local_cluster(args: list[str], interrupt: bool):
    """`namelang predict --engine dask` on its own LocalCluster, in a new process group; with `interrupt`,
    SIGINT goes to the whole group (as a terminal's Ctrl-C does) once the cluster is up."""
    import signal

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen([sys.executable, "-m", "namelang", "predict", "--engine", "dask", *args],
                               stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
                               start_new_session=True, preexec_fn=sigint_as_a_terminal_sends_it)  # fmt: skip
    lines = []
    if interrupt:
        lines.append(process.stderr.readline())  # "Dask: a local cluster, …": the workers are up
        time.sleep(2.0)  # let them start on the work (interrupted idle, workers printed nothing)
        os.killpg(process.pid, signal.SIGINT)
    out, err = process.communicate(timeout=120)
    deadline = time.monotonic() + 20  # the workers the client stopped may take a moment to exit
    while (leftover := _alive_in_group(process.pid)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return process.returncode, out, "".join(lines) + err, leftover


def _alive_in_group(group: int) -> list[str]:
    """The processes of a process group that still run (not zombies waiting to be reaped)."""
    ps = subprocess.run(["ps", "-o", "pid=,stat=,args=", "-g", str(group)], capture_output=True, text=True)
    return [line for line in ps.stdout.splitlines() if line.split()[1][0] != "Z"]


def test_ctrl_c_on_a_local_cluster_is_one_line_and_leaves_no_worker(tiny_trained, tmp_path):
    src = tmp_path / "many.csv"
    src.write_text("name\n" + "\n".join(f"Name{i}ov" for i in range(1_000_000)) + "\n", encoding="utf-8")
    code, out, err, leftover = _run_on_a_local_cluster(
        ["-i", str(src), "-o", str(tmp_path / "out"), "--blocksize", "64kB", "--home", str(tiny_trained)],
        True,
    )
    assert code == 130, err
    assert err.strip().splitlines()[-1] == "error: interrupted"
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert len(err.strip().splitlines()) == 2 and out == ""  # the banner, then the error
    assert leftover == [] and not (tmp_path / "out").exists()


def test_a_local_cluster_says_nothing_of_a_busy_dashboard_port(tiny_trained, tmp_path):
    import socket

    src = write_people(tmp_path / "people.csv", repeat=1)
    with socket.socket() as held:  # as another cluster's dashboard would (if one does, all the better)
        try:
            held.bind(("0.0.0.0", 8787))
            held.listen()
        except OSError:
            pass
        code, out, err, _ = _run_on_a_local_cluster(
            ["-i", str(src), "-o", str(tmp_path / "out.csv"), "--home", str(tiny_trained)], False
        )
    assert code == 0, err
    assert "8787" not in err and "Warning" not in err, err
    assert len(err.strip().splitlines()) == 2, err  # "Dask: …", then the closing line
