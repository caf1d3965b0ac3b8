"""Priors, the language mix of a table, and conformal prediction sets: functions over probability arrays.

A model's probabilities carry the label prior it was trained with (the archive is half Russian).
- Bayes re-weighting moves them to another prior: p'(y|x) ∝ p(y|x) · target(y) / source(y). A model
  trained on several sources stores each one's train-split label shares (`source_priors`), so a table
  known to come from one register is re-weighted to that register's mix with `--prior SOURCE`.
- EM (Saerens, Latinne & Decaestecker, 2002) estimates a table's own prior from its unlabelled rows by
  alternating that re-weighting with averaging; it corrects *prior* (label) shift, not a change in how
  names of a language are spelled (concept shift).
- Split-conformal sets (the least-ambiguous-set rule, LAC; Sadinle, Lei & Wasserman, 2019): every label
  whose probability reaches a threshold fitted on the validation split. For exchangeable rows the set
  holds the true label with at least the chosen probability, on average over rows (marginal coverage),
  not for every language or every name. LAC gives the smallest sets on average of the split-conformal
  rules and needs one stored number per level; adaptive sets (APS) aim at more even coverage across
  names but give larger sets and need randomising to avoid over-covering.

Rows are distinct names with a count (`counts`), so a table of a million rows costs its distinct names.
Nothing here prints; errors a user can fix are NamelangError.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from difflib import get_close_matches
from pathlib import Path

import numpy as np

from namelang.errors import NamelangError, literal

PRIOR_KEYWORDS = ("train", "uniform", "estimate")
EM_TOLERANCE = 1e-7
EM_MAX_ITERATIONS = 2000
# Resamples start at the table's own estimate; 1e-5 moved interval ends by at most 2e-4 against 1e-6 on
# 15,706 distinct archive surnames, in a third of the iterations.
BOOTSTRAP_TOLERANCE = 1e-5
# In EM every label counts as holding at least this share of the model's prior. EM trusts the ratio
# p(y|x) / prior(y); for a label with a tiny prior (Arabic 0.0001 in the union model's fitted prior)
# a stray 1% on thousands of names claims strong evidence, and plain EM ran away to such labels even
# on the validation split the prior was fitted on (union student: accuracy 0.812 -> 0.325 re-weighted).
# Chosen on validation (docs/building-the-model.md, "EM's floor"): 0.01 stops that and
# leaves an archive-only gru's estimates as they were; 0.02 cost it 6 points on a uniform mix.
EM_SOURCE_FLOOR = 0.01
# Coverage levels a model stores a conformal threshold for: 0.50 … 0.99 by 0.01, then 0.995 and 0.999.
COVERAGE_LEVELS = tuple(round(0.5 + i / 100, 2) for i in range(50)) + (0.995, 0.999)


# --- priors -------------------------------------------------------------------------------------


def normalized(shares, what: str = "prior") -> np.ndarray:
    """`shares` as float64 summing to 1; negative, non-finite or all-zero shares are refused."""
    array = np.asarray(shares, dtype=np.float64)
    if not np.isfinite(array).all() or (array < 0).any():
        raise NamelangError(f"the {what} has a negative or non-finite share")
    if array.size == 0 or array.max() <= 0:
        raise NamelangError(f"the {what}'s shares are all zero")
    array = array / array.max()  # huge shares (1e308 twice) would sum to infinity
    return array / array.sum()


def training_prior(label_counts: dict, labels: list[str], balanced: bool = False) -> np.ndarray:
    """The prior a model's probabilities carry: its training rows' label shares, or uniform when it was
    trained with a class-balanced (inverse-frequency) loss, which weighs every label alike."""
    if balanced or not label_counts:
        return np.full(len(labels), 1.0 / len(labels))
    return normalized([label_counts.get(label, 0) for label in labels], "training prior")


def card_training_prior(card, labels: list[str]) -> np.ndarray:
    """The prior a ModelCard's training data and loss imply (its train split's shares, or uniform)."""
    balanced = bool(card.training.get("balance", False))
    return training_prior(card.data.train_label_counts or {}, labels, balanced)


def model_prior(card, labels: list[str]) -> np.ndarray:
    """The prior stored in a ModelCard, else the one implied by its training data and loss."""
    if card.prior:
        return prior_from_mapping(card.prior, labels, "the model card's prior")
    return card_training_prior(card, labels)


def fit_model_prior(probs: np.ndarray, y_true: np.ndarray, train_prior: np.ndarray) -> np.ndarray:
    """The prior the probabilities act as if trained under, fitted on the validation split.

    Temperature scaling calibrates confidence but leaves per-language biases (English vs Scottish), and
    EM amplifies them. A bias per language, fitted by maximum likelihood on validation, removes them
    (bias-corrected temperature scaling; Alexandari, Kundaje & Shrikumar, 2020); multiplying p(y|x) by
    exp(b_y) is the same as dividing by a prior ∝ train_prior(y) / exp(b_y), which this returns. At the
    optimum the probabilities moved from it to the training prior have, on validation, a mean equal to
    the validation's label shares. Languages absent from validation keep their training share."""
    probs = np.asarray(probs, dtype=np.float64)
    shares = np.bincount(y_true, minlength=probs.shape[1]) / len(y_true)
    present = shares > 0
    weights = np.ones(probs.shape[1])
    for _ in range(EM_MAX_ITERATIONS):
        moved = probs * weights
        moved /= moved.sum(axis=1, keepdims=True)
        step = np.where(present, shares / np.maximum(moved.mean(axis=0), 1e-300), 1.0)
        # A label the model never gives stays finite (and the product never overflows to a warning).
        weights = np.clip(weights * np.minimum(step, 1e24), 1e-12, 1e12)
        if np.abs(np.log(step)).max() < 1e-9:
            break
    return normalized(train_prior / weights)


