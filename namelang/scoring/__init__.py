"""Scoring names: the records that describe a run and the steps every path shares.

- `options.py`: `ScoreOptions` (top_k, prefix, min_prob, prior, coverage, explain), `TableOptions`,
  `MixOptions`: what `predict`, `tag_file`, the Dask engine and the server are asked.
- `columns.py`: `PredictionColumns`: the added columns by name and kind, their pandas and Arrow types.
- `adjust.py`: `Adjustment`: the one place a prior, prediction sets and the mix are applied.
- `cells.py`: `Cells`: a chunk's probabilities ranked into its cells (blank, below min_prob) once.
- `step.py`: `Tagger`: the per-chunk step (frame or Arrow batch in, the same rows scored out).
- `records.py`: the one record encoder (JSON records, CSV cells) of the CLI, tag_file and the server.
- `sinks.py`: CSV/TSV/JSON/JSON Lines on a stream, Parquet to a file.

The maths of priors, EM and conformal sets is `namelang.uncertainty`'s; the streamed job over a
table is `namelang.tagging.tag_file`.
"""

from namelang.scoring.columns import PredictionColumns
from namelang.scoring.options import MixOptions, ScoreOptions, TableOptions

__all__ = ["MixOptions", "PredictionColumns", "ScoreOptions", "TableOptions"]
