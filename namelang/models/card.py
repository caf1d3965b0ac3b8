"""ModelCard: the contents of a model's `model.json` as one dataclass, checked in one place.

Every reader uses the card's fields, never the JSON's keys. The card carries a format version:
cards written before versions existed (namelang 0.1.0, the shipped pretrained model) read as
format 1 and are migrated here. A card from a newer namelang is refused with a line saying so.

Room to grow: `arch` names any kind of model the registry knows (a torch network, an n-gram
table, an ensemble of stored members) and `arch_options` is that kind's own plain JSON, so the card
assumes no torch module. Top-level keys this version does not know are kept in `extras` and written
back unchanged; a field that becomes part of the format is added below with a default.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from namelang.errors import NamelangError, literal

FORMAT = 2


@dataclass
class Normalization:
    form: str = "NFC"
    ascii: bool = False


@dataclass
class DataInfo:
    """What the model was trained on: checksums tie it to one prepared split."""

    manifest_sha256: str | None = None
    source_sha256: str | None = None
    train_rows: int = 0
    val_rows: int = 0
    train_label_counts: dict[str, int] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass
class Best:
    """The saved epoch (chosen on validation macro-F1) and its validation scores."""

    epoch: int = 0
    val_accuracy: float | None = None
    val_macro_f1: float | None = None
    val_loss: float | None = None


@dataclass
class ModelCard:
    arch: str
    labels: list[str]
    alphabet: str = ""
    arch_options: dict[str, Any] = field(default_factory=dict)
    name: str = ""
    format: int = FORMAT
    max_length: int = 64
    temperature: float = 1.0
    normalization: Normalization = field(default_factory=Normalization)
    data: DataInfo = field(default_factory=DataInfo)
    training: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None
    versions: dict[str, str] = field(default_factory=dict)
    device: str = "cpu"
    parameters: int = 0
    best: Best = field(default_factory=Best)
    epochs_run: int = 0
    training_seconds: float = 0.0
    interrupted: bool = False
    stopped_early: bool = False
    created: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    weights_sha256: str | None = None
    # Fitted on the validation split (uncertainty.uncertainty_fields): the label prior the probabilities carry
    # ({language: share}) and the conformal thresholds ({method, split, n, thresholds: {level: p}}).
    prior: dict[str, float] | None = None
    conformal: dict[str, Any] | None = None
    # Each training source's label shares on the train split ({source: {language: share}}, add-one
    # smoothed), for `--prior SOURCE` (uncertainty.source_priors). None: not stored (older models).
    source_priors: dict[str, dict[str, float]] | None = None
    # The lexicon of training names (models/lexicon.py): {sha256, names, beta, split, accuracy
    # (validation accuracy of each beta tried)}. None: the model answers from the network alone.
    lexicon: dict[str, Any] | None = None
    # An ensemble's members, in order: {name, folder (in its model folder: the store's), arch, weight}.
    # None: a single model.
    members: list[dict[str, Any]] | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    # --- reading and writing -------------------------------------------------------------------

    @classmethod
    def from_json(cls, text: str, source: str | Path = "model.json") -> ModelCard:
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise NamelangError(f"{literal(source)} is not valid JSON: {literal(exc)}") from exc
        return cls.from_dict(data, source)

    @classmethod
    def from_dict(cls, data: dict, source: str | Path = "model.json") -> ModelCard:
        if not isinstance(data, dict):
            raise NamelangError(f"{literal(source)} is not a model card (a JSON object)")
        data = _migrate(dict(data), source)
        try:
            card = _build(cls, data)
            card.normalization = _build(Normalization, data.get("normalization") or {})
            card.data = _build(DataInfo, data.get("data") or {})
            card.best = _build(Best, data.get("best") or {})
        except (TypeError, ValueError) as exc:
            raise NamelangError(f"{literal(source)} has a bad field: {literal(exc)}") from exc
        card.validate(source)
        return card

    def to_dict(self) -> dict:
        out = dataclasses.asdict(self)
        extras = out.pop("extras")
        out["data"].update(out["data"].pop("extras"))
        for optional in ("lexicon", "members"):  # a model without one keeps the card it had
            if out[optional] is None:
                del out[optional]
        first = {k: out.pop(k) for k in ("format", "name", "arch", "arch_options")}
        return {**first, **out, **{k: v for k, v in extras.items() if k not in out and k not in first}}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    def validate(self, source: str | Path = "model.json") -> None:
        """The one place that decides whether a card can be used."""
        problems = []
        if not isinstance(self.arch, str) or not self.arch:
            problems.append("arch must be a non-empty string")
        if not isinstance(self.labels, list) or not self.labels:
            problems.append("labels must be a non-empty list")
        elif not all(isinstance(lb, str) for lb in self.labels) or len(set(self.labels)) != len(self.labels):
            problems.append("labels must be distinct strings")
        if not isinstance(self.alphabet, str):
            problems.append("alphabet must be a string")
        if not isinstance(self.arch_options, dict):
            problems.append("arch_options must be an object")
        if not isinstance(self.max_length, int) or self.max_length < 1:
            problems.append("max_length must be a positive integer")
        if not isinstance(self.temperature, int | float) or not self.temperature > 0:
            problems.append("temperature must be a positive number")
        if self.source_priors is not None and not (
            isinstance(self.source_priors, dict)
            and all(isinstance(shares, dict) for shares in self.source_priors.values())
        ):
            problems.append("source_priors must be an object of source -> {language: share}")
        if self.lexicon is not None and not (
            isinstance(self.lexicon, dict)
            and isinstance(self.lexicon.get("beta"), int | float)
            and self.lexicon["beta"] > 0
            and isinstance(self.lexicon.get("sha256"), str)
        ):
            problems.append("lexicon must be an object with a positive beta and a sha256")
        if self.members is not None and not _good_members(self.members):
            problems.append("members must be a non-empty list of {name, folder, weight >= 0}")
        if problems:
            raise NamelangError(f"{literal(source)}: {'; '.join(problems)}")

    # --- what readers ask of it ----------------------------------------------------------------

    def without_history(self) -> dict:
        """The card as shown by `namelang models show`: everything but the per-epoch rows."""
        return {k: v for k, v in self.to_dict().items() if k != "history"}


def _good_members(members) -> bool:
    return (
        isinstance(members, list)
        and len(members) > 0
        and all(
            isinstance(m, dict)
            and isinstance(m.get("name"), str)
            and isinstance(m.get("folder"), str)
            and isinstance(m.get("weight"), int | float)
            and m["weight"] >= 0
            for m in members
        )
    )


def _build(cls, data: dict):
    """`cls` from the keys it knows; the rest go to its `extras` when it has one (else they are dropped)."""
    if not isinstance(data, dict):
        raise TypeError(f"{cls.__name__.lower()} must be an object")
    names = {f.name for f in dataclasses.fields(cls)} - {"extras"}
    known = {k: v for k, v in data.items() if k in names}
    if "extras" in {f.name for f in dataclasses.fields(cls)}:
        known["extras"] = {k: v for k, v in data.items() if k not in names}
    return cls(**known)


def _migrate(data: dict, source) -> dict:
    version = data.get("format", 1)
    if not isinstance(version, int) or version < 1:
        raise NamelangError(f"{literal(source)}: bad format version {literal(repr(version))}")
    if version > FORMAT:
        raise NamelangError(
            f"{literal(source)} is model card format {version}; this namelang reads up to {FORMAT}: upgrade namelang"
        )
    if version == 1:
        # 0.1.0 stored every registry option for every architecture (rnn-classic's unused ones too).
        from namelang.models.registry import ARCHITECTURES

        spec = ARCHITECTURES.get(data.get("arch"))
        options = data.get("arch_options")
        if spec is not None and isinstance(options, dict):
            used = {f.name for f in dataclasses.fields(spec)}
            data["arch_options"] = {k: v for k, v in options.items() if k in used}
        data["format"] = FORMAT
    return data