def prior_from_mapping(mapping, labels: list[str], source: str = "prior") -> np.ndarray:
    """{label: share} -> shares in `labels` order, normalised; labels left out get 0 (counts work too)."""
    if not isinstance(mapping, dict) or not mapping:
        raise NamelangError(
            f'{literal(source)}: expected a JSON object of language -> share, like {{"English": 0.6}}'
        )
    unknown = sorted(str(k) for k in mapping if k not in labels)
    if unknown:
        raise NamelangError(
            f"{literal(source)}: unknown language {literal(', '.join(map(repr, unknown[:5])))}; the model knows: {', '.join(labels)}"
        )
    for label, share in mapping.items():
        if isinstance(share, bool) or not isinstance(share, (int, float)) or not math.isfinite(share):
            raise NamelangError(
                f"{literal(source)}: the share of {literal(label)!r} is {literal(repr(share))}, not a number"
            )
        if share < 0:
            raise NamelangError(f"{literal(source)}: the share of {literal(label)!r} is negative ({share})")
    if sum(mapping.values()) <= 0:
        raise NamelangError(f"{literal(source)}: the shares are all zero")
    return normalized([mapping.get(label, 0.0) for label in labels])


def read_prior_file(path: str | Path, labels: list[str]) -> np.ndarray:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NamelangError(f"no prior file {literal(path)}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise NamelangError(
            f"cannot read the prior file {literal(path)}: {literal(getattr(exc, 'strerror', None) or exc)}"
        ) from None
    try:
        mapping = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NamelangError(f"{literal(path)} is not valid JSON: {literal(exc)}") from None
    return prior_from_mapping(mapping, labels, str(path))


@dataclass(frozen=True)
class Prior:
    """A `--prior` choice: `kind` is train, uniform, given, file, source or estimate; `shares` is the target
    when known; `source` names the file or the training source it came from; `carried`, when set, is
    the prior to move from instead of the model's own (a source's shares move from the training split's)."""

    kind: str
    shares: np.ndarray | None = None
    source: str = ""
    carried: np.ndarray | None = None

    @property
    def is_train(self) -> bool:
        return self.kind == "train"

    def moved_from(self, model_prior: np.ndarray) -> np.ndarray:
        """The prior the probabilities are re-weighted from: `carried`, else the model's."""
        return model_prior if self.carried is None else self.carried

    @property
    def title(self) -> str:
        """How reports name it: the kind, or for a training source its name (`archive`)."""
        return self.source if self.kind == "source" else self.kind


