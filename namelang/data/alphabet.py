"""Characters to indices: padding is 0, a character never seen in training is 1."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PAD = 0
UNKNOWN = 1
# Names longer than this are cut: the longest name in the archive has 20 characters.
MAX_LENGTH = 64


@dataclass(frozen=True)
class Alphabet:
    chars: str

    def __post_init__(self):
        object.__setattr__(self, "_index", {c: i + 2 for i, c in enumerate(self.chars)})

    @classmethod
    def from_names(cls, names) -> Alphabet:
        return cls("".join(sorted({c for name in names for c in name})))

    @property
    def size(self) -> int:
        """Number of indices, padding and unknown included."""
        return len(self.chars) + 2

    def encode(self, names: list[str], max_length: int = MAX_LENGTH) -> tuple[np.ndarray, np.ndarray]:
        """(ids [N, T] int64 padded with PAD, lengths [N] int64); names are cut to `max_length`."""
        lengths = np.fromiter((min(len(n), max_length) for n in names), dtype=np.int64, count=len(names))
        width = int(lengths.max()) if len(names) else 0
        ids = np.zeros((len(names), max(width, 1)), dtype=np.int64)
        index = self._index
        for row, name in enumerate(names):
            if name:
                ids[row, : lengths[row]] = [index.get(c, UNKNOWN) for c in name[:max_length]]
        return ids, lengths
