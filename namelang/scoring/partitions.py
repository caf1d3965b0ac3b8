"""What the Dask engine runs on a worker: the model sent as data, and the per-chunk step on a partition.

A worker need not share a disk with the client: `ModelPayload` carries the model's card and the bytes
of the files the store says scoring needs, loaded once per worker process (the numpy engine, without
torch) — a network, an n-gram model or an ensemble alike.
`PartitionStep` is everything a partition is scored with (the payload, the name column, the
`ScoreOptions` and the settled `Adjustment`), sent once with the graph; on a partition it is the same
`Tagger` as `tag_file`'s, so both engines give the same rows. Its `seen` is the first pass of a prior
to estimate or a mix: each partition's distinct names, their counts and model probabilities, merged on
the client by `merge_seen` into what `Adjustment.settled` and `Adjustment.mix` take.
"""

from __future__ import annotations

import functools
import hashlib
import shutil
import tempfile
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from namelang.models.card import ModelCard
from namelang.scoring.adjust import Adjustment
from namelang.scoring.options import DEFAULT_CACHE, ScoreOptions


@dataclass(frozen=True)
class ModelPayload:
    """What a worker needs to run a model, as data: its card and the files scoring it needs
    (`StoredModel.files()`: weights, lexicon, a kind's own files, an ensemble's members)."""

    name: str
    card: ModelCard
    files: dict[str, bytes]

    @classmethod
    def load(cls, model: str | Path | None = None, home=None) -> ModelPayload:
        """The store's model (a name, a folder, 'pretrained', or None for the default) as a payload."""
        from namelang.models.store import ModelStore

        found = ModelStore(home).load(model)
        for single in found.members() or [found]:
            single.weights()  # checked against its card here, before anything is sent
        return cls(found.name, found.card, found.files())

    @property
    def labels(self) -> list[str]:
        return list(self.card.labels)

    @functools.cached_property
    def digest(self) -> str:
        """The files' identity (which cached Classifier a worker reuses), hashed once per payload."""
        sha = hashlib.sha256()
        for relative in sorted(self.files):
            sha.update(relative.encode() + b"\0" + hashlib.sha256(self.files[relative]).digest())
        return sha.hexdigest()


_lock = threading.Lock()
_classifiers: dict[str, object] = {}  # per worker process: payload digest -> Classifier
_held = threading.local()  # per worker thread: the run's Tagger and the model's name cache


def classifier_from(payload: ModelPayload):
    """The payload's Classifier, loaded once per process (the store checks the unpacked folder as any
    model folder; everything is read into memory before the folder is removed)."""
    from namelang.inference import Classifier
    from namelang.models.store import unpack

    with _lock:
        if payload.digest not in _classifiers:
            folder = Path(tempfile.mkdtemp(prefix="namelang-model-"))
            try:
                clf = Classifier.from_stored(unpack(payload.files, folder, payload.name), device="cpu")
            finally:
                shutil.rmtree(folder, ignore_errors=True)
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