def source_priors(labels_of_rows, sources_of_rows, labels: list[str]) -> dict[str, dict[str, float]] | None:
    """Each source's label shares among the (train) rows it holds: {source: {label: share}} over every
    one of `labels`, in their order; None when the rows name no source.

    A row several sources hold (`a;b` in the `source` column, one row after the cross-source dedupe) counts
    in each one's shares: it is a name of each one's register. Shares are add-one (Laplace) smoothed,
    (count + 1) / (rows + labels), so that no language is ruled out: a train split lacks the names the
    script rules label (Arabic, Han, Kana, Hangul script), and a zero share would veto them wherever a
    model's probability for them is not exactly 1 (an ensemble's are not). On the union's validation
    split smoothing changed no model's accuracy by more than 0.06 points but the ensemble's on the
    Mimesis rows (0.655 unsmoothed, 0.805 smoothed). Unlike the model's `prior`, nothing here is fitted."""
    from collections import Counter

    from namelang.data.split import SOURCE_SEPARATOR

    counts: dict[str, Counter] = {}
    for label, held_by in zip(labels_of_rows, sources_of_rows):
        for source in filter(None, str(held_by).split(SOURCE_SEPARATOR)):
            counts.setdefault(source, Counter())[label] += 1
    priors = {}
    for source in sorted(counts):
        total = sum(counts[source][label] for label in labels) + len(labels)
        priors[source] = {label: (counts[source][label] + 1) / total for label in labels}
    return priors or None


def _looks_like_a_path(value) -> bool:
    """A Path, or text with a folder separator or a .json suffix: always a file, never a source's name."""
    text = str(value)
    return isinstance(value, Path) or "/" in text or "\\" in text or text.lower().endswith(".json")


def parse_prior(
    value,
    labels: list[str],
    sources: dict | None = None,
    files: bool = True,
    trained: np.ndarray | None = None,
) -> Prior:
    """`train`, `uniform`, `estimate`, a training source's name (a key of `sources`, the card's
    `source_priors`), a JSON file of label -> share, or (from Python/HTTP) a dict.

    Precedence: the three keywords, then a source's name, then a file; a value with a folder separator
    or ending in .json is always a file (`./archive` is the file named archive). `files=False` (the HTTP
    API) refuses files. A source's shares are re-weighted from `trained` (the training split's label
    shares, counted on the same rows), not from the model's fitted prior: on the union's validation
    split that was 0.8-3.0 points more accurate on the archive's rows for each union model (gru, n-gram,
    ensemble, student) and within 0.2 points on Mimesis's."""
    if value is None or value == "train":
        return Prior("train")
    if isinstance(value, dict):
        return Prior("given", prior_from_mapping(value, labels, "prior"), "prior")
    if value == "uniform":
        return Prior("uniform", np.full(len(labels), 1.0 / len(labels)))
    if value == "estimate":
        return Prior("estimate")
    if not isinstance(value, (str, Path)):
        raise NamelangError(
            f"{{prior}} must be train, uniform, estimate or label -> share, not {literal(repr(value))}"
        )
    if sources and not _looks_like_a_path(value) and str(value) in sources:
        where = f"the model card's prior of source {value!r}"
        return Prior("source", prior_from_mapping(sources[str(value)], labels, where), str(value), trained)
    path = Path(value)
    if not files or (not path.exists() and path.suffix.lower() != ".json"):
        raise NamelangError(_unknown_prior(value, sources, files))
    return Prior("file", read_prior_file(path, labels), str(path))


def _unknown_prior(value, sources: dict | None, files: bool) -> str:
    """One line: what a prior can be for this model, and that `value` is none of it."""
    named = f"a source the model was trained on ({literal(', '.join(sources))})" if sources else None
    choices = ["train", "uniform", "estimate", *([named] if named else [])]
    choices.append("a JSON file" if files else "{language: share}")
    stored = "" if sources else " (this model stores no source priors)"
    what = "file or source" if files and sources else ("file" if files else "source")
    close = get_close_matches(str(value), ["train", "uniform", "estimate", *(sources or ())], n=1, cutoff=0.6)
    hint = f"; did you mean {literal(close[0])!r}?" if close else ""
    return f"{{prior}} takes {', '.join(choices[:-1])} or {choices[-1]}{stored}; no {what} {literal(str(value))!r}{hint}"


