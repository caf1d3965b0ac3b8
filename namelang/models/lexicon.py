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

import bisect
import gzip
import json
from collections import defaultdict

import numpy as np

from namelang.errors import NamelangError, literal

FORMAT = 1
# The betas tried on validation, in pseudo-counts of the network's vote (ties go to the larger).
BETA_GRID = (0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)


class Lexicon:
    """Names -> label counts, with the labels in the model's order.

    Each name's counts are kept as its file token ('3' for label 3 held by one source, '3:2 5:1' for
    label 3 held by two and label 5 by one) and read only for the names looked up: a model loads in
    milliseconds however many names it knows.
    """

    def __init__(self, labels: list[str], names: list[str], tokens: list[str]):
        self.labels = list(labels)
        self.names = names  # sorted
        self.tokens = tokens
        self._index: dict[str, int] | None = None
        self._folded: dict[str, int] | None = None  # case-folded name -> its first row

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
        tokens = [
            " ".join(f"{j}" if n == 1 else f"{j}:{n}" for j, n in sorted(held[k].items())) for k in ordered
        ]
        return cls(label_list, ordered, tokens)

    # --- the file ------------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """gzip'd JSON; the same lexicon gives the same bytes (no timestamp in the gzip header)."""
        data = {
            "format": FORMAT,
            "labels": self.labels,
            "names": "\n".join(self.names),
            "counts": ",".join(self.tokens),
        }
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        return gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)

    @classmethod
    def from_bytes(cls, blob: bytes, source: str = "lexicon") -> Lexicon:
        try:
            data = json.loads(gzip.decompress(blob).decode("utf-8"))
            if data.get("format", 1) > FORMAT:
                raise NamelangError(f"{literal(source)} is lexicon format {data['format']}: upgrade namelang")
            labels, names, tokens = data["labels"], data["names"], data["counts"]
            names, tokens = (names.split("\n"), tokens.split(",")) if names else ([], [])
        except (OSError, EOFError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise NamelangError(f"{literal(source)} is not a readable lexicon ({literal(exc)})") from exc
        if not isinstance(labels, list) or len(names) != len(tokens):
            raise NamelangError(
                f"{literal(source)} is not a readable lexicon (names and counts differ in length)"
            )
        return cls(labels, names, tokens)

    # --- answering -----------------------------------------------------------------------------

    # Fewer keys than this are found by bisection in the sorted names: hashing 160,000 names into a
    # dict takes ~50 ms, more than a few names typed on the command line should wait.
    BISECT_BELOW = 2000

    def rows(self, keys: list[str]) -> np.ndarray:
        """Each key's row in the lexicon, -1 for a name it does not hold. A key written all in capitals or
        all in small letters (SMITH, smith: registers often are) that misses is looked up case-folded."""
        out = self._exact_rows(keys)
        missed = [i for i in np.flatnonzero(out < 0).tolist() if keys[i].isupper() or keys[i].islower()]
        if missed:
            if self._folded is None:  # built at the first such miss only: most tables are capitalised
                self._folded = {}
                for row, name in enumerate(self.names):
                    self._folded.setdefault(name.casefold(), row)
            for i in missed:
                out[i] = self._folded.get(keys[i].casefold(), -1)
        return out

    def _exact_rows(self, keys: list[str]) -> np.ndarray:
        if self._index is None and len(keys) < self.BISECT_BELOW:
            names, out = self.names, np.full(len(keys), -1, dtype=np.int64)
            for i, key in enumerate(keys):
                at = bisect.bisect_left(names, key)
                if at < len(names) and names[at] == key:
                    out[i] = at
            return out
        if self._index is None:
            self._index = dict(zip(self.names, range(len(self.names))))
        get = self._index.get
        return np.fromiter((get(k, -1) for k in keys), dtype=np.int64, count=len(keys))

    def counts(self, rows) -> np.ndarray:
        """The label counts [len(rows), labels] of these rows of the lexicon."""
        at, column, count = [], [], []
        try:
            for i, row in enumerate(np.asarray(rows).tolist()):
                token = self.tokens[row]
                for held in (token,) if token.isdigit() else token.split():  # most: one source, one label
                    j, _, n = held.partition(":")
                    at.append(i), column.append(int(j)), count.append(int(n or 1))
            out = np.zeros((len(rows), len(self.labels)), dtype=np.float64)
            out[at, column] = count
        except (ValueError, IndexError) as exc:
            raise NamelangError(f"the lexicon has a bad count ({literal(exc)})") from exc
        return out

    def blend(self, probs: np.ndarray, keys: list[str], beta: float) -> np.ndarray:
        """`probs` [N, labels] with each known key's row replaced by its counts smoothed by the network."""
        found = self.rows(keys)
        hit = np.flatnonzero(found >= 0)
        if len(hit):
            probs = probs.copy()
            probs[hit] = smoothed(self.counts(found[hit]), probs[hit], beta)
        return probs


def smoothed(counts: np.ndarray, prior: np.ndarray, beta: float) -> np.ndarray:
    """(counts + beta * prior) / (n + beta): the network's answer as beta pseudo-counts."""
    counts = counts.astype(np.float64)
    prior = np.nan_to_num(np.asarray(prior, dtype=np.float64), nan=1.0 / counts.shape[1])
    return (counts + beta * prior) / (counts.sum(axis=1, keepdims=True) + beta)


# Fewer validation names held by two sources than this: each name's own counts are its entry instead.
MIN_HELD_OUT = 200


def held_out_entries(names, labels, sources, label_list: list[str]):
    """Validation entries for choosing beta: (counts [R, labels], the val row of each entry's name, the
    true label of each, the protocol's name).

    Leave one source out: for a validation name two or more sources hold, each source in turn is the
    truth and the others' label counts are the entry, so beta measures how far one list's labels
    predict another's against the network (Wikipedia's nationality labels disagree with the name lists
    often enough that a single weak count must not outvote a confident network). A split with fewer
    such names (one source) gives each name its own counts, where every beta up to 1 ties."""
    from namelang.data.split import SOURCE_SEPARATOR

    column = {label: j for j, label in enumerate(label_list)}
    first_row: dict[str, int] = {}
    held: dict[str, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
    for i, (name, label, cell) in enumerate(zip(names, labels, sources)):
        if name and label in column:
            first_row.setdefault(name, i)
            for source in [s for s in str(cell or "").split(SOURCE_SEPARATOR) if s] or ["?"]:
                held[name][source].add(column[label])
    shared = [name for name, by_source in held.items() if len(by_source) > 1]
    if sum(len(held[n]) for n in shared) < MIN_HELD_OUT:
        entries = Lexicon.from_rows(names, labels, sources, label_list)
        kept = np.array([i for i, lb in enumerate(labels) if names[i] and lb in column], dtype=np.int64)
        counts = entries.counts(entries.rows([names[i] for i in kept]))
        return counts, kept, np.array([column[labels[i]] for i in kept], dtype=np.int64), "own counts"
    counts, rows, truth = [], [], []
    for name in shared:
        for source, given in held[name].items():
            entry = np.zeros(len(label_list))
            for other, their in held[name].items():
                if other != source:
                    entry[list(their)] += 1
            for label in given:
                counts.append(entry), rows.append(first_row[name]), truth.append(label)
    return (
        np.array(counts),
        np.array(rows, dtype=np.int64),
        np.array(truth, dtype=np.int64),
        "leave one source out",
    )


def choose_beta(counts: np.ndarray, probs: np.ndarray, y: np.ndarray, grid=BETA_GRID) -> tuple[float, dict]:
    """The beta of `grid` with the best validation accuracy (ties: the larger beta, trusting the network
    more), and the accuracy of each (as {str(beta): accuracy}, plus 'network' for the network alone).

    Validation names are never train names (the split is a group split): `held_out_entries` makes the
    entries, a name the sources hold that the network did not train on, as a lexicon hit is to a user.
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
