"""Several sources in one split: tags, label mapping, cross-source dedupe, the manifest, Mimesis, bad sources."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from conftest import assert_user_error, write_folder

from namelang.data import sources as sources_module
from namelang.data.manifest import Manifest
from namelang.data.sources import OUT_OF_SCOPE, Source, bare_arabic, mimesis_mapping, read_sources
from namelang.data.split import prepare, read_manifest
from namelang.errors import NamelangError

FIXTURES = Path(__file__).parent / "fixtures" / "registers"
CENSUS, REGISTER = FIXTURES / "census", FIXTURES / "register.csv"
COLUMNS = {"name_column": "surname", "label_column": "country"}


def _rows(home: Path) -> dict[str, list[dict]]:
    def read(split):
        with open(home / "prepared" / f"{split}.csv", encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))

    return {split: read(split) for split in ("train", "val", "test")}


def _union(home: Path, seed: int = 0):
    return prepare(
        read_sources([str(CENSUS), str(REGISTER)], home, **COLUMNS), home, val=0.2, test=0.2, seed=seed
    )


def test_union_dedupes_across_sources_and_keeps_a_name_in_one_split(tmp_path):
    m = _union(tmp_path).manifest
    rows = _rows(tmp_path)
    everything = [r for split in rows.values() for r in split]
    where: dict[str, set[str]] = {}
    for split, split_rows in rows.items():
        for r in split_rows:
            where.setdefault(r["name"], set()).add(split)
    assert all(len(splits) == 1 for splits in where.values())  # Marek is Czech and Polish: still one split
    by_pair = {(r["name"], r["label"]): r["source"] for r in everything}
    # Ivanov is in both sources: one row, tagged with both; Петров (census) and Petrov (register) meet
    # once transliterated.
    assert by_pair[("Ivanov", "Russian")] == "census;register"
    assert by_pair[("Petrov", "Russian")] == "census;register"
    assert ("Papadopoulos", "Greek") in by_pair and ("Soloviev", "Russian") in by_pair
    assert m.duplicates_dropped == 3
    assert m.rows_read == len(everything) + 3 + sum(m.kept_out_of_train.values())
    assert {("Marek", "Czech"), ("Marek", "Polish")} <= set(by_pair)
    assert [s.name for s in m.sources] == ["census", "register"]
    census, register = m.sources
    assert census.rows_read == 24 and register.rows_read == 23
    assert sum(sum(census.rows[s].values()) for s in rows) == 24  # every census row kept, some shared
    assert register.rows["train"].get("Korean", 0) == 0  # Hangul is scored by a rule, not learned
    korean_kept = sum(1 for r in everything if r["label"] == "Korean")
    assert m.kept_out_of_train == {"Hangul": 6 - korean_kept} and m.kept_out_of_train["Hangul"] > 0
    assert not any("\uac00" <= c <= "\ud7a3" for c in m.alphabet)


def test_union_is_byte_identical_for_one_seed(tmp_path):
    outputs = []
    for run, seed in (("a", 5), ("b", 5), ("c", 6)):
        _union(tmp_path / run, seed)
        outputs.append({p.name: p.read_bytes() for p in (tmp_path / run / "prepared").iterdir()})
    assert outputs[0] == outputs[1] and outputs[0]["test.csv"] != outputs[2]["test.csv"]


def test_manifest_round_trips_and_loads_format_1(tmp_path):
    _union(tmp_path)
    path = tmp_path / "prepared" / "manifest.json"
    data = json.loads(path.read_text())
    assert data["format"] == 2 and data["source"]["sha256"] != data["sources"][0]["sha256"]
    assert Manifest.from_json(data).to_json() == data
    old = {k: v for k, v in data.items() if k not in ("sources", "format", "gave_way", "kept_out_of_train")}
    old["source"] = {"path": "/data/raw/data/names", "sha256": "ab" * 32}
    upgraded = Manifest.from_json(old)
    assert upgraded.sources[0].location == "/data/raw/data/names"
    assert upgraded.source == old["source"]  # a one-source manifest keeps its checksum
    assert upgraded.labels == data["labels"]


@pytest.mark.parametrize(
    "change, words",
    [
        (lambda d: d.update(labels=[]), "labels"),
        (lambda d: d["counts"].pop("val"), "val"),
        (lambda d: d.update(format=99), "format 99"),
        (lambda d: d.pop("alphabet"), "alphabet"),
    ],
)
def test_bad_manifest_is_one_user_error(tmp_path, change, words):
    _union(tmp_path)
    path = tmp_path / "prepared" / "manifest.json"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))
    with pytest.raises(NamelangError, match=words):
        read_manifest(tmp_path)


def test_weak_rows_give_way_to_a_strong_label(tmp_path):
    strong_names = ["Garcia", "Lopez", "Ruiz", "Perez", "Diaz", "Gomez", "Moreno", "Torres"]
    strong = Source("lists", "table", "x", "0", "MIT", "", strong_names, ["Spanish"] * 8, [False] * 8)
    weak_names = ["Garcia", "Smith", "Jones", "Brown", "Lopez", "Taylor", "Wilson", "Evans", "Hall", "Wood"]
    weak = Source("census", "table", "y", "1", "MIT", "", weak_names, ["English"] * 10, [True] * 10)
    m = prepare([strong, weak], tmp_path, val=0.2, test=0.2).manifest
    pairs = {(r["name"], r["label"]) for split in _rows(tmp_path).values() for r in split}
    assert ("Garcia", "English") not in pairs and ("Garcia", "Spanish") in pairs
    assert ("Smith", "English") in pairs and m.gave_way == 2


def test_cli_prepares_several_sources(tmp_path, invoke):
    result = invoke("prepare", CENSUS, REGISTER, "--name-column", "surname", "--label-column", "country",
                    "--val", "0.2", "--test", "0.2", "--home", tmp_path)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "census: 24 rows read" in result.stderr and "register: 23 rows read" in result.stderr
    assert "Hangul" in result.stderr  # kept out of train, said so


def test_bad_sources_are_one_line_errors(tmp_path, invoke, monkeypatch):
    assert_user_error(
        invoke("prepare", tmp_path / "nope.csv", "--home", tmp_path), "no such file", alone=True
    )
    twin = write_folder(tmp_path / "other" / "census", {"Czech": ["Novak", "Dvorak", "Svoboda"]})
    assert_user_error(invoke("prepare", CENSUS, twin, "--home", tmp_path), "both named 'census'", alone=True)
    assert_user_error(invoke("prepare", "archive", "--home", tmp_path), "namelang download", alone=True)
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)
    line = assert_user_error(invoke("prepare", "mimesis", "--home", tmp_path), alone=True)
    assert "pip install 'namelang[mimesis]'" in line
    assert not (tmp_path / "prepared").exists()


def test_mimesis_locale_mapping():
    assert mimesis_mapping("ar-eg") == ("Arabic", False) and mimesis_mapping("ar") == ("Arabic", False)
    assert mimesis_mapping("en-gb") == ("English", True)
    assert mimesis_mapping("fi") == (OUT_OF_SCOPE, True)
    assert mimesis_mapping("uk") is None and mimesis_mapping("kk") is None and mimesis_mapping("xx") is None
    kept, dropped = bare_arabic(["عبد الله", "بن عبد الله", "عبد الله باشا", "بن  سالم"])
    assert kept == ["عبد الله", "بن سالم"] and dropped == 2


def test_mimesis_source_reads_the_installed_package():
    pytest.importorskip("mimesis")
    source = sources_module.read_mimesis()
    labels = set(source.labels)
    assert labels == {
        "Arabic", "Chinese", "Czech", "Dutch", "English", "French", "German", "Greek", "Italian",
        "Japanese", "Korean", "Polish", "Portuguese", "Russian", "Spanish", OUT_OF_SCOPE,
    }  # fmt: skip
    assert source.licence == "MIT" and source.location.startswith("mimesis==")
    assert "uk" in source.left_out and "en" in source.left_out and "uk" not in source.label_map
    rows = set(zip(source.names, source.labels, source.weak))
    assert ("Смирнова", "Russian", False) in rows and ("Garcia", "English", True) in rows
    assert ("Virtanen", OUT_OF_SCOPE, True) in rows
    assert ("Name", "Spanish", False) not in rows


def test_union_trains_end_to_end(tmp_path, invoke):
    from conftest import TINY_MODEL

    from namelang.inference import Classifier

    prepared = invoke("prepare", CENSUS, REGISTER, "--name-column", "surname", "--label-column", "country",
                      "--val", "0.2", "--test", "0.2", "--home", tmp_path)  # fmt: skip
    assert prepared.exit_code == 0, prepared.output
    trained = invoke("train", "--name", "union", "--home", tmp_path, *TINY_MODEL)
    assert trained.exit_code == 0, trained.output
    clf = Classifier.load("union", home=tmp_path)
    assert sorted(clf.labels) == ["Czech", "Greek", "Korean", "Polish", "Russian"]
    probs = clf.predict_proba(["Смирнова", "Smirnova", "최", "Παπαδόπουλος"])
    # Cyrillic keeps to Russian, Greek script to Greek (no out-of-scope label here), Hangul -> Korean.
    assert probs[0][clf.labels.index("Russian")] == pytest.approx(1.0)
    assert probs[3][clf.labels.index("Greek")] == pytest.approx(1.0)
    assert clf.labels[probs[2].argmax()] == "Korean"
    assert clf.script_paths(["Παπαδόπουλος", "최"]) == ["transliterated", "rule: Hangul -> Korean"]
    report = json.loads(invoke("evaluate", "--model", "union", "--split", "val", "--format", "json",
                               "--home", tmp_path).stdout)  # fmt: skip
    assert set(report["sources"]) == {"census", "register"}
    together = report["n"]
    assert report["sources"]["census"]["n"] + report["sources"]["register"]["n"] >= together
    assert 0.0 <= report["mean_language_recall"] <= 1.0
