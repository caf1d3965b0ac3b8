"""Ensembles as models: a model folder that holds copies of its members and how to combine them.

The ensemble's log-probability for a name is a weighted sum of its members' (calibrated)
log-probabilities, divided by a temperature, then renormalised (a product of experts). The weights
and the temperature are fitted together on the validation split by minimising log-loss; members
must have been trained on that same prepared split, so that none of them saw the names it is fitted on.

    <home>/models/<name>/model.json           arch "ensemble", members (folder, weight), temperature
    <home>/models/<name>/members/<member>/     each member's own model folder, copied whole
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from namelang.errors import NamelangError
from namelang.inference import Classifier

ARCH = "ensemble"
MEMBERS = "members"
_FLOOR = 1e-12  # log(0) would make one member's certainty veto everything


def member_log_probs(classifiers, names: list[str]) -> np.ndarray:
    """[M, N, L] log-probabilities of each member; NaN rows for blank names."""
    return np.stack([np.log(np.clip(c.predict_proba(names), _FLOOR, None)) for c in classifiers])


def combine(log_probs: np.ndarray, weights: np.ndarray, temperature: float) -> np.ndarray:
    """Probabilities [N, L] of the weighted mean of log-probabilities [M, N, L] at `temperature`."""
    from namelang.models.forward import softmax

    mixed = np.tensordot(np.asarray(weights, dtype=np.float64), log_probs, axes=1) / temperature
    blank = np.isnan(mixed[:, 0])
    probs = softmax(np.nan_to_num(mixed))
    probs[blank] = np.nan
    return probs


def _loss_and_grad(raw: np.ndarray, log_probs: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean log-loss of softmax(sum_i raw_i * log_probs_i) and its gradient in raw."""
    from namelang.models.forward import softmax

    logits = np.tensordot(raw, log_probs, axes=1)
    probs = softmax(logits)
    rows = np.arange(len(y))
    loss = -np.mean(np.log(np.clip(probs[rows, y], _FLOOR, None)))
    # d loss / d raw_i = -mean(log_probs_i[y] - sum_k probs_k log_probs_i[k])
    expected = np.einsum("mnk,nk->mn", log_probs, probs)
    grad = -np.mean(log_probs[:, rows, y] - expected, axis=1)
    return float(loss), grad


