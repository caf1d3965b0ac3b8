"""The lexicon of known names: each training name's label counts, blended with the network's answer.

A name of the train split is evidence the network only half remembers: its sources say which
languages hold it. The lexicon maps each train name (spelled as the split spells it, which is how the
model reads names: `Classifier.spelled_for_model`) to its label counts, a count being how many sources
hold that (name, label). A known name's probabilities are the counts smoothed with the network as a
Dirichlet prior, p = (counts + beta * p_net) / (n + beta); a name never seen keeps the network's.

Stored as gzip'd JSON (labels once, names sorted, a bare label index for the common single-source,
single-label name): about 40 KB per 10,000 names (0.7 MB for 160,000).
"""

from __future__ import annotations

import gzip
import json
from collections import defaultdict

import numpy as np

from namelang.errors import NamelangError

FORMAT = 1
# The betas tried on validation, in pseudo-counts of the network's vote (ties go to the larger).
BETA_GRID = (0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)


class Lexicon:
    """Names -> label counts [names, labels] (uint16), with the labels in the model's order."""

    def __init__(self, labels: list[str], names: list[str], counts: np.ndarray):
        self.labels = list(labels)
        self.names = list(names)
        self.counts = counts
        self.index = {name: i for i, name in enumerate(self.names)}

    def __len__(self) -> int:
        return len(self.names)

    @classmethod
    def from_rows(cls, names, labels, sources, label_list: list[str]) -> Lexicon:
        """From split rows (name, label, `source` cell): a row counts once per source it lists."""
        from namelang.data.split import SOURCE_SEPARATOR

        column = {label: j for j, label in enumerate(label_list)}
        held: dict[str, dict[int, int]] = defaultdict(dict)
        for name, label, cell in zip(names, labels, sources):
            if name and label in column:
                n = max(1, len([s for s in str(cell or "").split(SOURCE_SEPARATOR) if s]))
                held[name][column[label]] = held[name].get(column[label], 0) + n
        ordered = sorted(held)
        counts = np.zeros((len(ordered), len(label_list)), dtype=np.uint16)
        for i, name in enumerate(ordered):
            for j, n in held[name].items():
                counts[i, j] = min(n, np.iinfo(np.uint16).max)
        return cls(label_list, ordered, counts)

    # --- the file ------------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """gzip'd JSON; the same lexicon gives the same bytes (no timestamp in the gzip header)."""
        entries = []
        for row in self.counts:
            held = np.flatnonzero(row)
            if len(held) == 1 and row[held[0]] == 1:
                entries.append(int(held[0]))
            else:
                entries.append([[int(j), int(row[j])] for j in held])
        data = {"format": FORMAT, "labels": self.labels, "names": self.names, "counts": entries}
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        return gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)

    @classmethod
    def from_bytes(cls, blob: bytes, source: str = "lexicon") -> Lexicon:
        try:
            data = json.loads(gzip.decompress(blob).decode("utf-8"))
            if data.get("format", 1) > FORMAT:
                raise NamelangError(f"{source} is lexicon format {data['format']}: upgrade namelang")
            labels, names, entries = data["labels"], data["names"], data["counts"]
            counts = np.zeros((len(names), len(labels)), dtype=np.uint16)
            for i, entry in enumerate(entries):
                for j, n in [(entry, 1)] if isinstance(entry, int) else entry:
                    counts[i, j] = n
        except (OSError, EOFError, ValueError, KeyError, TypeError, IndexError) as exc:
            raise NamelangError(f"{source} is not a readable lexicon ({exc})") from exc
        if len(names) != len(entries):
            raise NamelangError(f"{source} is not a readable lexicon (names and counts differ in length)")
        return cls(labels, names, counts)

    # --- answering -----------------------------------------------------------------------------

    def rows(self, keys: list[str]) -> np.ndarray:
        """Each key's row in the lexicon, -1 for a name it does not hold."""
        get = self.index.get
        return np.fromiter((get(k, -1) for k in keys), dtype=np.int64, count=len(keys))

    def blend(self, probs: np.ndarray, keys: list[str], beta: float) -> np.ndarray:
        """`probs` [N, labels] with each known key's row replaced by its counts smoothed by the network."""
        found = self.rows(keys)
        hit = np.flatnonzero(found >= 0)
        if len(hit):
            probs = probs.copy()
            probs[hit] = smoothed(self.counts[found[hit]], probs[hit], beta)
        return probs


def smoothed(counts: np.ndarray, prior: np.ndarray, beta: float) -> np.ndarray:
    """(counts + beta * prior) / (n + beta): the network's answer as beta pseudo-counts."""
    counts = counts.astype(np.float64)
    prior = np.nan_to_num(np.asarray(prior, dtype=np.float64), nan=1.0 / counts.shape[1])
    return (counts + beta * prior) / (counts.sum(axis=1, keepdims=True) + beta)


def choose_beta(counts: np.ndarray, probs: np.ndarray, y: np.ndarray, grid=BETA_GRID) -> tuple[float, dict]:
    """The beta of `grid` with the best validation accuracy (ties: the larger beta, trusting the network
    more), and the accuracy of each (as {str(beta): accuracy}, plus 'network' for the network alone).

    Validation names are never train names (the split is a group split), so each validation row is
    given its own name's source-label counts as its lexicon entry: a name the sources hold that the
    network did not train on, which is what a lexicon hit is to a user.
    """
    if len(y) == 0:
        return float(max(grid)), {}
    accuracy = {"network": float(np.mean(np.argmax(probs, axis=1) == y))}
    best = None
    for beta in sorted(grid):
        accuracy[f"{beta:g}"] = float(np.mean(np.argmax(smoothed(counts, probs, beta), axis=1) == y))
        if best is None or accuracy[f"{beta:g}"] >= accuracy[f"{best:g}"]:
            best = beta
    return float(best), accuracy
