"""Normalise, deduplicate and split a corpus into train/val/test tables plus a manifest.

The split is a stratified *group* split on the normalised name: every distinct name is one group, so a
name never lands in two splits (the archive repeats names within a language and across languages, and
a random row split would leak them into the test set).
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from namelang.data.alphabet import Alphabet
from namelang.data.corpus import Corpus
from namelang.data.normalize import normalize_name
from namelang.errors import NamelangError
from namelang.workspace import sha256_file, write_json, write_text

SPLITS = ("train", "val", "test")
MANIFEST = "manifest.json"
# A label needs this many distinct names to put at least one in each split.
MIN_NAMES_TO_SPLIT = 3


@dataclass
class PrepareResult:
    folder: Path
    manifest: dict
    warnings: list[str] = field(default_factory=list)


def prepared_dir(home: Path) -> Path:
    return Path(home) / "prepared"


def check_fractions(val: float, test: float) -> None:
    for flag, value in (("--val", val), ("--test", test)):
        if not 0.0 < value < 1.0:
            raise NamelangError(f"{flag} must be between 0 and 1 (exclusive), got {value:g}")
    if val + test >= 0.9:
        raise NamelangError(f"--val + --test must leave at least 10% for training, got {val + test:g}")


def clean_pairs(corpus: Corpus, ascii_only: bool) -> tuple[list[tuple[str, str]], int, int]:
    """Normalised, deduplicated (name, label) pairs, sorted; plus counts of blank rows and duplicates."""
    seen: set[tuple[str, str]] = set()
    blank = duplicates = 0
    for raw_name, raw_label in zip(corpus.names, corpus.labels):
        name = normalize_name(raw_name, ascii_only)
        label = normalize_name(raw_label)
        if not name or not label:
            blank += 1
            continue
        if (name, label) in seen:
            duplicates += 1
            continue
        seen.add((name, label))
    return sorted(seen, key=lambda p: (p[1], p[0])), blank, duplicates


def group_split(
    pairs: list[tuple[str, str]], val: float, test: float, seed: int
) -> tuple[dict[str, str], list[str]]:
    """Assign every distinct name to a split; return (name -> split, warnings)."""
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
        raise NamelangError(f"too few names to split with --val {val:g} --test {test:g}: {exc}") from exc
    for split, members in (("train", train_groups), ("val", val_groups), ("test", test_groups)):
        assignment.update(dict.fromkeys(members, split))
    return assignment, warnings


def rows_to_csv(rows: list[tuple[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["name", "label"])
    writer.writerows(rows)
    return buffer.getvalue()


def prepare(
    corpus: Corpus,
    home: Path,
    val: float = 0.1,
    test: float = 0.1,
    seed: int = 0,
    ascii_only: bool = False,
    options: dict | None = None,
) -> PrepareResult:
    """Write `<home>/prepared/{train,val,test}.csv` and `manifest.json`; byte-identical for one seed."""
    check_fractions(val, test)
    pairs, blank, duplicates = clean_pairs(corpus, ascii_only)
    if not pairs:
        raise NamelangError(f"{corpus.source} holds no names")
    assignment, warnings = group_split(pairs, val, test, seed)
    rows = {split: [p for p in pairs if assignment[p[0]] == split] for split in SPLITS}

    labels_of: dict[str, set[str]] = defaultdict(set)
    for name, label in pairs:
        labels_of[name].add(label)
    multi = sorted(name for name, labels in labels_of.items() if len(labels) > 1)
    labels = sorted({label for _, label in pairs})
    alphabet = Alphabet.from_names(name for name, _ in rows["train"])

    folder = prepared_dir(home)
    files = {}
    for split in SPLITS:
        path = folder / f"{split}.csv"
        write_text(path, rows_to_csv(rows[split]))
        files[split] = {"file": path.name, "rows": len(rows[split]), "sha256": sha256_file(path)}
    manifest = {
        "labels": labels,
        "alphabet": alphabet.chars,
        "counts": {
            split: {label: sum(1 for _, lb in rows[split] if lb == label) for label in labels}
            for split in SPLITS
        },
        "totals": {split: len(rows[split]) for split in SPLITS},
        "rows_read": len(corpus.names),
        "blank_rows_dropped": blank,
        "duplicates_dropped": duplicates,
        "distinct_names": len(labels_of),
        "names_with_several_labels": {"count": len(multi), "names": multi},
        "source": {"path": str(corpus.source), "sha256": corpus.sha256},
        "seed": seed,
        "options": {"val": val, "test": test, "ascii": ascii_only, **(options or {})},
        "normalization": {"form": "NFC", "ascii": ascii_only},
        "files": files,
        "warnings": warnings,
    }
    write_json(folder / MANIFEST, manifest)
    return PrepareResult(folder, manifest, warnings)


def load_manifest(home: Path) -> dict:
    path = prepared_dir(home) / MANIFEST
    if not path.exists():
        raise NamelangError(f"no prepared data in {path.parent}; run `namelang prepare` first")
    return json.loads(path.read_text(encoding="utf-8"))


def read_split(home: Path, split: str) -> tuple[list[str], list[str], Path]:
    """(names, labels, path) of a prepared split (train/val/test) or of any CSV with name,label columns."""
    if split in SPLITS:
        path = prepared_dir(home) / f"{split}.csv"
        if not path.is_file():
            raise NamelangError(f"no prepared {split} split at {path}; run `namelang prepare` first")
    else:
        path = Path(split)
        if not path.is_file():
            raise NamelangError(f"--split must be train, val, test or a CSV file; {split!r} is none of these")
    from namelang.data.corpus import read_table

    corpus = read_table(path)
    return corpus.names, corpus.labels, path
