"""The records a scoring run is described by: what to add to each name (`ScoreOptions`), how a table is
read and written (`TableOptions`) and how its language mix is summarised (`MixOptions`).

One `ScoreOptions` serves every path: `namelang predict` builds it from its flags, `tag_file` and the
Dask engine take it, the server's `ScoringOptions` validates a request and converts to it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from namelang.errors import NamelangError, literal

DEFAULT_CHUNK = 65536
# Distinct names whose probabilities are kept across chunks: 200,000 x 18 labels x 4 bytes = 14 MB.
DEFAULT_CACHE = 200_000
PRIOR_TRAIN = "train"


@dataclass(frozen=True, kw_only=True)
class ScoreOptions:
    """How names are scored and what is added for each.

    `top_k`: labels per name (at most the model's). `prefix`: put before every added column's name.
    `min_prob`: below this top probability a name gets no prediction (null), unlike the model's own
    `unknown`. `prior`: re-weight to a label prior: train (the model's own), uniform, estimate (EM over
    the names scored), a training source's name, a JSON file of label -> share, or a dict.
    `coverage`: add `prediction_set`, a split-conformal set of labels. `explain`: add `script_path`.
    """

    top_k: int = 3
    prefix: str = ""
    min_prob: float = 0.0
    prior: str | Path | dict | None = PRIOR_TRAIN
    coverage: float | None = None
    explain: bool = False

    def __post_init__(self):
        if isinstance(self.top_k, bool) or not isinstance(self.top_k, int) or self.top_k < 1:
            raise NamelangError(
                f"{{top_k}} must be a whole number of at least 1, not {literal(repr(self.top_k))}"
            )
        if not _number(self.min_prob) or not 0.0 <= self.min_prob <= 1.0:
            raise NamelangError(f"{{min_prob}} must be between 0 and 1, not {literal(repr(self.min_prob))}")
        if self.coverage is not None and (not _number(self.coverage) or not 0.0 < self.coverage < 1.0):
            raise NamelangError(f"{{coverage}} must be between 0 and 1, not {literal(repr(self.coverage))}")
        if self.prior is None:
            object.__setattr__(self, "prior", PRIOR_TRAIN)

    @property
    def reweights(self) -> bool:
        """Whether the probabilities move from the model's own prior."""
        return not (isinstance(self.prior, str) and self.prior == PRIOR_TRAIN)

    @property
    def plain(self) -> bool:
        """No prior and no sets: a name's answer depends on the name alone (it can be cached)."""
        return not self.reweights and self.coverage is None


@dataclass(frozen=True, kw_only=True)
class MixOptions:
    """The table's language mix (`TagSummary.mix`): an EM estimate with a percentile interval over
    `bootstrap` resamples (0: none), repeatable for a `seed`."""

    bootstrap: int = 200
    seed: int = 0


@dataclass(frozen=True, kw_only=True)
class TableOptions:
    """How a table is read and written: `fmt` (csv, tsv, json, jsonl, parquet; default: the output's
    suffix, else CSV), `encoding` of a text input given as a path (a table already opened is read in
    its own), `lines` (one name a line, no header), `batch_size` rows a chunk, `cache_size` distinct
    names whose probabilities are kept across chunks."""

    fmt: str | None = None
    encoding: str = "utf-8"
    lines: bool = False
    batch_size: int = DEFAULT_CHUNK
    cache_size: int = DEFAULT_CACHE


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
