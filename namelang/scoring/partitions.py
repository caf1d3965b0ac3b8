"""What the Dask engine runs on a worker: the model sent as data, and the per-chunk step on a partition.

A worker need not share a disk with the client: `ModelPayload` carries the model's card and the bytes
of its weights and lexicon, loaded once per worker process (the numpy engine, without torch).
`PartitionStep` is everything a partition is scored with (the payload, the name column, the
`ScoreOptions` and the settled `Adjustment`), sent once with the graph; on a partition it is the same
`Tagger` as `tag_file`'s, so both engines give the same rows. Its `seen` is the first pass of a prior
to estimate or a mix: each partition's distinct names, their counts and model probabilities, merged on
the client by `merge_seen` into what `Adjustment.settled` and `Adjustment.mix` take.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from namelang.errors import NamelangError
from namelang.models.card import ModelCard
from namelang.scoring.adjust import Adjustment
from namelang.scoring.options import DEFAULT_CACHE, ScoreOptions


@dataclass(frozen=True)
class ModelPayload:
    """What a worker needs to run a model, as data: its card, its weights' bytes and its lexicon's."""

    name: str
    card: ModelCard
    weights: bytes
    lexicon: bytes | None = None  # models/lexicon.py: the training names answer from it on workers too

    @classmethod
    def load(cls, model: str | Path | None = None, home=None) -> ModelPayload:
        """The store's model (a name, a folder, 'pretrained', or None for the default) as a payload."""
        from namelang.models.store import ModelStore

        found = ModelStore(home).load(model)
        if found.members():
            raise NamelangError(f"{found.name} is an ensemble; the Dask engine sends single models only")
        return cls(found.name, found.card, found.weights().read_bytes(), found.lexicon_bytes())

    @property
    def labels(self) -> list[str]:
        return list(self.card.labels)

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.weights + (self.lexicon or b"")).hexdigest()


_lock = threading.Lock()
_classifiers: dict[str, object] = {}  # per worker process: payload digest -> Classifier
_held = threading.local()  # per worker thread: the run's Tagger and the model's name cache


def classifier_from(payload: ModelPayload):
    """The payload's Classifier, loaded once per process (checked like any model folder, then removed)."""
    from namelang.inference import Classifier
    from namelang.models import store

    with _lock:
        if payload.digest not in _classifiers:
            folder = Path(tempfile.mkdtemp(prefix="namelang-model-"))
            try:
                (folder / store.WEIGHTS).write_bytes(payload.weights)
                (folder / store.CARD).write_text(payload.card.to_json(), encoding="utf-8")
                if payload.lexicon is not None:
                    (folder / store.LEXICON).write_bytes(payload.lexicon)
                clf = Classifier.load(folder, device="cpu")
            finally:
                shutil.rmtree(folder, ignore_errors=True)
            clf.name = payload.name
            _classifiers[payload.digest] = clf
        return _classifiers[payload.digest]


@dataclass(frozen=True)
class PartitionStep:
    """What every partition of one pass is scored with; sent to the workers once (`dask.delayed`).

    `adjustment`: settled (or pending, for a pass that only collects names); None when `options` are
    plain. `nulls`: blank names get null cells (Parquet). `run` tells one pass's steps from another's.
    """

    payload: ModelPayload
    column: int
    options: ScoreOptions
    adjustment: Adjustment | None = None
    nulls: bool = False
    cache_size: int = DEFAULT_CACHE
    run: str = field(default_factory=lambda: uuid.uuid4().hex)

    def tagger(self):
        """This worker thread's Tagger of the pass; the model's name cache carries over between passes."""
        from namelang.scoring.step import Tagger

        held = getattr(_held, "tagger", None)
        if held is None or held[0] != self.run:
            tagger = Tagger(classifier_from(self.payload), self.column, self.options,
                            adjustment=self.adjustment, nulls=self.nulls, cache_size=self.cache_size)  # fmt: skip
            cache = getattr(_held, "cache", None)
            if cache is not None and cache[0] == self.payload.digest:
                tagger.cache = cache[1]
            _held.cache = (self.payload.digest, tagger.cache)
            held = _held.tagger = (self.run, tagger)
        return held[1]


def tag_partition(frame, step: PartitionStep):
    """One partition, tagged on a worker: the same `Tagger` step as the one-process engine."""
    return step.tagger().frame(frame)


@dataclass
class Seen:
    """Distinct names with their counts and model probabilities (blank rows left out), and the rows read."""

    rows: int
    names: np.ndarray  # object: the distinct names, sorted
    probs: np.ndarray  # [distinct, labels] float32
    counts: np.ndarray  # [distinct] int64

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """(probabilities, counts), as `uncertainty.DistinctNames.arrays` gives them."""
        return self.probs, self.counts


def seen_partition(frame, step: PartitionStep) -> Seen:
    """A partition's distinct names, counts and model probabilities: the first pass, on a worker."""
    from namelang.uncertainty import DistinctNames

    tagger = step.tagger()
    names = tagger.names(frame)
    collected = DistinctNames(len(tagger.classifier.labels))
    collected.add(names, tagger.probabilities(names))
    probs, counts = collected.arrays()
    return Seen(len(names), np.array(list(collected.index), dtype=object), probs, counts)


def merge_seen(parts: list[Seen], labels: int) -> Seen:
    """The partitions' `Seen` as one, each distinct name once (counts summed), in sorted order: the
    order one chunk of the one-process engine collects them in, so both estimate the same prior."""
    names = np.concatenate([np.empty(0, dtype=object), *(part.names for part in parts)])
    probs = np.concatenate([np.zeros((0, labels), np.float32), *(part.probs for part in parts)])
    counts = np.concatenate([np.zeros(0, np.int64), *(part.counts for part in parts)])
    unique, first, inverse = np.unique(names, return_index=True, return_inverse=True)
    summed = np.bincount(inverse.reshape(-1), weights=counts, minlength=len(unique)).astype(np.int64)
    return Seen(sum(part.rows for part in parts), unique, probs[first], summed)
