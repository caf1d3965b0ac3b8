"""Scoring a model on a labelled split: metrics (numpy, as scikit-learn defines them), the confusion matrix, most-confused pairs.

Everything here returns plain data (dicts, arrays); the commands render it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from namelang.errors import NamelangError, literal

ECE_BINS = 15


@dataclass
class Scored:
    """A model's probabilities on a split, with the true label indices."""

    model: str
    labels: list[str]
    names: list[str]
    y_true: np.ndarray
    probs: np.ndarray
    skipped: int
    majority_label: str | None
    prior: str = "train"  # the label prior the probabilities were re-weighted to (evaluate --prior)
    # Which rows' names the model trained on (in its lexicon); None: it keeps no list of them.
    seen: np.ndarray | None = None

    @property
    def y_pred(self) -> np.ndarray:
        return self.probs.argmax(axis=1)


def score(clf, names: list[str], labels: list[str], source: str = "split") -> Scored:
    """Run `clf` over (name, label) rows; blank names are skipped, unknown labels refused."""
    if not names:
        raise NamelangError(f"{literal(source)} holds no rows")
    index = {label: i for i, label in enumerate(clf.labels)}
    unknown = sorted({lb for lb in labels if lb not in index})
    if unknown:
        raise NamelangError(
            f"{literal(source)} has labels the model {literal(clf.name)!r} does not know: "
            f"{literal(', '.join(unknown[:10]))}"
            + (f" (and {len(unknown) - 10} more)" if len(unknown) > 10 else "")
        )
    probs = clf.predict_proba(names)
    keep = ~np.isnan(probs[:, 0])
    if not keep.any():
        raise NamelangError(f"{literal(source)} holds no non-blank names")
    counts = clf.card.data.train_label_counts
    majority = max(counts, key=lambda lb: (counts[lb], lb)) if counts else None
    known = clf.known(names)
    return Scored(
        clf.name,
        clf.labels,
        [n for n, k in zip(names, keep) if k],
        np.array([index[lb] for lb, k in zip(labels, keep) if k], dtype=np.int64),
        probs[keep].astype(np.float64),
        int((~keep).sum()),
        majority,
        seen=None if known is None else known[keep],
    )


