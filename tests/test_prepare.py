"""`namelang prepare`: normalisation, deduplication, the group split, the manifest and bad input."""

from __future__ import annotations

import csv
import json

import pytest
from conftest import assert_user_error, write_folder

from namelang.data.corpus import read_corpus
from namelang.data.normalize import normalize_name, unicode_to_ascii
from namelang.data.split import prepare


def _rows(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _toy(folder, n=12):
    return write_folder(
        folder,
        {
            "Alpha": [f"Al{i}ba" for i in range(n)] + ["Shared", "Al0ba", "  Al1ba  "],
            "Beta": [f"Be{i}ta" for i in range(n)] + ["Shared"],
            "Gamma": [f"Ga{i}ma" for i in range(n)],
        },
    )


def test_normalisation():
    assert normalize_name("  Van   der\tBerg ") == "Van der Berg"
    assert normalize_name("Ślusarski") == "Ślusarski"  # real characters kept by default
    assert normalize_name("Ślusarski", ascii_only=True) == "Slusarski"
    assert unicode_to_ascii("Nguyễn") == "Nguyen"
    # NFD input is composed to NFC, so the same name is one name.
    assert normalize_name("Jose\u0301") == "Jos\u00e9"


def test_full_archive_group_split(archive, tmp_path, invoke):
    assert invoke("download", "--url", archive, "--home", tmp_path).exit_code == 0
    result = invoke("prepare", "--home", tmp_path)
    assert result.exit_code == 0, result.output
    folder = tmp_path / "prepared"
    splits = {s: _rows(folder / f"{s}.csv") for s in ("train", "val", "test")}
    names = {s: {r["name"] for r in rows} for s, rows in splits.items()}
    assert (
        not names["train"] & names["val"]
        and not names["train"] & names["test"]
        and not names["val"] & names["test"]
    )
    manifest = json.loads((folder / "manifest.json").read_text())
    assert len(manifest["labels"]) == 18
    total = sum(len(rows) for rows in splits.values())
    assert total == sum(manifest["totals"].values())
    assert manifest["rows_read"] == total + manifest["duplicates_dropped"] + manifest["blank_rows_dropped"]
    # Every label keeps its names in every split, and the test share is near the asked 10%.
    for label in manifest["labels"]:
        assert all(manifest["counts"][s][label] > 0 for s in ("train", "val", "test")), label
    assert 0.08 < len(names["test"]) / manifest["distinct_names"] < 0.12
    pairs = {(r["name"], r["label"]) for rows in splits.values() for r in rows}
    assert len(pairs) == total  # no duplicate pair survives
    assert (
        manifest["names_with_several_labels"]["count"]
        == len(manifest["names_with_several_labels"]["names"])
        > 0
    )
    assert "Arabic" in result.stderr and "duplicates dropped" in result.stderr


def test_same_seed_gives_byte_identical_files(tmp_path):
    source = _toy(tmp_path / "src")
    outputs = []
    for run, seed in (("a", 3), ("b", 3), ("c", 4)):
        prepare(read_corpus(source), tmp_path / run, seed=seed)
        outputs.append({p.name: p.read_bytes() for p in (tmp_path / run / "prepared").iterdir()})
    assert outputs[0] == outputs[1]
    assert outputs[0]["train.csv"] != outputs[2]["train.csv"]


def test_toy_dedupes_and_keeps_groups_together(tmp_path):
    result = prepare(read_corpus(_toy(tmp_path / "src")), tmp_path, seed=1)
    m = result.manifest
    assert m.duplicates_dropped == 2  # "Al0ba" twice, "  Al1ba  " normalises onto "Al1ba"
    assert m.names_with_several_labels["names"] == ["Shared"]
    where = {
        s
        for s in ("train", "val", "test")
        for r in _rows(tmp_path / "prepared" / f"{s}.csv")
        if r["name"] == "Shared"
    }
    assert len(where) == 1
    assert m.alphabet == "".join(sorted(set(m.alphabet)))


def test_csv_source_with_custom_columns(tmp_path, invoke):
    src = tmp_path / "people.tsv"
    lines = ["first\tgender"] + [f"Ann{i}\tF" for i in range(10)] + [f"Bob{i}\tM" for i in range(10)]
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = invoke("prepare", src, "--name-column", "first", "--label-column", "gender", "--home", tmp_path)
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "prepared" / "manifest.json").read_text())
    assert manifest["labels"] == ["F", "M"] and sum(manifest["totals"].values()) == 20


