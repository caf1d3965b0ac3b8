"""`Cells`: what scoring adds to a chunk of names, column by column, as numpy arrays (no pandas).

The one place a row's probabilities become its cells: ranked best first; a blank name gets '' labels
and NaN probabilities; a name whose top probability is below `min_prob` abstains (its first label None,
its first probability NaN; the runners-up stay). Every path (a table's chunks, names on the command
line, the server, `Classifier.predict_frame`) goes through `Cells.of`.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np

from namelang.scoring.columns import PredictionColumns


@dataclass
class Cells:
    columns: PredictionColumns
    labels: list[np.ndarray]  # per rank, object: the label; '' for a blank name; None below min_prob (rank 1)
    probabilities: list[np.ndarray]  # per rank, float64: NaN for a blank name, and below min_prob (rank 1)
    blank: np.ndarray  # bool: no name (empty, spaces, missing)
    below: np.ndarray  # bool: the top probability is below min_prob: no prediction
    sets: np.ndarray | None  # object: 'English|Irish' ('' when empty or blank); with `coverage`
    paths: np.ndarray | None  # object: how each name was scored ('' for a blank name); with `explain`

    @classmethod
    def of(cls, classifier, names, probs: np.ndarray, columns: PredictionColumns, min_prob: float = 0.0,
           adjustment=None) -> Cells:  # fmt: skip
        """The cells of `names` from their model probabilities `probs` (rows of `predict_proba`), under
        `adjustment` (scoring.adjust; None: as the model gives them)."""
        shown = probs if adjustment is None else adjustment.probabilities(probs)
        order, top = classifier.rank(shown, columns.k)
        blank = np.isnan(top[:, 0])
        below = ~blank & (top[:, 0] < min_prob)
        label_of = np.array([*classifier.labels, ""], dtype=object)
        labels, probabilities = [], []
        for rank in range(order.shape[1]):
            label = label_of[np.where(blank, len(classifier.labels), order[:, rank])]
            probability = top[:, rank].astype(np.float64)
            if rank == 0 and below.any():  # no language claims the row, not even `unknown`
                label, probability = np.where(below, None, label), np.where(below, np.nan, probability)
            labels.append(label)
            probabilities.append(probability)
        sets = None
        if columns.sets:
            sets = (
                np.array(adjustment.sets(probs), dtype=object) if len(probs) else np.array([], dtype=object)
            )
        paths = script_paths(classifier, names, blank) if columns.explain else None
        return cls(columns, labels, probabilities, blank, below, sets, paths)

    def named(self, nulls: bool = False) -> list[tuple[str, np.ndarray]]:
        """(column, cells) in the columns' order. `nulls`: a blank name's label, set and path cells are
        None instead of '' (typed outputs: Parquet, Arrow)."""
        out = []
        for (label_column, probability_column), label, probability in zip(
            self.columns.pairs, self.labels, self.probabilities
        ):
            out += [(label_column, label), (probability_column, probability)]
        if self.sets is not None:
            out.append((self.columns.prediction_set, self.sets))
        if self.paths is not None:
            out.append((self.columns.script_path, self.paths))
        if nulls and self.blank.any():
            out = [(c, v if v.dtype.kind == "f" else np.where(self.blank, None, v)) for c, v in out]
        return out

    def added_to(self, frame, nulls: bool = False):
        """A copy of `frame` (a pandas frame of these rows) with the cells as its last columns."""
        import pandas as pd

        out = frame.copy()
        for column, values in self.named(nulls):
            out[column] = values if values.dtype.kind == "f" else pd.array(values, dtype=object)
        return out


def script_paths(classifier, names, blank: np.ndarray) -> np.ndarray:
    """`explain`: how each name was scored (`Classifier.script_paths`), worked out once per distinct
    name; '' where the name is blank (no prediction)."""
    codes, distinct = factorize(names)
    paths = np.array([*classifier.script_paths(distinct), ""], dtype=object)[codes]
    paths[np.asarray(blank, dtype=bool)] = ""
    return paths


def factorize(values) -> tuple[np.ndarray, list]:
    """(a code per value, the distinct values as Python objects); missing values (None, NaN, NA, NaT)
    get code -1. pandas' hash table when pandas is loaded already (the table path); a dict otherwise
    (names on the command line stay without pandas). Unhashable values are each their own."""
    if "pandas" in sys.modules:
        import pandas as pd

        try:
            array = values if hasattr(values, "dtype") else np.asarray(values, dtype=object)
            if array.ndim == 1:
                codes, uniques = pd.factorize(array)
                return codes, uniques.tolist()
        except TypeError:
            pass
    values = values.tolist() if hasattr(values, "tolist") else list(values)
    try:
        index: dict = {}
        codes = [-1 if missing(v) else index.setdefault(v, len(index)) for v in values]
        return np.asarray(codes, dtype=np.int64), list(index)
    except TypeError:  # unhashable cells (nested Parquet values: lists, arrays, dicts)
        return np.arange(len(values), dtype=np.int64), values


def missing(value) -> bool:
    """None or a value unequal to itself (NaN, NaT); a nested cell (a list or array from Parquet), whose
    comparison is not one truth value, is a value."""
    if value is None:
        return True
    try:
        return bool(value != value)
    except (TypeError, ValueError):
        return False
