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
        lengths = np.fromiter(map(len, names), dtype=np.int64, count=len(names))
        if len(names) and lengths.max() > max_length:
            names = [n[:max_length] for n in names]
            lengths = np.minimum(lengths, max_length)
        width = int(lengths.max()) if len(names) else 0
        ids = np.zeros((len(names), max(width, 1)), dtype=np.int64)
        # All names at once: their code points through a lookup table, scattered into the rows.
        codes = np.frombuffer("".join(names).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        if len(codes):
            table = self._table
            known = codes < len(table)
            chars = np.where(known, table[np.where(known, codes, 0)], UNKNOWN)
            rows = np.repeat(np.arange(len(names)), lengths)
            starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
            ids[rows, np.arange(len(codes)) - starts] = chars
        return ids, lengths

    @property
    def _table(self) -> np.ndarray:
        """Index of each code point up to the alphabet's largest; UNKNOWN for the others."""
        table = self.__dict__.get("_code_table")
        if table is None:
            table = np.full(max(map(ord, self.chars), default=0) + 1, UNKNOWN, dtype=np.int64)
            for char, index in self._index.items():
                table[ord(char)] = index
            object.__setattr__(self, "_code_table", table)
        return table
