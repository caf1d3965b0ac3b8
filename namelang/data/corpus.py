"""Read labelled names from a folder of `<Label>.txt` files or from a CSV/TSV of (name, label) rows."""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

from namelang.errors import NamelangError, literal

TEXT_SUFFIX = ".txt"
TABLE_SUFFIXES = {".csv", ".tsv", ".tab"}


def check_encoding(encoding: str) -> str:
    """The codec's canonical name; one line for a codec Python does not know."""
    import codecs

    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise NamelangError(
            f"{{encoding={literal(encoding)}}}: unknown encoding; e.g. utf-8, latin-1, cp1252"
        ) from None


@dataclass
class Corpus:
    """Raw (name, label) rows as read, before normalisation or deduplication."""

    names: list[str]
    labels: list[str]
    source: Path
    sha256: str


@dataclass
class LabelCount:
    label: str
    lines: int
    distinct: int


def decode_utf8(data: bytes, path: Path, encoding: str = "utf-8") -> str:
    """Decode strictly (a UTF-8 BOM is dropped), naming the file and line of the first bad byte."""
    codec = check_encoding(encoding)
    try:
        return data.decode("utf-8-sig" if codec == "utf-8" else codec)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        if codec == "utf-8":
            hint = "UTF-8; pass {encoding} (e.g. latin-1 or cp1252) if the file is in another encoding"
        else:
            hint = literal(encoding)
        raise NamelangError(f"{literal(path)}: line {line} is not valid {hint}") from exc


def find_names_folder(root: Path) -> Path:
    """The folder under `root` that holds the `<Label>.txt` files (the archive nests them in data/names/)."""
    candidates = sorted({p.parent for p in Path(root).rglob(f"*{TEXT_SUFFIX}")}, key=lambda p: len(p.parts))
    candidates = [
        p for p in candidates if not any(part.startswith(".") for part in p.relative_to(root).parts)
    ]
    if not candidates:
        raise NamelangError(f"no <Label>{TEXT_SUFFIX} files under {literal(root)}")
    return max(candidates, key=lambda p: len(list(p.glob(f"*{TEXT_SUFFIX}"))))


def read_folder(folder: Path, encoding: str = "utf-8") -> Corpus:
    files = sorted(Path(folder).glob(f"*{TEXT_SUFFIX}"))
    if not files:
        raise NamelangError(f"no <Label>{TEXT_SUFFIX} files in {literal(folder)}")
    names: list[str] = []
    labels: list[str] = []
    digest = hashlib.sha256()
    for path in files:
        data = path.read_bytes()
        digest.update(path.name.encode() + b"\0" + hashlib.sha256(data).digest())
        for line in decode_utf8(data, path, encoding).splitlines():
            names.append(line)
            labels.append(path.stem)
    return Corpus(names, labels, Path(folder), digest.hexdigest())


SNIFF_CHARS = 4096


def sniff_delimiter(sample: str, path: Path) -> str:
    """Tab for .tsv/.tab files; otherwise ask csv.Sniffer, falling back to a comma."""
    if path.suffix.lower() in (".tsv", ".tab"):
        return "\t"
    # Whole lines of the first 4 KB: csv.Sniffer's quote-finding pattern takes seconds on 64 KB of
    # quoted cells, and a few dozen lines show the delimiter as well.
    cut = sample.rfind("\n", 0, SNIFF_CHARS)
    sample = sample if len(sample) <= SNIFF_CHARS or cut < 0 else sample[:cut]
    try:
        return csv.Sniffer().sniff(sample, delimiters=",\t;|").delimiter
    except csv.Error:
        return ","


def read_table(
    path: Path, name_column: str = "name", label_column: str = "label", encoding: str = "utf-8"
) -> Corpus:
    import io

    import pandas as pd

    data = Path(path).read_bytes()
    text = decode_utf8(data, path, encoding)
    if not text.strip():
        raise NamelangError(f"{literal(path)} is empty")
    sep = sniff_delimiter(text[:65536], Path(path))
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, ValueError) as exc:
        raise NamelangError(
            f"{literal(path)}: cannot parse as a table: {literal(str(exc).splitlines()[0])}"
        ) from exc
    missing = [c for c in (name_column, label_column) if c not in frame.columns]
    if missing:
        raise NamelangError(
            f"{literal(path)} has no column {literal(', '.join(map(repr, missing)))}; "
            f"its columns are: {literal(', '.join(frame.columns))}"
        )
    return Corpus(
        frame[name_column].tolist(),
        frame[label_column].tolist(),
        Path(path),
        hashlib.sha256(data).hexdigest(),
    )


def read_corpus(
    source: Path, name_column: str = "name", label_column: str = "label", encoding: str = "utf-8"
) -> Corpus:
    source = Path(source)
    if not source.exists():
        raise NamelangError(f"no such file or folder: {literal(source)}")
    if source.is_dir():
        return read_folder(find_names_folder(source), encoding)
    if source.suffix.lower() in TABLE_SUFFIXES or source.suffix == "":
        return read_table(source, name_column, label_column, encoding)
    raise NamelangError(f"{literal(source)}: expected a folder of <Label>.txt files or a .csv/.tsv file")


def count_labels(corpus: Corpus) -> list[LabelCount]:
    """Lines and distinct non-blank names per label, in label order (for the download summary)."""
    lines: dict[str, int] = {}
    distinct: dict[str, set[str]] = {}
    for name, label in zip(corpus.names, corpus.labels):
        name = name.strip()
        if not name:
            continue
        lines[label] = lines.get(label, 0) + 1
        distinct.setdefault(label, set()).add(name)
    return [LabelCount(label, lines[label], len(distinct[label])) for label in sorted(lines)]