def expected_calibration_error(probs: np.ndarray, y_true: np.ndarray, bins: int = ECE_BINS) -> float:
    """Weighted gap between confidence and accuracy over equal-width confidence bins."""
    confidence = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == y_true).astype(np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    # Bin i holds confidences in (edges[i], edges[i+1]]; the first bin also takes 0.
    which = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            ece += mask.mean() * abs(correct[mask].mean() - confidence[mask].mean())
    return float(ece)


def confusion_counts(y_true: np.ndarray, y_pred: np.ndarray, n_labels: int) -> np.ndarray:
    """Counts [true, predicted] over label indices 0..n_labels-1 (scikit-learn's confusion_matrix)."""
    flat = np.asarray(y_true, dtype=np.int64) * n_labels + np.asarray(y_pred, dtype=np.int64)
    return np.bincount(flat, minlength=n_labels * n_labels).reshape(n_labels, n_labels)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, 0 where the denominator is 0 (scikit-learn's zero_division=0)."""
    return np.divide(numerator, denominator, out=np.zeros(len(numerator)), where=denominator > 0)


def label_scores(counts: np.ndarray) -> dict[str, np.ndarray]:
    """Per label: precision, recall, F1 and support, from the confusion counts."""
    tp = np.diag(counts).astype(np.float64)
    support, predicted = counts.sum(axis=1), counts.sum(axis=0)
    return {
        "precision": _ratio(tp, predicted),
        "recall": _ratio(tp, support),
        "f1": _ratio(2 * tp, support + predicted),
        "support": support,
    }


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray, n_labels: int) -> float:
    """scikit-learn's `f1_score(average="macro")`: the mean F1 of the labels true or predicted."""
    counts = confusion_counts(y_true, y_pred, n_labels)
    seen = (counts.sum(axis=0) + counts.sum(axis=1)) > 0
    return float(label_scores(counts)["f1"][seen].mean())


def top_k_accuracy(y_true: np.ndarray, probs: np.ndarray, k: int) -> float:
    """Share of rows whose true label is among the k most probable (ties as scikit-learn breaks them)."""
    ranked = np.argsort(probs, axis=1, kind="mergesort")[:, ::-1][:, :k]
    return float((ranked == y_true[:, None]).any(axis=1).mean())


def log_loss(y_true: np.ndarray, probs: np.ndarray) -> float:
    """Mean negative log-probability of the true label, clipped to [eps, 1 - eps] as scikit-learn does."""
    eps = np.finfo(probs.dtype).eps
    return float(-np.log(np.clip(probs[np.arange(len(y_true)), y_true], eps, 1 - eps)).mean())


def metrics(scored: Scored) -> dict:
    """The report of `namelang evaluate --format json` for one model (numpy only: the figures
    scikit-learn's metrics give, checked against them in the tests)."""
    y, p, probs = scored.y_true, scored.y_pred, scored.probs
    counts = confusion_counts(y, p, len(scored.labels))
    per = label_scores(counts)
    per_label = {
        label: {
            "precision": float(per["precision"][i]),
            "recall": float(per["recall"][i]),
            "f1": float(per["f1"][i]),
            "support": int(per["support"][i]),
        }
        for i, label in enumerate(scored.labels)
    }
    # Macro averages run over the labels present in the split: an absent label has no recall to average.
    present = per["support"] > 0
    accuracy = float(np.mean(y == p))
    majority = scored.labels.index(scored.majority_label) if scored.majority_label in scored.labels else None
    return {
        "model": scored.model,
        "prior": scored.prior,
        "n": len(y),
        "accuracy": accuracy,
        "macro_f1": float(per["f1"][present].mean()),
        "weighted_f1": float(np.average(per["f1"][present], weights=per["support"][present])),
        "balanced_accuracy": float(per["recall"][present].mean()),
        "mean_language_recall": mean_language_recall(y, p, scored.labels),
        "top3_accuracy": top_k_accuracy(y, probs, 3) if len(scored.labels) > 1 else accuracy,
        "log_loss": log_loss(y, probs),
        "ece": expected_calibration_error(probs, y),
        "majority_label": scored.majority_label,
        "majority_accuracy": float(np.mean(y == majority)) if majority is not None else None,
        "skipped_blank": scored.skipped,
        "per_label": per_label,
    }


NORMALIZE = ("true", "pred", "all", "none")


def confusion(scored: Scored, normalize: str = "true") -> tuple[np.ndarray, np.ndarray]:
    """(matrix as asked, raw counts); rows are true labels, columns predictions."""
    if normalize not in NORMALIZE:
        raise NamelangError(f"{{normalize}} must be one of {', '.join(NORMALIZE)}")
    counts = confusion_counts(scored.y_true, scored.y_pred, len(scored.labels))
    if normalize == "none":
        return counts, counts
    total = {"true": counts.sum(axis=1, keepdims=True), "pred": counts.sum(axis=0, keepdims=True)}
    with np.errstate(invalid="ignore", divide="ignore"):
        matrix = counts / total.get(normalize, counts.sum())
    return np.nan_to_num(matrix), counts


def most_confused(counts: np.ndarray, labels: list[str], top: int = 10) -> list[dict]:
    """Off-diagonal pairs by count: true label, predicted label, count, row total and share of the row."""
    totals = counts.sum(axis=1)
    pairs = Counter(
        {
            (i, j): int(counts[i, j])
            for i in range(len(labels))
            for j in range(len(labels))
            if i != j and counts[i, j]
        }
    )
    ranked = sorted(pairs.items(), key=lambda kv: (-kv[1], -kv[1] / totals[kv[0][0]], kv[0]))[:top]
    return [
        {
            "true": labels[i],
            "predicted": labels[j],
            "count": n,
            "of": int(totals[i]),
            "share": n / totals[i],
        }
        for (i, j), n in ranked
    ]


def mean_language_recall(y_true: np.ndarray, y_pred: np.ndarray, labels: list[str]) -> float:
    """Recall averaged over the languages present in `y_true`; the out-of-scope label is no language."""
    from namelang.data.sources import OUT_OF_SCOPE

    present = [i for i in sorted(set(np.asarray(y_true).tolist())) if labels[i] != OUT_OF_SCOPE]
    if not present:
        return float("nan")
    return float(np.mean([np.mean(y_pred[y_true == i] == i) for i in present]))


def overlap(scored: Scored) -> dict:
    """How many of the scored rows' names the model trained on: `checked` is False for a model that
    keeps no list of its training names (then `trained_on` and `share` are None)."""
    if scored.seen is None:
        return {"checked": False, "trained_on": None, "share": None}
    n = int(scored.seen.sum())
    return {"checked": True, "trained_on": n, "share": n / len(scored.seen) if len(scored.seen) else 0.0}


def seen_reports(scored: Scored) -> dict[str, dict | None]:
    """Metrics over the rows whose name the model trained on (`seen`: answered from its lexicon) and
    over the others (`unseen`: only these measure the network); None for a part with no rows, or
    both for a model without a lexicon."""
    parts = {}
    for part, rows in (("seen", scored.seen), ("unseen", None if scored.seen is None else ~scored.seen)):
        if rows is None or not rows.any():
            parts[part] = None
            continue
        picked = Scored(scored.model, scored.labels, [n for n, r in zip(scored.names, rows) if r],
                        scored.y_true[rows], scored.probs[rows], 0, scored.majority_label, scored.prior)  # fmt: skip
        parts[part] = {k: v for k, v in metrics(picked).items() if k != "per_label"}
    return parts


def source_reports(scored: Scored, sources: list[str]) -> dict[str, dict]:
    """Metrics over each source's rows of a scored split (`sources`: the `source` cell of each scored
    row); a row several sources hold counts for each. Empty when the split has one source or none."""
    from namelang.data.split import SOURCE_SEPARATOR

    tags: dict[str, list[int]] = {}
    for row, cell in enumerate(sources):
        for tag in filter(None, cell.split(SOURCE_SEPARATOR)):
            tags.setdefault(tag, []).append(row)
    if len(tags) < 2:
        return {}
    reports = {}
    for tag, rows in sorted(tags.items()):
        part = Scored(scored.model, scored.labels, [scored.names[i] for i in rows], scored.y_true[rows],
                      scored.probs[rows], 0, scored.majority_label)  # fmt: skip
        reports[tag] = {k: v for k, v in metrics(part).items() if k != "per_label"}
    return reports
