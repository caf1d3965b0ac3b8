"""The model card of a run, built once whichever path fitted the model (a network or the n-gram table);
an ensemble's, built from its members'.

A fit path hands over a `Fitted`; `model_card` turns it, the spec and the prepared data into the card the
store writes. What is fitted afterwards on the splits (prior, conformal thresholds, source priors, the
lexicon's note) is added by `calibration.py` and the store.
"""

from __future__ import annotations

import csv
import io
import platform
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from typing import Any

from namelang import __version__
from namelang.config import TrainConfig
from namelang.data.alphabet import MAX_LENGTH
from namelang.models.card import Best, DataInfo, ModelCard, Normalization
from namelang.models.registry import Spec
from namelang.training.loop import EpochReport, FitResult
from namelang.training.splits import Prepared


@dataclass
class Fitted:
    """What a fit path hands on: the weights, what the card says of them, and the validation split's
    calibrated probabilities (for the prior, the conformal thresholds and the lexicon's beta)."""

    fit: FitResult  # the epochs (none for a one-step fit), interrupted, stopped early
    state: dict  # tensors by name, torch or numpy
    alphabet: str
    temperature: float
    val_probs: Any  # numpy [val rows, labels]: softmax(val logits / temperature)
    y_val: Any  # numpy [val rows]: label indices
    rows: tuple[int, int]  # (train, val) rows fitted on
    parameters: int
    best: Best
    library: tuple[str, str]  # the fitting library and its version: ("torch", "2.5.1")
    epochs_run: int
    seconds: float
    config: TrainConfig | None = None  # a network's training settings; None: the path has none
    device: str = "cpu"
    extras: dict[str, Any] = field(default_factory=dict)  # more for the card (the n-gram's C grid)
    files: dict[str, str] = field(default_factory=dict)  # more text files of the model, by name


def model_card(spec: Spec, prepared: Prepared, fitted: Fitted) -> ModelCard:
    labels = prepared.labels
    counts = prepared.manifest["counts"]["train"]
    config = fitted.config
    return ModelCard(
        arch=spec.arch,
        arch_options=spec.to_dict(),
        labels=labels,
        alphabet=fitted.alphabet,
        max_length=MAX_LENGTH,
        temperature=fitted.temperature,
        normalization=normalization(prepared.manifest),
        data=DataInfo(
            manifest_sha256=prepared.sha256,
            source_sha256=prepared.manifest["source"]["sha256"],
            train_rows=fitted.rows[0],
            val_rows=fitted.rows[1],
            train_label_counts={lb: counts[lb] for lb in labels},
        ),
        training=asdict(config) if config is not None else {},
        seed=config.seed if config is not None else None,
        versions={
            "namelang": __version__,
            fitted.library[0]: fitted.library[1],
            "python": platform.python_version(),
        },
        device=fitted.device,
        parameters=fitted.parameters,
        best=fitted.best,
        epochs_run=fitted.epochs_run,
        training_seconds=round(fitted.seconds, 3),
        interrupted=fitted.fit.interrupted,
        stopped_early=fitted.fit.stopped_early,
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        history=[asdict(r) for r in fitted.fit.history],
        extras=dict(fitted.extras),
    )


def normalization(manifest: dict) -> Normalization:
    """The card's normalisation from the manifest's (which may record more, e.g. scripts written in Latin)."""
    known = {f.name for f in fields(Normalization)}
    return Normalization(**{k: v for k, v in manifest.get("normalization", {}).items() if k in known})


def history_csv(history: list[EpochReport]) -> str:
    buffer = io.StringIO()
    fields_ = list(asdict(history[0]).keys()) if history else ["epoch"]
    writer = csv.DictWriter(buffer, fieldnames=fields_, lineterminator="\n")
    writer.writeheader()
    writer.writerows(asdict(r) for r in history)
    return buffer.getvalue()


@dataclass
class Combined:
    """What fitting an ensemble hands on: its members' weights and temperature, and its validation
    probabilities with the labels' indices (for its scores, prior and conformal thresholds)."""

    weights: Any
    temperature: float
    val_probs: Any
    y_val: Any


def ensemble_card(name: str, members: list, combined: Combined) -> ModelCard:
    """An ensemble's card: its members' shared fields (they share one prepared split), its validation
    scores and uncertainty fits; `members` are the stored members, in order."""
    import numpy as np

    from namelang.evaluation import macro_f1
    from namelang.models.ensemble import EnsembleSpec
    from namelang.uncertainty import uncertainty_fields

    first, y = members[0].card, combined.y_val
    predicted = combined.val_probs.argmax(axis=1)
    card = ModelCard(
        arch=EnsembleSpec.arch,
        labels=list(first.labels),
        alphabet=first.alphabet,
        name=name,
        temperature=combined.temperature,
        normalization=first.normalization,
        data=first.data,
        source_priors=first.source_priors,  # the prepared split's sources' mixes
        parameters=sum(m.card.parameters for m in members),
        best=Best(0, float(np.mean(y == predicted)), macro_f1(y, predicted, len(first.labels))),
        versions={"namelang": __version__},
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        members=[
            {"name": m.name, "arch": m.card.arch, "weight": float(w)}
            for m, w in zip(members, combined.weights)
        ],
    )
    card.prior, card.conformal = uncertainty_fields(card, combined.val_probs, y)
    return card
