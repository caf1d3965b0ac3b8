"""`predict --engine dask` on a real cluster: a `dask scheduler` and two `dask worker` processes on 127.0.0.1.

The workers run from another folder with an empty NAMELANG_HOME, so a model reaches them only as data.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import assert_user_error

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
    local = invoke("predict", *common, "-o", tmp_path / "local.csv")
    assert local.exit_code == 0, local.output
    dask = invoke("predict", *common, "-o", tmp_path / "dask.csv", "--engine", "dask", "--scheduler", cluster)
    assert dask.exit_code == 0, dask.output
    assert (tmp_path / "dask.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()
    rows = pd.read_csv(tmp_path / "local.csv", dtype=str, keep_default_na=False)
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


def test_a_worker_without_the_model_folder_scores_it(cluster, tiny_trained, tmp_path):
    from distributed import Client

    from namelang import Classifier
    from namelang.distributed import ModelPayload, tag_dataset

    folder = tmp_path / "model-only-here"
    shutil.copytree(tiny_trained / "models" / "tiny", folder)
    expected = Classifier.load(folder).predict(["Tanaka", "Ivanov"], top_k=1)
    payload = ModelPayload.load(folder)
    shutil.rmtree(folder)  # gone from every disk: the workers can only use what they are sent
    src = tmp_path / "names.csv"
    src.write_text("name\nTanaka\nIvanov\n", encoding="utf-8")
    summary = tag_dataset(src, tmp_path / "out.parquet", payload=payload, scheduler=cluster, top_k=1)
    out = pd.read_parquet(tmp_path / "out.parquet")
    assert out["prediction"].tolist() == [row[0][0] for row in expected]
    assert summary.rows == 2 and summary.model == "model-only-here" and summary.workers == 2
    with Client(cluster) as client:
        assert not any(client.run(lambda: "torch" in sys.modules).values())  # the numpy engine only


def test_dask_mistakes_are_one_line_and_write_nothing(cluster, tiny_trained, tmp_path, invoke):
    import dask

    src = write_people(tmp_path / "people.csv", repeat=1)
    before = sorted(tmp_path.iterdir())
    args = ("--engine", "dask", "--home", tiny_trained, "-o", tmp_path / "out")
    assert_user_error(
        invoke("predict", "-i", src, "-c", "nope", "--scheduler", cluster, *args), "nope", alone=True
    )
    assert_user_error(invoke("predict", "-i", tmp_path / "none-*.csv", "--scheduler", cluster, *args), "no files match", alone=True)  # fmt: skip
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

    assert ModelPayload.load("tiny", tiny_trained).lexicon is not None
    known = read_split(tiny_trained, "train")[0][:3]  # names the model trained on: answered from its lexicon
    src = write_people(tmp_path / "people.csv", names=known + ["Tanaka"], repeat=10)
    args = ("-i", src, "--explain", "--home", tiny_trained)
    local = invoke("predict", *args, "-o", tmp_path / "local.csv")
    assert local.exit_code == 0, local.output
    result = invoke("predict", *args, "-o", tmp_path / "dask.csv", "--engine", "dask", "--scheduler", cluster)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "dask.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()
    out = pd.read_csv(tmp_path / "dask.csv", dtype=str, keep_default_na=False)
    assert dict(zip(out["name"], out["script_path"])) == {
        **dict.fromkeys(known, "lexicon"),
        "Tanaka": "model",
    }