def fit_weights(log_probs: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Non-negative weights summing to 1, and the temperature, that minimise validation log-loss."""
    from namelang.extras import require

    require("scipy", "fitting an ensemble's weights needs scipy")
    from scipy.optimize import minimize

    m = log_probs.shape[0]
    keep = ~np.isnan(log_probs[0, :, 0])
    log_probs, y = log_probs[:, keep], y[keep]
    start = np.full(m, 1.0 / m)
    result = minimize(
        _loss_and_grad, start, args=(log_probs, y), jac=True, method="L-BFGS-B", bounds=[(0.0, None)] * m
    )
    # L-BFGS-B often ends with "ABNORMAL" (its line search cannot improve within float precision)
    # after it has found a better point: keep any point with a lower loss than the start.
    better = (
        result.x.sum() > 0 and np.isfinite(result.fun) and result.fun < _loss_and_grad(start, log_probs, y)[0]
    )
    raw = result.x if better else start
    # sum_i raw_i * lp_i == sum_i w_i * lp_i / T with w = raw / sum(raw), T = 1 / sum(raw).
    return raw / raw.sum(), float(1.0 / raw.sum())


@dataclass
class Member:
    name: str
    folder: str  # relative to the ensemble's folder
    weight: float


def members_of(card) -> list[Member]:
    try:
        return [Member(m["name"], m["folder"], float(m["weight"])) for m in card.extras["members"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise NamelangError(f"the ensemble {card.name!r} has a bad members list: {exc}") from exc


def check_members(found: list, manifest_sha256: str | None) -> list[str]:
    """Members must agree on their labels and have been trained on the prepared split fitted on."""
    if len(found) < 2:
        raise NamelangError("an ensemble needs at least two members")
    names = [m.name for m in found]
    if len(set(names)) != len(names):
        raise NamelangError(f"a model is named twice among the members: {', '.join(names)}")
    labels = list(found[0].card.labels)
    for member in found[1:]:
        if list(member.card.labels) != labels:
            raise NamelangError(f"{member.name!r} and {found[0].name!r} do not predict the same labels")
    for member in found:
        if manifest_sha256 is not None and member.card.data.manifest_sha256 != manifest_sha256:
            raise NamelangError(
                f"{member.name!r} was not trained on the prepared split in this workspace, "
                "so its validation names may be its training names; ensemble models trained here"
            )
    return labels


class EnsembleClassifier(Classifier):
    """A Classifier whose probabilities come from its members; ranking and frames are inherited."""

    def __init__(self, members: list, weights, card, name: str, path: Path):
        self.members = members
        self.weights = np.asarray(weights, dtype=np.float64)
        self.card, self.name, self.path, self.device = card, name, Path(path), members[0].device
        self.labels: list[str] = list(card.labels)
        self.temperature = float(card.temperature)

    @classmethod
    def load_found(cls, found, device: str = "auto") -> EnsembleClassifier:
        listed = members_of(found.card)
        members = [Classifier.load(Path(found.path) / m.folder, device=device) for m in listed]
        for member, m in zip(members, listed):
            if member.labels != list(found.card.labels):
                raise NamelangError(f"{found.path}: member {m.name!r} does not predict the ensemble's labels")
        return cls(members, [m.weight for m in listed], found.card, found.name, found.path)

    def normalize(self, names) -> list[str]:
        return self.members[0].normalize(names)

    # The members answer training names from their own lexicons (copied with them); the first one's
    # says which names are known (members share one prepared split: `check_members`).
    @property
    def use_lexicon(self) -> bool:
        return self.members[0].use_lexicon

    @use_lexicon.setter
    def use_lexicon(self, value: bool) -> None:
        for member in self.members:
            member.use_lexicon = value

    @property
    def lexicon(self):
        return self.members[0].lexicon

    def known(self, names):
        return self.members[0].known(names)

    @property
    def threads(self) -> int:
        return self.members[0].threads

    @threads.setter
    def threads(self, value: int) -> None:
        for member in self.members:
            member.threads = value

    def predict_proba(self, names, batch_size: int = Classifier.BATCH) -> np.ndarray:
        names = list(names)
        return combine(member_log_probs(self.members, names), self.weights, self.temperature)

    def distinct_proba(self, normalized: list[str], batch_size: int = Classifier.BATCH) -> np.ndarray:
        return self.predict_proba(normalized, batch_size)  # each member normalises (idempotent) and dedupes


def create(home, refs: list[str], name: str, force: bool = False, device: str = "auto"):
    """Fit the members' weights and temperature on the workspace's validation split; store the ensemble.

    Returns the stored ensemble (a StoredModel). Members are copied whole into its `members/` folder.
    """
    from datetime import datetime, timezone

    from namelang import __version__
    from namelang.data.split import MANIFEST, prepared_dir, read_split
    from namelang.evaluation import macro_f1
    from namelang.models.card import Best, ModelCard
    from namelang.models.store import CARD, MEMBERS, ModelStore
    from namelang.uncertainty import uncertainty_fields
    from namelang.workspace import atomic_dir, sha256_file, write_text

    store = ModelStore(home)
    target = store.path_of(name)
    if store.exists(name) and not force:
        raise NamelangError(f"a model named {name!r} exists already; pass --force to replace it")
    found = [store.load(ref) for ref in refs]
    manifest = prepared_dir(store.workspace.home) / MANIFEST
    if not manifest.is_file():
        raise NamelangError(f"no prepared data in {manifest.parent}; run `namelang prepare` first")
    labels = check_members(found, sha256_file(manifest))
    val_names, val_labels, _ = read_split(store.workspace.home, "val")
    index = {label: i for i, label in enumerate(labels)}
    if any(lb not in index for lb in val_labels):
        raise NamelangError("the validation split has labels the members do not know")
    y = np.array([index[lb] for lb in val_labels])
    log_probs = member_log_probs([Classifier.load(m.path, device=device) for m in found], val_names)
    weights, temperature = fit_weights(log_probs, y)
    probs = combine(log_probs, weights, temperature)
    predicted = probs.argmax(axis=1)
    first = found[0].card
    card = ModelCard(
        arch=ARCH,
        labels=labels,
        alphabet=first.alphabet,
        name=name,
        temperature=temperature,
        normalization=first.normalization,
        data=first.data,
        source_priors=first.source_priors,  # members share the prepared split, so its sources' mixes
        parameters=sum(m.card.parameters for m in found),
        best=Best(0, float(np.mean(y == predicted)), macro_f1(y, predicted, len(labels))),
        versions={"namelang": __version__},
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        extras={
            "members": [
                {"name": m.name, "folder": f"{MEMBERS}/{m.name}", "arch": m.card.arch, "weight": float(w)}
                for m, w in zip(found, weights)
            ]
        },
    )
    card.prior, card.conformal = uncertainty_fields(card, probs, y)
    with atomic_dir(target) as tmp:
        for member in found:
            shutil.copytree(member.path, tmp / MEMBERS / member.name)
        write_text(tmp / CARD, card.to_json())
    return store.load(name)
