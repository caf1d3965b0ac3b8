"""The one place a prior, prediction sets and the language mix are applied, for every path: a streamed
table, the Dask engine, the server, `evaluate --prior` and `Classifier.predict_frame`.

An `Adjustment` is a value: built once from a model and a `ScoreOptions`, it re-weights probabilities
and gives prediction sets; it holds no state that a pass fills in. A prior to be estimated (`estimate`)
leaves it `pending` until `settled(probs, counts)` returns the settled one: the caller runs that
estimate pass (over a request, a split, a whole table or every partition) and hands the result to the
scoring pass. The maths (Bayes re-weighting, EM, conformal sets, the mix) is `namelang.uncertainty`'s.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from namelang.scoring.options import ScoreOptions
from namelang.uncertainty import (
    DistinctNames,
    Mix,
    ModelUncertainty,
    Prior,
    estimate_prior,
    prediction_sets,
    reweight,
    set_strings,
    table_mix,
)

SET_SEPARATOR = "|"  # how a prediction set is one text cell (CSV, Parquet); JSON writes a list


@dataclass(frozen=True)
class Adjustment:
    """What is applied to a model's probabilities: re-weighting from `source` to `target` (None: left
    as the model gives them) and, with a `threshold`, the conformal prediction set of each row."""

    model: ModelUncertainty  # the card's priors and conformal thresholds
    prior: Prior  # as the options chose it
    source: np.ndarray  # the prior the probabilities are moved from
    target: np.ndarray | None  # the prior they are moved to; None: the model's own
    threshold: float | None  # the conformal threshold of `coverage`; None: no sets

    @classmethod
    def of(cls, classifier, options, files: bool = True) -> Adjustment:
        """The adjustment `options` (a ScoreOptions) asks of `classifier`; the prior and coverage are
        checked here, before any scoring. `files=False` (the HTTP API) refuses a prior file."""
        return cls.of_model(ModelUncertainty.of(classifier), options, files)

    @classmethod
    def for_table(cls, classifier, options, summary=None) -> Adjustment | None:
        """What scoring a table (streamed, or on Dask) applies: `of` when `options` ask for a prior or
        sets, or the table's mix is asked for (`summary`, a MixOptions); else None. Pending with
        `estimate`: the caller's first pass settles it."""
        if options.plain and summary is None:
            return None
        return cls.of(classifier, options)

    @classmethod
    def of_model(cls, model: ModelUncertainty, options, files: bool = True) -> Adjustment:
        """`of` from a model card's numbers (`ModelUncertainty`), without a loaded classifier."""
        prior = model.parse(options.prior, files)
        threshold = None if options.coverage is None else model.threshold(options.coverage)
        return cls(model, prior, prior.moved_from(model.prior), prior.shares, threshold)

    @property
    def pending(self) -> bool:
        """An estimated prior not estimated yet: `settled()` first."""
        return self.prior.kind == "estimate" and self.target is None

    def settled(self, probs: np.ndarray, counts: np.ndarray | None = None) -> Adjustment:
        """With `estimate`, the prior estimated by EM over these rows (`counts` weighs each: distinct
        names and how often each came); otherwise itself. Blank rows (NaN) are left out."""
        if not self.pending:
            return self
        keep = ~np.isnan(probs).any(axis=1)
        if not keep.any():  # nothing to estimate from: the model's own prior
            return replace(self, target=self.source)
        weights = None if counts is None else np.asarray(counts)[keep]
        estimate = estimate_prior(probs[keep], self.source, weights)
        return replace(self, source=estimate.source, target=estimate.prior)

    def probabilities(self, probs: np.ndarray) -> np.ndarray:
        """The probabilities the rows are tagged with (float64 when re-weighted; NaN rows stay NaN)."""
        if self.pending:
            raise ValueError("an estimated prior must be settled() before scoring")
        return probs if self.target is None else reweight(probs, self.source, self.target)

    def sets(self, probs: np.ndarray) -> list[str] | None:
        """Each row's prediction set as one cell ('English|Irish', most probable first; '' when empty),
        from the model's own probabilities; None without `coverage`."""
        if self.threshold is None:
            return None
        return set_strings(prediction_sets(probs, self.threshold), self.model.labels, SET_SEPARATOR)

    def mix(self, seen: DistinctNames, options) -> Mix:
        """The mix of the names `seen` collected (a MixOptions: bootstrap, seed), the top-1 counts and
        probability sums taken under this prior."""
        probs, counts = seen.arrays()
        return table_mix(probs, self.model.prior, self.model.labels, counts, self.prior, options.bootstrap,
                         options.seed)  # fmt: skip


def rows_adjustment(classifier, options, probs: np.ndarray, files: bool = True) -> Adjustment | None:
    """The adjustment for scoring just these rows (a request, a frame): settled over them; None when
    `options` asks for nothing to apply."""
    if options.plain:
        return None
    return Adjustment.of(classifier, options, files).settled(probs)


def names_mix(classifier, names: list, prior, options, files: bool = True) -> Mix:
    """The language mix of a list of names (`POST /v1/mix`) under `prior` (a MixOptions: bootstrap, seed)."""
    adjustment = Adjustment.of(classifier, ScoreOptions(prior=prior), files)
    seen = DistinctNames(len(classifier.labels))
    seen.add(classifier.normalize(names), classifier.predict_proba(names))
    return adjustment.mix(seen, options)
