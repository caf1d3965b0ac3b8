"""Ensembles as models: stored models combined as a product of experts.

The ensemble's log-probability for a name is a weighted sum of its members' (calibrated)
log-probabilities, divided by a temperature, then renormalised. The weights and the temperature are
fitted together on the validation split (`namelang.training.ensemble`); the store saves an ensemble as a model
folder holding copies of its members (`ModelStore.save_ensemble`), its card listing them with their
weights. Loaded, an ensemble is a Classifier like any model, whose members are Classifiers too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from namelang.errors import NamelangError, literal
from namelang.models.spec import Spec, register

if TYPE_CHECKING:  # numpy is imported where it is used: the registry lists this kind in `--help`
    import numpy as np

FLOOR = 1e-12  # log(0) would make one member's certainty veto everything


def log_probs(probs: np.ndarray) -> np.ndarray:
    """Log-probabilities, each at least log(FLOOR); NaN rows (blank names) stay NaN."""
    import numpy as np

    return np.log(np.clip(probs, FLOOR, None))


def combine(log_probs: np.ndarray, weights: np.ndarray, temperature: float) -> np.ndarray:
    """Probabilities [N, L] of the weighted mean of log-probabilities [M, N, L] at `temperature`."""
    import numpy as np

    from namelang.models.forward import softmax

    mixed = np.tensordot(np.asarray(weights, dtype=np.float64), log_probs, axes=1) / temperature
    blank = np.isnan(mixed[:, 0])
    probs = softmax(np.nan_to_num(mixed))
    probs[blank] = np.nan
    return probs


@dataclass(frozen=True)
class Combination:
    """An ensemble's runner: its members' probabilities [M, N, L] -> its own [N, L]."""

    weights: tuple[float, ...]
    temperature: float

    def __call__(self, member_probs: np.ndarray) -> np.ndarray:
        return combine(log_probs(member_probs), self.weights, self.temperature)


@register("ensemble")
@dataclass
class EnsembleSpec(Spec):
    """Made of stored models by `namelang ensemble`, not trained; no options of its own."""

    summary: ClassVar[str] = "stored models combined by a weighted mean of their log-probabilities"

    def runner(self, found, device: str = "auto", members: list = ()):
        """The weighted combination of `members` (their Classifiers, in the card's order)."""
        card = found.card
        if len(members) != len(card.members or []):
            raise NamelangError(f"{literal(found.path)}: the ensemble's card and its members disagree")
        for member in members:
            if member.labels != list(card.labels):
                raise NamelangError(
                    f"{literal(found.path)}: member {literal(member.name)!r} does not predict the ensemble's labels"
                )
        weights = tuple(float(entry["weight"]) for entry in card.members)
        return Combination(weights, float(card.temperature)), members[0].device