def test_small_label_stays_in_train_with_warning(tmp_path, invoke):
    source = write_folder(
        tmp_path / "src",
        {"Big": [f"Big{i}" for i in range(20)], "Other": [f"O{i}" for i in range(20)], "Tiny": ["Solo"]},
    )
    result = invoke("prepare", source, "--home", tmp_path)
    assert result.exit_code == 0, result.output
    assert "warning" in result.stderr and "Tiny" in result.stderr
    assert any(r["name"] == "Solo" for r in _rows(tmp_path / "prepared" / "train.csv"))


def test_ascii_option(tmp_path):
    source = write_folder(
        tmp_path / "src",
        {"Polish": [f"Łódź{c}" for c in "abcdefghij"], "Czech": [f"Dvořák{c}" for c in "abcdefghij"]},
    )
    m = prepare(read_corpus(source), tmp_path, ascii_only=True).manifest
    assert set(m.alphabet) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ .,;'")
    names = {
        r["name"] for split in ("train", "val", "test") for r in _rows(tmp_path / "prepared" / f"{split}.csv")
    }
    assert "odza" in names and "Dvoraka" in names  # Ł has no ASCII decomposition: dropped, as in the tutorial
    assert m.normalization["ascii"] is True


def test_missing_source(tmp_path, invoke):
    assert_user_error(invoke("prepare", tmp_path / "nope", "--home", tmp_path), "no such file", alone=True)
    assert_user_error(invoke("prepare", "--home", tmp_path), "namelang download", alone=True)


def test_not_utf8_names_file_and_line(tmp_path, invoke):
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "Latin.txt").write_bytes(b"Rossi\nBianchi\nM\xfcller\n")
    assert_user_error(
        invoke("prepare", folder, "--home", tmp_path), "Latin.txt", "line 3", "UTF-8", alone=True
    )


def test_csv_without_columns_lists_its_columns(tmp_path, invoke):
    src = tmp_path / "x.csv"
    src.write_text("surname,country\nRossi,IT\n", encoding="utf-8")
    assert_user_error(invoke("prepare", src, "--home", tmp_path), "'name'", "surname, country", alone=True)


def test_empty_source(tmp_path, invoke):
    src = tmp_path / "empty.csv"
    src.write_text("", encoding="utf-8")
    assert_user_error(invoke("prepare", src, "--home", tmp_path), "empty", alone=True)
    blank = write_folder(tmp_path / "blank", {"A": ["  ", ""]})
    assert_user_error(invoke("prepare", blank, "--home", tmp_path), "no names", alone=True)


@pytest.mark.parametrize("args", [("--val", "0"), ("--test", "1.5"), ("--val", "0.5", "--test", "0.45")])
def test_fraction_out_of_range(tmp_path, invoke, args):
    source = _toy(tmp_path / "src")
    assert_user_error(invoke("prepare", source, *args, "--home", tmp_path), "--", alone=True)
    assert not (tmp_path / "prepared").exists()


def test_prepare_reads_another_encoding_and_suggests_it(invoke, tmp_path):
    source = tmp_path / "latin.csv"
    rows = ["name,label"] + [f"Müller{i},German" for i in range(10)] + [f"Dvořák{i},Czech" for i in range(10)]
    source.write_bytes("\n".join(rows).replace("ř", "r").encode("latin-1") + b"\n")
    home = tmp_path / "home"
    line = assert_user_error(invoke("prepare", source, "--home", home), "line 2", "--encoding")
    assert "UTF-8" in line and not (home / "prepared").exists()
    result = invoke("prepare", source, "--encoding", "latin-1", "--home", home)
    assert result.exit_code == 0, result.output
    prepared = "".join(
        (home / "prepared" / f"{s}.csv").read_text(encoding="utf-8") for s in ("train", "val", "test")
    )
    assert "Müller0" in prepared
    assert_user_error(invoke("prepare", source, "--encoding", "klingon", "--home", home), "klingon")
