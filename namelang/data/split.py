"""Normalise, deduplicate and split a corpus into train/val/test tables plus a manifest.

The split is a stratified *group* split on the normalised name: every distinct name is one group, so a
name never lands in two splits (the archive repeats names within a language and across languages, and
a random row split would leak them into the test set).
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from namelang.data.alphabet import Alphabet
from namelang.data.corpus import Corpus
from namelang.data.manifest import SPLITS, Manifest, SourceRecord
from namelang.data.normalize import normalize_name
from namelang.data.scripts import RULED, TRANSLITERATED, script_of
from namelang.data.source import Source
from namelang.errors import NamelangError, literal
from namelang.workspace import sha256_file, write_json, write_text

MANIFEST = "manifest.json"
# A row held by several sources lists them all in the `source` column, joined by this.
SOURCE_SEPARATOR = ";"
# A label needs this many distinct names to put at least one in each split.
MIN_NAMES_TO_SPLIT = 3


@dataclass
class PrepareResult:
    folder: Path
    manifest: Manifest
    warnings: list[str] = field(default_factory=list)


def prepared_dir(home: Path) -> Path:
    return Path(home) / "prepared"


def check_fractions(val: float, test: float) -> None:
    for option, value in (("val", val), ("test", test)):
        if not 0.0 < value < 1.0:
            raise NamelangError(f"{{{option}}} must be between 0 and 1 (exclusive), got {value:g}")
    if val + test >= 0.9:
        raise NamelangError(f"{{val}} + {{test}} must leave at least 10% for training, got {val + test:g}")


@dataclass(frozen=True)
class Row:
    name: str
    label: str
    sources: tuple[str, ...]


def clean_rows(sources: list[Source], ascii_only: bool) -> tuple[list[Row], dict[str, int]]:
    """Normalised rows deduplicated across sources, sorted; a (name, label) pair lists every source
    that holds it. Weak rows give way to a strong source's other label. Returns (rows, counts)."""
    holders: dict[tuple[str, str], list[str]] = defaultdict(list)
    strong: dict[tuple[str, str], bool] = {}
    counts = Counter()
    for source in sources:
        for raw_name, raw_label, weak in zip(source.names, source.labels, source.weak):
            name = normalize_name(raw_name, ascii_only)
            label = normalize_name(raw_label)
            if not name or not label:
                counts["blank"] += 1
                continue
            pair = (name, label)
            if source.name in holders[pair]:
                counts["duplicates"] += 1
                continue
            if holders[pair]:
                counts["duplicates"] += 1
            holders[pair].append(source.name)
            strong[pair] = strong.get(pair, False) or not weak
    strong_labels: dict[str, set[str]] = defaultdict(set)
    for (name, label), is_strong in strong.items():
        if is_strong:
            strong_labels[name].add(label)
    rows = []
    for (name, label), names in holders.items():
        if not strong[(name, label)] and strong_labels[name] - {label}:
            counts["gave_way"] += 1
            continue
        rows.append(Row(name, label, tuple(names)))
    return sorted(rows, key=lambda r: (r.label, r.name)), counts


def clean_pairs(corpus: Corpus, ascii_only: bool) -> tuple[list[tuple[str, str]], int, int]:
    """Normalised, deduplicated (name, label) pairs of one corpus, sorted; plus blank and duplicate counts."""
    rows, counts = clean_rows([as_source(corpus)], ascii_only)
    return [(r.name, r.label) for r in rows], counts["blank"], counts["duplicates"]


def as_source(corpus: Corpus | Source) -> Source:
    if isinstance(corpus, Source):
        return corpus
    return Source.from_corpus(corpus, corpus.source.name, "unknown", str(corpus.source))


def group_split(
    pairs: list[tuple[str, str]], val: float, test: float, seed: int
) -> tuple[dict[str, str], list[str]]:
    """Assign every distinct name to a split; return (name -> split, warnings)."""
    from namelang.extras import import_sklearn

    import_sklearn("splitting the names needs scikit-learn")
    from sklearn.model_selection import train_test_split

    names_per_label = Counter(label for _, label in pairs)
    labels_of: dict[str, list[str]] = defaultdict(list)
    for name, label in pairs:
        labels_of[name].append(label)
    # A name with several labels is stratified by its rarest one, so small labels keep their names.
    strat = {
        name: min(labels, key=lambda lb: (names_per_label[lb], lb)) for name, labels in labels_of.items()
    }
    small = sorted(lb for lb, n in names_per_label.items() if n < MIN_NAMES_TO_SPLIT)
    warnings = [
        f"label {lb!r} has only {names_per_label[lb]} name(s): kept in train, absent from val and test"
        for lb in small
    ]
    assignment = {name: "train" for name, lb in strat.items() if lb in small}
    groups = sorted(name for name in strat if name not in assignment)
    if not groups:
        raise NamelangError("too few names to split: every label has fewer than 3 distinct names")
    y = [strat[name] for name in groups]
    try:
        rest, test_groups = train_test_split(groups, test_size=test, stratify=y, random_state=seed)
        y_rest = [strat[name] for name in rest]
        train_groups, val_groups = train_test_split(
            rest, test_size=val / (1.0 - test), stratify=y_rest, random_state=seed
        )
    except ValueError as exc:
        raise NamelangError(
            f"too few names to split with {{val={val:g}}} {{test={test:g}}}: {literal(exc)}"
        ) from exc
    for split, members in (("train", train_groups), ("val", val_groups), ("test", test_groups)):
        assignment.update(dict.fromkeys(members, split))
    return assignment, warnings


