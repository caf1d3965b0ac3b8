"""The prepared data's manifest (`<home>/prepared/manifest.json`) as a typed, checked dataclass.

Format 2 records every source (provenance, licence, checksum, label mapping, rows per split); a
format-1 manifest (one `source`, written before several sources existed) still loads.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from namelang.errors import NamelangError, literal

FORMAT = 2
SPLITS = ("train", "val", "test")


@dataclass
class SourceRecord:
    name: str
    kind: str
    location: str
    sha256: str
    licence: str = "unknown"
    provenance: str = ""
    rows_read: int = 0
    rows: dict[str, dict[str, int]] = field(default_factory=dict)  # split -> label -> rows kept
    label_map: dict[str, str] = field(default_factory=dict)
    left_out: dict[str, str] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)


@dataclass
class Manifest:
    labels: list[str]
    alphabet: str
    counts: dict[str, dict[str, int]]  # split -> label -> rows
    totals: dict[str, int]
    rows_read: int
    blank_rows_dropped: int
    duplicates_dropped: int
    distinct_names: int
    names_with_several_labels: dict
    sources: list[SourceRecord]
    seed: int
    options: dict
    normalization: dict
    files: dict
    warnings: list[str] = field(default_factory=list)
    # Rows of a weak source dropped because a stronger one gives the same name another label.
    gave_way: int = 0
    # Rows in a script the rules score (Han, Kana, Hangul, Arabic): in val/test, never in train.
    kept_out_of_train: dict[str, int] = field(default_factory=dict)
    # Scripts written in Latin before splitting (data/scripts.py); prediction does the same.
    transliterated: list[str] = field(default_factory=list)
    format: int = FORMAT

    def __post_init__(self):
        problems = []
        if not self.labels or not all(isinstance(lb, str) for lb in self.labels):
            problems.append("labels must be a non-empty list of strings")
        for split in SPLITS:
            if split not in self.counts or split not in self.totals:
                problems.append(f"no counts for the {split} split")
            elif set(self.counts[split]) - set(self.labels):
                problems.append(f"the {split} counts name labels outside `labels`")
        if not self.sources:
            problems.append("no source recorded")
        if self.format > FORMAT:
            problems.append(f"format {self.format} is newer than this namelang reads ({FORMAT})")
        if problems:
            raise NamelangError(f"not a valid manifest: {'; '.join(problems)}")

    @property
    def source(self) -> dict:
        """One path and checksum for all sources (what format 1 recorded; a model card keeps it)."""
        if len(self.sources) == 1:
            return {"path": self.sources[0].location, "sha256": self.sources[0].sha256}
        digest = hashlib.sha256("".join(f"{s.name}\0{s.sha256}\n" for s in self.sources).encode())
        return {"path": " + ".join(s.location for s in self.sources), "sha256": digest.hexdigest()}

    def to_json(self) -> dict:
        data = asdict(self)
        data["source"] = self.source
        return data

    @classmethod
    def from_json(cls, data: dict, where: str = "manifest") -> Manifest:
        try:
            data = dict(data)
            data.pop("source", None) if "sources" in data else _upgrade_format_1(data)
            data["sources"] = [SourceRecord(**s) for s in data["sources"]]
            known = {f.name for f in fields(cls)}
            return cls(**{k: v for k, v in data.items() if k in known})
        except NamelangError as exc:
            raise NamelangError(f"{literal(where)}: {exc.template}") from None
        except (TypeError, KeyError, AttributeError) as exc:
            raise NamelangError(
                f"{literal(where)}: not a valid manifest ({type(exc).__name__}: {literal(exc)})"
            ) from None

    @classmethod
    def read(cls, path: Path) -> Manifest:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise NamelangError(
                f"{literal(path)}: not valid JSON ({literal(exc.msg)}, line {exc.lineno})"
            ) from None
        return cls.from_json(data, str(path))


def _upgrade_format_1(data: dict) -> None:
    source = data.pop("source")
    location = source["path"]
    data["sources"] = [
        {
            "name": Path(location).name,
            "kind": "table" if Path(location).suffix else "folder",
            "location": location,
            "sha256": source["sha256"],
            "rows_read": data.get("rows_read", 0),
            "rows": data.get("counts", {}),
        }
    ]