def reweight(probs: np.ndarray, source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Bayes' rule: p(y|x) from a model trained under `source` moved to `target`; NaN rows stay NaN."""
    ratio = np.divide(target, source, out=np.zeros_like(target, dtype=np.float64), where=source > 0)
    weighted = np.asarray(probs, dtype=np.float64) * ratio
    total = weighted.sum(axis=1, keepdims=True)
    # A row whose every probable label has target share 0 keeps its own probabilities.
    return np.where(total > 0, weighted / np.where(total > 0, total, 1.0), probs)


@dataclass
class Estimate:
    prior: np.ndarray
    iterations: int
    converged: bool
    source: np.ndarray  # the prior EM took the probabilities to carry: re-weight from it to `prior`


def em_source(source: np.ndarray) -> np.ndarray:
    """The model's prior as EM uses it: every share at least EM_SOURCE_FLOOR, renormalised."""
    floored = np.maximum(np.asarray(source, dtype=np.float64), EM_SOURCE_FLOOR)
    return floored / floored.sum()


def estimate_prior(
    probs: np.ndarray,
    source: np.ndarray,
    counts: np.ndarray | None = None,
    start: np.ndarray | None = None,
    tolerance: float = EM_TOLERANCE,
    max_iterations: int = EM_MAX_ITERATIONS,
) -> Estimate:
    """The rows' own label prior by EM (Saerens et al., 2002); `counts` weighs each (distinct) row.

    E-step: re-weight every row from the (floored, `em_source`) model prior to the current estimate;
    M-step: the estimate becomes the count-weighted mean of the re-weighted rows. Stops when no share
    moves more than `tolerance`. Re-weight rows from the returned `source` to the returned `prior`.
    """
    weights = np.ones(len(probs)) if counts is None else np.asarray(counts, dtype=np.float64)
    if len(probs) == 0 or weights.sum() <= 0:
        raise NamelangError("no names to estimate a prior from")
    source = em_source(source)
    base = _base(probs, source)
    priors, iterations, converged = _em(
        base, weights[None, :], start if start is not None else source, tolerance, max_iterations
    )
    return Estimate(priors[0], iterations, converged, source)


def _base(probs: np.ndarray, source: np.ndarray) -> np.ndarray:
    """p(y|x) / source(y): what every EM step multiplies by its current prior."""
    return np.asarray(probs, dtype=np.float64) / np.where(source > 0, source, np.inf)


def _em(base: np.ndarray, weights: np.ndarray, start, tolerance: float, max_iterations: int):
    """EM for several weightings of the same rows at once: `weights` [B, rows] -> priors [B, labels].

    One step is two matrix products: a row's re-weighted probabilities are base·π / (base @ π), so
    their weighted mean is π · ((w / (base @ π)) @ base), and no [rows, labels] temporary is made.
    """
    weights = weights / weights.sum(axis=1, keepdims=True)
    priors = np.tile(np.asarray(start, dtype=np.float64), (len(weights), 1))
    for iteration in range(1, max_iterations + 1):
        per_row = base @ priors.T  # [rows, B]
        updated = priors * ((weights.T / np.maximum(per_row, 1e-300)).T @ base)
        done = np.abs(updated - priors).max() < tolerance
        priors = updated
        if done:
            return priors, iteration, True
    return priors, max_iterations, False


# --- the mix of a table ---------------------------------------------------------------------------


@dataclass
class Mix:
    """A table's language mix, three ways; shares sum to 1 over `labels`."""

    labels: list[str]
    rows: int
    distinct: int
    top1: np.ndarray  # share of rows whose most probable label is y
    probability_sum: np.ndarray  # mean probability of y over rows
    em: np.ndarray  # EM estimate
    em_low: np.ndarray | None  # percentile bootstrap interval (None without resamples)
    em_high: np.ndarray | None
    resamples: int
    level: float
    em_iterations: int
    em_converged: bool
    prior: str = "train"  # the --prior the top-1 counts and probability sums were taken under

    def as_dict(self) -> dict:
        """JSON-ready: per language the top-1 count and share, the probability sum and the EM share."""
        per_label = {}
        for i, label in enumerate(self.labels):
            entry = {
                "top1_count": int(round(self.top1[i] * self.rows)),
                "top1_share": float(self.top1[i]),
                "probability_sum": float(self.probability_sum[i] * self.rows),
                "probability_share": float(self.probability_sum[i]),
                "em_share": float(self.em[i]),
            }
            if self.em_low is not None:
                entry["em_low"], entry["em_high"] = float(self.em_low[i]), float(self.em_high[i])
            per_label[label] = entry
        return {
            "rows": self.rows,
            "distinct_names": self.distinct,
            "prior": self.prior,
            "bootstrap_resamples": self.resamples,
            "interval": self.level,
            "em_iterations": self.em_iterations,
            "em_converged": self.em_converged,
            "languages": per_label,
        }


def bootstrap_interval(
    probs: np.ndarray,
    source: np.ndarray,
    counts: np.ndarray,
    start: np.ndarray,
    resamples: int,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval of the EM estimate over `resamples` bootstrap tables (rows drawn with
    replacement: the distinct names' counts redrawn from a multinomial); repeatable for a seed."""
    rng = np.random.default_rng(seed)
    counts = np.asarray(counts, dtype=np.float64)
    rows, base = int(counts.sum()), _base(probs, em_source(source))
    draws = []
    # A few resamples at a time bound the [distinct names, resamples] temporaries.
    group = max(1, min(resamples, 2_000_000 // max(len(counts), 1)))
    for first in range(0, resamples, group):
        redrawn = rng.multinomial(rows, counts / counts.sum(), size=min(group, resamples - first))
        draws.append(_em(base, redrawn.astype(np.float64), start, BOOTSTRAP_TOLERANCE, EM_MAX_ITERATIONS)[0])
    draws = np.concatenate(draws)
    tail = (1 - level) / 2 * 100
    return np.percentile(draws, tail, axis=0), np.percentile(draws, 100 - tail, axis=0)


def table_mix(
    probs: np.ndarray,
    source: np.ndarray,
    labels: list[str],
    counts: np.ndarray | None = None,
    prior: Prior | None = None,
    resamples: int = 200,
    seed: int = 0,
    level: float = 0.95,
) -> Mix:
    """The mix of the rows `probs` (model probabilities under `source`; one row per distinct name,
    weighted by `counts`; blank rows are left out). Top-1 counts and probability sums use the
    probabilities the rows are tagged with under `prior` (default: the model's own); EM starts from
    the model's own probabilities whatever `prior` says."""
    keep = ~np.isnan(probs).any(axis=1)
    probs = np.asarray(probs, dtype=np.float64)[keep]
    counts = np.ones(len(probs)) if counts is None else np.asarray(counts, dtype=np.float64)[keep]
    rows = int(counts.sum())
    if rows == 0:
        raise NamelangError("no names to summarise (every row was blank)")
    estimate = estimate_prior(probs, source, counts)
    shown = probs
    if prior is not None and not prior.is_train:
        if prior.shares is None:  # estimate
            shown = reweight(probs, estimate.source, estimate.prior)
        else:
            shown = reweight(probs, prior.moved_from(source), prior.shares)
    low = high = None
    if resamples > 0:
        low, high = bootstrap_interval(probs, source, counts, estimate.prior, resamples, seed, level)
    return Mix(
        labels,
        rows,
        len(probs),
        np.bincount(shown.argmax(axis=1), weights=counts, minlength=len(labels)) / rows,
        counts @ shown / rows,
        estimate.prior,
        low,
        high,
        resamples,
        level,
        estimate.iterations,
        estimate.converged,
        "train" if prior is None else prior.title,
    )


class DistinctNames:
    """Collects a streamed table's distinct names, their counts and model probabilities, chunk by chunk,
    so its mix can be computed at the end in memory bounded by the number of distinct names."""

    def __init__(self, n_labels: int):
        self.index: dict[str, int] = {}
        self.counts: list[int] = []
        self.blocks: list[np.ndarray] = []
        self.n_labels = n_labels

    def add(self, names, probs: np.ndarray) -> None:
        """`names` and their probabilities, row for row; blank rows (NaN probabilities) are skipped."""
        rows = np.flatnonzero(~np.isnan(np.asarray(probs)[:, 0]))
        if not len(rows):
            return
        # One dictionary look-up per distinct name of the chunk, not per row.
        kept = np.array([names[i] for i in rows], dtype=object)
        unique, first, counts = np.unique(kept, return_index=True, return_counts=True)
        fresh_rows = []
        for name, row, count in zip(unique.tolist(), rows[first].tolist(), counts.tolist()):
            at = self.index.get(name)
            if at is None:
                self.index[name] = len(self.counts)
                self.counts.append(count)
                fresh_rows.append(row)
            else:
                self.counts[at] += count
        if fresh_rows:
            self.blocks.append(np.asarray(probs[fresh_rows], dtype=np.float32))

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """(probabilities [distinct, labels], counts [distinct])."""
        probs = np.concatenate(self.blocks) if self.blocks else np.zeros((0, self.n_labels), np.float32)
        return probs, np.asarray(self.counts, dtype=np.int64)


# --- conformal prediction sets --------------------------------------------------------------------


def conformal_threshold(probs: np.ndarray, y_true: np.ndarray, coverage: float) -> float:
    """LAC threshold: the ⌈(n+1)·coverage⌉-th largest probability of the true label on calibration rows.

    Labels whose probability reaches it form the set; 0.0 (every label) when n is too small for the level.
    """
    true_p = np.sort(np.asarray(probs, dtype=np.float64)[np.arange(len(y_true)), y_true])[::-1]
    k = math.ceil((len(true_p) + 1) * coverage)
    return float(true_p[k - 1]) if 1 <= k <= len(true_p) else 0.0


def fit_conformal(probs: np.ndarray, y_true: np.ndarray, levels=COVERAGE_LEVELS) -> dict:
    """The model card's `conformal` entry: method, calibration size and a threshold per coverage level."""
    return {
        "method": "lac",
        "split": "val",
        "n": int(len(y_true)),
        "thresholds": {f"{level:g}": conformal_threshold(probs, y_true, level) for level in levels},
    }


def uncertainty_fields(card, probs: np.ndarray, y_true: np.ndarray) -> tuple[dict, dict]:
    """A ModelCard's `prior` and `conformal`, fitted on the validation split's (calibrated) probabilities."""
    prior = fit_model_prior(probs, y_true, card_training_prior(card, card.labels))
    return dict(zip(card.labels, map(float, prior))), fit_conformal(probs, y_true)


def stored_threshold(conformal: dict | None, coverage: float) -> float:
    """The stored threshold for `coverage`; a one-line error when the model has none for it."""
    if not conformal or not conformal.get("thresholds"):
        raise NamelangError(
            "this model has no conformal thresholds (it was trained before namelang stored them); train it again"
        )
    thresholds = conformal["thresholds"]
    key = f"{coverage:g}"
    if key not in thresholds:
        raise NamelangError(
            f"{{coverage={coverage:g}}} is not one the model was calibrated for: use 0.5 to 0.99 in steps "
            "of 0.01, 0.995 or 0.999"
        )
    return float(thresholds[key])


def prediction_sets(probs: np.ndarray, threshold: float) -> list[list[int]]:
    """Per row, the label indices with probability ≥ threshold, most probable first.

    A set may be empty: when no label reaches the threshold, the row is one of the hardest, on which LAC
    spends its error budget (at a coverage below the model's accuracy that is what keeps coverage near
    the target rather than at the accuracy). Blank (NaN) rows get an empty set too."""
    order = np.argsort(-np.nan_to_num(probs, nan=-1.0), axis=1, kind="stable")
    sizes = (np.take_along_axis(np.nan_to_num(probs, nan=-1.0), order, axis=1) >= threshold).sum(axis=1)
    return [row[:size].tolist() for row, size in zip(order, sizes)]


def set_strings(sets: list[list[int]], labels: list[str], sep: str = "|") -> list[str]:
    """The `prediction_set` column: label names joined by `sep`, most probable first."""
    return [sep.join(labels[i] for i in row) for row in sets]


# --- one model's view ----------------------------------------------------------------------------


@dataclass
class ModelUncertainty:
    """What a loaded model's card says about priors and sets: the numbers `scoring.adjust.Adjustment`
    applies on every path (a prior, prediction sets, the mix)."""

    labels: list[str]
    prior: np.ndarray  # the prior the model's probabilities carry
    conformal: dict | None
    sources: dict | None = None  # each training source's label shares (the card's source_priors)
    trained: np.ndarray | None = None  # the training split's label shares (what sources move from)

    @classmethod
    def of(cls, classifier) -> ModelUncertainty:
        card = classifier.card
        labels = list(classifier.labels)
        trained = card_training_prior(card, labels)
        return cls(labels, model_prior(card, labels), card.conformal, card.source_priors, trained)

    def parse(self, value, files: bool = True) -> Prior:
        """A prior (train, uniform, estimate, a source's name, a file, a dict) for this model."""
        return parse_prior(value, self.labels, self.sources, files, self.trained)

    def threshold(self, coverage: float) -> float:
        return stored_threshold(self.conformal, coverage)
