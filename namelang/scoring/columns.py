"""`PredictionColumns`: the columns scoring adds to a table, by name and kind, never by position.

`prediction`, `probability`, then `prediction_2`, `probability_2`, … up to top-k; then `prediction_set`
(with `coverage`) and `script_path` (with `explain`); every name after the options' `prefix`. This
record gives their names, their pandas and Arrow types, and (through `records.py`) the JSON record of a
scored row.
"""

from __future__ import annotations

from dataclasses import dataclass

from namelang.errors import NamelangError, literal

LABEL, PROBABILITY, SET, PATH = "label", "probability", "set", "path"
PREDICTION_SET = "prediction_set"
SCRIPT_PATH = "script_path"
PREDICTIONS = "predictions"  # the JSON key of a record's list of {label, probability}
RECORD_FORMATS = ("json", "jsonl")  # the outputs written as JSON records


@dataclass(frozen=True)
class PredictionColumns:
    k: int  # label/probability pairs (top-k, at most the model's labels)
    prefix: str = ""
    sets: bool = False  # `prediction_set` (coverage)
    explain: bool = False  # `script_path`

    @classmethod
    def of(cls, options, labels) -> PredictionColumns:
        """The columns `options` (a ScoreOptions) adds for a model of `labels`."""
        k = max(1, min(options.top_k, len(labels)))
        return cls(k, options.prefix, options.coverage is not None, options.explain)

    @property
    def pairs(self) -> list[tuple[str, str]]:
        """(label column, probability column) per rank, best first."""
        suffixes = [""] + [f"_{rank}" for rank in range(2, self.k + 1)]
        return [(f"{self.prefix}prediction{s}", f"{self.prefix}probability{s}") for s in suffixes]

    @property
    def prediction(self) -> str:
        """The top label's column: '' for a blank name, None (null) for one below `min_prob`."""
        return self.pairs[0][0]

    @property
    def probability(self) -> str:
        return self.pairs[0][1]

    @property
    def prediction_set(self) -> str | None:
        return f"{self.prefix}{PREDICTION_SET}" if self.sets else None

    @property
    def script_path(self) -> str | None:
        return f"{self.prefix}{SCRIPT_PATH}" if self.explain else None

    @property
    def extra(self) -> list[str]:
        """The columns after the pairs: `prediction_set`, `script_path` (those asked for)."""
        return [c for c in (self.prediction_set, self.script_path) if c is not None]

    @property
    def names(self) -> list[str]:
        """Every added column, in the order they are added."""
        return [c for pair in self.pairs for c in pair] + self.extra

    def kinds(self) -> dict[str, str]:
        """Column -> LABEL, PROBABILITY, SET or PATH."""
        kinds = {c: kind for pair in self.pairs for c, kind in zip(pair, (LABEL, PROBABILITY))}
        if self.sets:
            kinds[self.prediction_set] = SET
        if self.explain:
            kinds[self.script_path] = PATH
        return kinds

    def check_clash(self, header, fmt: str | None = None) -> None:
        """A library error when the input already has a column of an added one's name, or, written as
        JSON records (`fmt` json or jsonl), one named `predictions`: the key a record gives the answers."""
        clash = [c for c in self.names if c in header]
        if clash:
            raise NamelangError(
                f"the input already has a column {literal(clash[0])!r}; pass {{prefix}} (e.g. {{prefix=ml_}}) "
                "to rename the added ones"
            )
        if fmt in RECORD_FORMATS and PREDICTIONS in header:
            raise NamelangError(
                f"the input has a column {PREDICTIONS!r}, the key a JSON record gives the answers: "
                "rename it, or write another format ({fmt=csv}, {fmt=parquet})"
            )

    # --- types -----------------------------------------------------------------------------------

    def meta(self, frame):
        """`frame` (an empty one, Dask's meta) with the added columns, typed as scoring fills them:
        labels, sets and paths strings (object), probabilities float64."""
        import numpy as np
        import pandas as pd

        out = frame.copy()
        for column, kind in self.kinds().items():
            out[column] = pd.Series(
                [], dtype=np.float64 if kind == PROBABILITY else object, index=out.index[:0]
            )
        return out

    def arrow_fields(self) -> list:
        """The added columns as Arrow fields: float64 probabilities, everything else strings."""
        import pyarrow as pa

        return [
            pa.field(c, pa.float64() if kind == PROBABILITY else pa.string())
            for c, kind in self.kinds().items()
        ]

    def arrow_schema(self, own):
        """The schema of a scored table: `own` (an Arrow schema, whose metadata is kept, or its fields)
        then the added columns."""
        import pyarrow as pa

        return pa.schema(list(own) + self.arrow_fields(), metadata=getattr(own, "metadata", None))

    def text_schema(self, columns: list):
        """The Arrow schema of a scored text table: its own columns as strings, then the typed added ones.

        Parquet needs distinct column names, so a repeated header keeps pandas' names (`name`, `name.1`).
        """
        import pyarrow as pa

        added = set(self.names)
        return self.arrow_schema([pa.field(str(c), pa.string()) for c in columns if c not in added])
