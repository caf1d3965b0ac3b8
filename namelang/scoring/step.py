"""The per-chunk step: a chunk of a table in, the same rows with the prediction columns added out.

A chunk is a pandas frame (a text table), an Arrow record batch (Parquet) or a list of (column, values)
(names given as a list: scored without importing pandas). `tag_file` runs the step over a streamed
table; the Dask engine on each partition.
"""

from __future__ import annotations

import numpy as np

from namelang.scoring.adjust import Adjustment
from namelang.scoring.cells import Cells, factorize
from namelang.scoring.columns import PredictionColumns
from namelang.scoring.options import DEFAULT_CACHE


class NameCache:
    """Probabilities of names already scored, carried across chunks; emptied whole when full.

    Real files repeat surnames: a name seen in an earlier chunk is looked up, not run again.
    """

    def __init__(self, classifier, max_names: int = DEFAULT_CACHE):
        self.classifier = classifier
        self.max_names = max_names
        self.slots: dict[str, int] = {}
        self.table = np.empty((max_names, len(classifier.labels)), dtype=np.float32)
        self.hits = self.scored = 0

    def proba(self, names) -> np.ndarray:
        """Like `Classifier.predict_proba`, through the cache."""
        if len(names) == 0:
            return np.zeros((0, len(self.classifier.labels)), dtype=np.float32)
        # Hash, not sort: each distinct raw name is normalised once, each distinct normal form looked
        # up once; a missing value (code -1) takes the '' appended last.
        raw_codes, raw = factorize(np.asarray(names, dtype=object))
        codes, unique = factorize(np.array([*self.classifier.normalize(raw), ""], dtype=object))
        unique = np.asarray(unique, dtype=object)
        inverse = codes[raw_codes]
        slots = np.fromiter((self.slots.get(n, -1) for n in unique), dtype=np.int64, count=len(unique))
        missing = slots < 0
        probs = np.empty((len(unique), len(self.classifier.labels)), dtype=np.float32)
        probs[~missing] = self.table[slots[~missing]]
        if missing.any():
            fresh = self.classifier.distinct_proba(list(unique[missing]))
            probs[missing] = fresh
            self._remember(unique[missing], fresh)
        self.hits += int((~missing).sum())
        self.scored += int(missing.sum())
        return probs[inverse]

    def _remember(self, names, probs) -> None:
        if len(self.slots) + len(names) > self.max_names:
            self.slots.clear()
        start = len(self.slots)
        n = min(len(names), self.max_names - start)
        self.table[start : start + n] = probs[:n]
        self.slots.update(zip(names[:n], range(start, start + n)))


class Tagger:
    """The per-chunk step for a model and a `ScoreOptions`, the name column at position `column`.

    `adjustment` (scoring.adjust, `Adjustment.for_table`): the prior and sets to apply, settled (an
    estimated prior estimated by the caller's first pass); None only for plain options. `nulls`: blank
    names get null cells (typed outputs such as Parquet) instead of ''. `collect`: an
    `uncertainty.DistinctNames` that every scored name and its model probabilities are added to (the
    caller reads it for the mix or an estimate). `blank` and `abstained` count the rows seen so far
    without a name and below `min_prob`.
    """

    def __init__(self, classifier, column: int, options, *, adjustment: Adjustment | None = None,
                 nulls: bool = False, cache_size: int = DEFAULT_CACHE, collect=None):  # fmt: skip
        self.classifier, self.column, self.options = classifier, column, options
        self.columns = PredictionColumns.of(options, classifier.labels)
        if adjustment is None and not options.plain:
            raise ValueError("options with a prior or coverage need their Adjustment (Adjustment.for_table)")
        self.adjustment, self.nulls, self.collect = adjustment, nulls, collect
        self.cache = NameCache(classifier, cache_size)
        self.blank = self.abstained = 0

    def names(self, chunk) -> list:
        """The chunk's names, in order."""
        if isinstance(chunk, list):
            return list(chunk[self.column][1])
        if hasattr(chunk, "iloc"):
            return chunk.iloc[:, self.column].tolist()
        return chunk.column(self.column).to_pylist()

    def probabilities(self, names: list) -> np.ndarray:
        """The model's probabilities of `names` (through the cache), added to `collect`."""
        probs = self.cache.proba(names)
        if self.collect is not None:
            self.collect.add(names, probs)
        return probs

    def cells(self, names: list) -> Cells:
        cells = Cells.of(self.classifier, names, self.probabilities(names), self.columns, self.options.min_prob,
                         self.adjustment)  # fmt: skip
        self.blank += int(cells.blank.sum())
        self.abstained += int(cells.below.sum())
        return cells

    def frame(self, frame):
        """A pandas frame in, a copy with the prediction columns added out."""
        return self.cells(self.names(frame)).added_to(frame, self.nulls)

    def batch(self, batch):
        """An Arrow record batch in, the batch with typed prediction columns added out."""
        import pyarrow as pa

        cells = self.cells(self.names(batch))
        schema = self.columns.arrow_schema(batch.schema)
        # None and NaN (no name, or no prediction above min_prob) are nulls; '' stays ''.
        added = [
            pa.array(values, type=f.type, from_pandas=True)
            for f, (_, values) in zip(list(schema)[batch.num_columns :], cells.named(self.nulls))
        ]
        return pa.RecordBatch.from_arrays(list(batch.columns) + added, schema=schema)

    def listed(self, chunk: list) -> list:
        """A list of (column, values) in, the same with the added columns' (column, values) after."""
        return [*chunk, *self.cells(self.names(chunk)).named(self.nulls)]

    def __call__(self, chunk):
        if isinstance(chunk, list):
            return self.listed(chunk)
        return self.frame(chunk) if hasattr(chunk, "iloc") else self.batch(chunk)