def rows_to_csv(rows: list[Row]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["name", "label", "source"])
    writer.writerows((r.name, r.label, SOURCE_SEPARATOR.join(r.sources)) for r in rows)
    return buffer.getvalue()


def split_rows(rows: list[Row], val: float, test: float, seed: int):
    """{split: rows} with every distinct name in one split; rows the script rules score are kept out
    of train (the model never sees them). Returns (rows per split, kept out per script, warnings)."""
    assignment, warnings = group_split([(r.name, r.label) for r in rows], val, test, seed)
    by_split: dict[str, list[Row]] = {split: [] for split in SPLITS}
    kept_out: Counter = Counter()
    for row in rows:
        split = assignment[row.name]
        script = script_of(row.name)
        if split == "train" and script in RULED:
            kept_out[script] += 1
            continue
        by_split[split].append(row)
    return by_split, dict(sorted(kept_out.items())), warnings


def source_record(source: Source, by_split: dict[str, list[Row]]) -> SourceRecord:
    rows = {
        split: dict(sorted(Counter(r.label for r in by_split[split] if source.name in r.sources).items()))
        for split in SPLITS
    }
    return SourceRecord(
        source.name, source.kind, source.location, source.sha256, source.licence, source.provenance,
        len(source.names), rows, source.label_map, source.left_out, source.dropped,
    )  # fmt: skip


def prepare(
    sources: Corpus | Source | list[Source],
    home: Path,
    val: float = 0.1,
    test: float = 0.1,
    seed: int = 0,
    ascii_only: bool = False,
    options: dict | None = None,
) -> PrepareResult:
    """Write `<home>/prepared/{train,val,test}.csv` and `manifest.json`; byte-identical for one seed."""
    check_fractions(val, test)
    sources = [as_source(s) for s in (sources if isinstance(sources, list) else [sources])]
    rows, dropped = clean_rows(sources, ascii_only)
    if not rows:
        raise NamelangError(f"{literal(' + '.join(s.location for s in sources))} holds no names")
    by_split, kept_out, warnings = split_rows(rows, val, test, seed)
    labels_of: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        labels_of[row.name].add(row.label)
    multi = sorted(name for name, labels in labels_of.items() if len(labels) > 1)
    labels = sorted({row.label for row in rows})

    folder = prepared_dir(home)
    files = {}
    for split in SPLITS:
        path = folder / f"{split}.csv"
        write_text(path, rows_to_csv(by_split[split]))
        files[split] = {"file": path.name, "rows": len(by_split[split]), "sha256": sha256_file(path)}
    counts = {split: Counter(r.label for r in by_split[split]) for split in SPLITS}
    manifest = Manifest(
        labels=labels,
        alphabet=Alphabet.from_names(r.name for r in by_split["train"]).chars,
        counts={split: {label: counts[split][label] for label in labels} for split in SPLITS},
        totals={split: len(by_split[split]) for split in SPLITS},
        rows_read=sum(len(s.names) for s in sources),
        blank_rows_dropped=dropped["blank"],
        duplicates_dropped=dropped["duplicates"],
        distinct_names=len(labels_of),
        names_with_several_labels={"count": len(multi), "names": multi},
        sources=[source_record(s, by_split) for s in sources],
        seed=seed,
        options={"val": val, "test": test, "ascii": ascii_only, **(options or {})},
        normalization={"form": "NFC", "ascii": ascii_only},
        transliterated=list(TRANSLITERATED),
        files=files,
        warnings=warnings,
        gave_way=dropped["gave_way"],
        kept_out_of_train=kept_out,
    )
    write_json(folder / MANIFEST, manifest.to_json())
    return PrepareResult(folder, manifest, warnings)


def manifest_sha256(home: Path) -> str | None:
    """The sha256 of the prepared split's manifest (what a model card records), or None without one."""
    path = prepared_dir(home) / MANIFEST
    return sha256_file(path) if path.is_file() else None


def read_manifest(home: Path) -> Manifest:
    path = prepared_dir(home) / MANIFEST
    if not path.exists():
        raise NamelangError(f"no prepared data in {literal(path.parent)}; run `namelang prepare` first")
    return Manifest.read(path)


def load_manifest(home: Path) -> dict:
    """The manifest as a dict in the current layout (checked; a format-1 manifest is upgraded)."""
    return read_manifest(home).to_json()


def read_split_sources(path: Path) -> list[str]:
    """The `source` column of a prepared split ('' for every row of a file without one)."""
    import pandas as pd

    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    return frame["source"].tolist() if "source" in frame.columns else [""] * len(frame)


def read_split(home: Path, split: str) -> tuple[list[str], list[str], Path]:
    """(names, labels, path) of a prepared split (train/val/test) or of any CSV with name,label columns."""
    if split in SPLITS:
        path = prepared_dir(home) / f"{split}.csv"
        if not path.is_file():
            raise NamelangError(f"no prepared {split} split at {literal(path)}; run `namelang prepare` first")
    else:
        path = Path(split)
        if not path.is_file():
            raise NamelangError(
                f"{{split}} must be train, val, test or a CSV file; {literal(split)!r} is none of these"
            )
    from namelang.data.corpus import read_table

    corpus = read_table(path)
    return corpus.names, corpus.labels, path
