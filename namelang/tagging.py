"""Tagging a table: source -> chunks -> Classifier -> sink, one chunk at a time, in constant memory.

`tag_file()` is the whole job (used by `namelang predict --input` and by Python callers); `Tagger` is
the per-chunk step (a pandas frame or an Arrow record batch in, the same rows with the prediction
columns added out), used as well by the Dask engine (`distributed.py`) on each partition.
"""

from __future__ import annotations

import csv
import json
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from namelang.data.table import (
    NamesTable,
    ParquetTable,
    import_pyarrow,
    open_input,
    open_parquet,
    open_table,
    read_chunks,
)
from namelang.errors import NamelangError
from namelang.inference import prediction_columns

FORMATS = ("csv", "tsv", "json", "jsonl", "parquet")
# Distinct names whose probabilities are kept across chunks: 200,000 x 18 labels x 4 bytes = 14 MB.
DEFAULT_CACHE = 200_000
DEFAULT_CHUNK = 65536
SCRIPT_PATH = "script_path"  # the column `explain` adds (after the prefix)


@dataclass
class TagProgress:
    rows: int  # rows scored so far
    done: int  # input consumed: bytes (text) or rows (Parquet)
    total: int | None  # the input's size in the same unit; None on stdin


@dataclass
class TagSummary:
    rows: int
    blank: int  # rows whose name was empty or missing (empty prediction cells)
    seconds: float
    column: str
    model: str
    output: str | None
    scored: int  # distinct names the model ran on
    cache_hits: int  # distinct names of a chunk answered from earlier chunks
    mix: object = None  # uncertainty.Mix with `summary=True`
    abstained: int = 0  # rows below `min_prob`: no prediction (null), unlike the model's `unknown`

    @property
    def rows_per_second(self) -> float:
        return self.rows / max(self.seconds, 1e-9)


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
        import pandas as pd

        if len(names) == 0:
            return np.zeros((0, len(self.classifier.labels)), dtype=np.float32)
        # Hash, not sort: each distinct raw name is normalised once, each distinct normal form looked
        # up once; a missing value (code -1) takes the '' appended last.
        raw_codes, raw = pd.factorize(np.asarray(names, dtype=object))
        normalized = np.array([*self.classifier.normalize(list(raw)), ""], dtype=object)
        codes, unique = pd.factorize(normalized)
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


def resolve_column(header: list[str], column: str | None, label: str) -> int:
    """The position of the name column: `column`, else `name`, else the only column."""
    if column is None:
        column = header[0] if len(header) == 1 and "name" not in header else "name"
    if column not in header:
        raise NamelangError(f"{label}: no column {column!r}; the columns are: {', '.join(map(str, header))}")
    return header.index(column)


def check_clash(header: list[str], added: list[str]) -> None:
    clash = [c for c in added if c in header]
    if clash:
        raise NamelangError(
            f"the input already has a column {clash[0]!r}; pass --prefix (e.g. --prefix ml_) to rename the added ones"
        )


class Tagger:
    """The per-chunk step: the chunk's rows, in order, with `prediction`, `probability`, … added.

    `nulls`: blank names get null predictions (typed outputs such as Parquet) instead of ''.
    """

    def __init__(
        self,
        classifier,
        column: int,
        top_k: int = 3,
        prefix: str = "",
        min_prob: float = 0.0,
        cache_size: int = DEFAULT_CACHE,
        nulls: bool = False,
        adjust=None,
        explain: bool = False,
    ):
        self.classifier = classifier
        self.column = column
        self.k = max(1, min(top_k, len(classifier.labels)))
        self.prefix, self.min_prob, self.nulls = prefix, min_prob, nulls
        self.added = prediction_columns(self.k, prefix)
        self.cache = NameCache(classifier, cache_size)
        self.adjust = adjust  # uncertainty.TableAdjuster: --prior, --coverage, --summary
        self.with_sets = adjust is not None and adjust.threshold is not None
        self.extra = [f"{prefix}prediction_set"] if self.with_sets else []
        self.explain = explain
        self.extra += [f"{prefix}{SCRIPT_PATH}"] if explain else []
        self.blank = self.abstained = 0  # rows seen so far without a name / below `min_prob`

    def check_header(self, header: list[str]) -> None:
        check_clash(header, self.added + self.extra)

    def names(self, chunk) -> list:
        """The chunk's names, for a pass that only reads them (`--prior estimate`)."""
        if hasattr(chunk, "iloc"):
            return chunk.iloc[:, self.column].tolist()
        return chunk.column(self.column).to_pylist()

    def frame(self, frame, position: int | None = None):
        """A pandas frame in, the frame with the prediction columns added out."""
        column = frame.columns[self.column if position is None else position]
        proba = self.cache.proba if self.adjust is None else self.adjust.wrap(self.cache.proba)
        out = self.classifier.predict_frame(
            frame, column, top_k=self.k, prefix=self.prefix, min_prob=self.min_prob, proba=proba
        )
        # A blank name's prediction is '', an abstention's (below min_prob) None.
        blank = out[self.added[0]].eq("").to_numpy()
        self.blank += int(blank.sum())
        self.abstained += int(out[self.added[0]].isna().sum())
        if self.with_sets:
            out[self.extra[0]] = self.adjust.sets()
        if self.explain:
            out[self.extra[-1]] = script_path_column(self.classifier, frame[column], blank)
        if self.nulls:
            for label in self.added[::2] + self.extra:
                out[label] = out[label].where(~blank, None)
        return out

    def batch(self, batch):
        """An Arrow record batch in, the batch with typed prediction columns added out."""
        import pandas as pd
        import pyarrow as pa

        names = pd.DataFrame({"name": batch.column(self.column).to_pylist()})
        scored = self.frame(names, position=0)
        arrays, fields = list(batch.columns), list(batch.schema)
        for i, name in enumerate(self.added + self.extra):
            values = scored[name].to_numpy()
            kind = pa.string() if i % 2 == 0 or i >= len(self.added) else pa.float64()
            # None and NaN (no name, or no prediction above min_prob) are nulls; '' stays ''.
            arrays.append(pa.array(values, type=kind, from_pandas=True))
            fields.append(pa.field(name, kind))
        return pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields, metadata=batch.schema.metadata))

    def __call__(self, chunk):
        return self.frame(chunk) if hasattr(chunk, "iloc") else self.batch(chunk)


def script_path_column(classifier, names, blank):
    """`--explain`: how each name was scored (`Classifier.script_paths`), worked out once per distinct
    name of the chunk; empty where the name is blank (no prediction)."""
    import pandas as pd

    codes, distinct = pd.factorize(np.asarray(names, dtype=object))
    paths = np.array([*classifier.script_paths(list(distinct)), ""], dtype=object)[codes]
    paths[np.asarray(blank, dtype=bool)] = ""
    return pd.array(paths, dtype=object)


def _json_records(frame, added: list[str]):
    """JSON objects: the row's own columns, then `predictions` as a list of {label, probability}: empty
    for a blank name; first {null, null} for a name below `min_prob` (its label is None, a blank's '')."""
    return _records(list(frame.columns), frame.itertuples(index=False, name=None), added)


def _records(columns: list, rows, added: list[str]):
    """`_json_records` of rows given as sequences of cells in `columns`' order."""
    own = [c for c in columns if c not in added]
    for row in rows:
        values = dict(zip(columns, row))
        predictions = []
        for label_col, prob_col in zip(added[::2], added[1::2]):
            label, prob = values[label_col], values[prob_col]
            if label_col == added[0] and _plain(label) is None:
                predictions.append({"label": None, "probability": None})
            elif label and not (isinstance(prob, float) and math.isnan(prob)):
                predictions.append({"label": label, "probability": round(float(prob), 6)})
        yield {**{c: _plain(values[c]) for c in own}, "predictions": predictions}


def _plain(value):
    """A cell as JSON can hold it: missing values (None, NaN, NaT) are null."""
    if isinstance(value, str):
        return value
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    import pandas as pd

    return None if pd.api.types.is_scalar(value) and pd.isna(value) else value


def score_names(classifier, names: list[str], top_k: int = 3, prefix: str = "", min_prob: float = 0.0,
                explain: bool = False) -> tuple[list[str], list[list]]:  # fmt: skip
    """A few names (command-line arguments) scored without pandas: (the added columns, one row each:
    [name, prediction, probability, …, script_path]), the cells `Tagger.frame` gives a one-column
    table `name` (blank names: '' and NaN; below `min_prob`: None and NaN first; probabilities through
    float32, as `NameCache` keeps them)."""
    keys = classifier.normalize(names)
    distinct = list(dict.fromkeys([*keys, ""]))  # the order and the '' that NameCache scores
    probs = classifier.distinct_proba(distinct).astype(np.float32)
    where = {key: i for i, key in enumerate(distinct)}
    order, top = classifier.rank(probs[[where[key] for key in keys]], top_k)
    labels = [*classifier.labels, ""]
    added = prediction_columns(order.shape[1], prefix)
    paths = dict(zip(distinct, classifier.script_paths(distinct))) if explain else {}
    rows = []
    for name, key, ranks, scores in zip(names, keys, order.tolist(), top.astype(np.float64).tolist()):
        blank = math.isnan(scores[0])
        row = [name]
        for rank, (label, score) in enumerate(zip(ranks, scores)):
            if rank == 0 and not blank and score < min_prob:  # abstains: no language claims the name
                row += [None, math.nan]
            else:
                row += ["" if blank else labels[label], score]
        rows.append(row + (["" if blank else paths[key]] if explain else []))
    return added, rows


def _csv_cells(column) -> list | None:
    """A column's CSV cells (missing values empty), or None when only pandas knows how to write it."""
    import pandas as pd

    kind = column.dtype.kind
    if kind == "f":  # each distinct value formatted once (probabilities repeat with their names)
        codes, distinct = pd.factorize(column.to_numpy())
        texts = np.array([*map(_text_cell, distinct.tolist()), ""], dtype=object)
        return texts[codes].tolist()
    if kind in "OU" or str(column.dtype) in ("str", "string"):
        values = column.tolist()
        return ["" if v is None or v != v else v for v in values] if column.hasnans else values
    return None


def _text_cell(value) -> str:
    """A cell as `_csv_cells` writes it: floats `%.6f`, missing values empty."""
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.6f}"
    return "" if value is None else value


def to_frame(chunk):
    # An integer column with nulls stays integers (1, not 1.000000), as Dask writes it.
    return chunk if hasattr(chunk, "iloc") else chunk.to_pandas(integer_object_nulls=True)


class TextSink:
    """Scored chunks as CSV/TSV (header as the input wrote it), JSON or JSON Lines on a text stream."""

    def __init__(self, handle, fmt: str, header: list[str], added: list[str], extra: list[str] = ()):
        self.handle, self.fmt, self.added = handle, fmt, added
        self.header = [*header, *added, *extra]
        self.first = True

    def write(self, chunk) -> None:
        frame = to_frame(chunk)
        if self.fmt in ("csv", "tsv"):
            self._csv(frame, "\t" if self.fmt == "tsv" else ",")
        else:
            self._json(_json_records(frame, self.added))
        self.first = False

    def write_rows(self, rows: list[list]) -> None:
        """Rows of plain cells (str, float; NaN for none) in the header's order, as `write` writes a frame
        of them, without pandas (`score_names`)."""
        if self.fmt in ("csv", "tsv"):
            writer = csv.writer(
                self.handle, delimiter="\t" if self.fmt == "tsv" else ",", lineterminator="\n"
            )
            if self.first:
                writer.writerow(self.header)
            writer.writerows([_text_cell(cell) for cell in row] for row in rows)
        else:
            self._json(_records(self.header, rows, self.added))
        self.first = False

    def _json(self, records) -> None:
        for record in records:
            text = json.dumps(record, ensure_ascii=False, default=str)
            if self.fmt == "jsonl":
                self.handle.write(text + "\n")
            else:
                self.handle.write(("[\n  " if self.first else ",\n  ") + text)
                self.first = False

    def _csv(self, frame, sep: str) -> None:
        """pandas' `to_csv` output, through the same csv.writer, without its per-cell Python formatting
        (two thirds of the time of a 65,536-row chunk): strings pass through, floats are `%.6f`."""
        columns = [_csv_cells(frame.iloc[:, i]) for i in range(frame.shape[1])]
        if any(c is None for c in columns):  # other types (ints, dates) as pandas writes them
            frame.to_csv(self.handle, index=False, header=self.header if self.first else False, sep=sep,
                         float_format="%.6f", lineterminator="\n")  # fmt: skip
            return
        writer = csv.writer(self.handle, delimiter=sep, lineterminator="\n")
        if self.first:
            writer.writerow(self.header)
        writer.writerows(zip(*columns))

    def close(self) -> None:
        if self.fmt == "json":
            self.handle.write("[]\n" if self.first else "\n]\n")


def text_schema(columns: list[str], added: list[str], extra: list[str] = ()):
    """The Arrow schema of a scored text table: its own columns as strings, then the typed predictions.

    Parquet needs distinct column names, so a repeated header keeps pandas' names (`name`, `name.1`).
    """
    pa = import_pyarrow()
    own = [pa.field(str(c), pa.string()) for c in columns if c not in added and c not in extra]
    typed = [pa.field(c, pa.string() if i % 2 == 0 else pa.float64()) for i, c in enumerate(added)]
    return pa.schema(own + typed + [pa.field(c, pa.string()) for c in extra])


class ParquetSink:
    """Scored chunks as the row groups of one Parquet file."""

    def __init__(self, path: Path, added: list[str], extra: list[str] = ()):
        self.pa = import_pyarrow()
        self.path, self.added, self.extra = path, added, list(extra)
        self.writer = None

    def write(self, chunk) -> None:
        if hasattr(chunk, "iloc"):  # a text input
            schema = text_schema(list(chunk.columns), self.added, self.extra)
            chunk = self.pa.RecordBatch.from_pandas(chunk, schema=schema, preserve_index=False)
        if self.writer is None:
            self.writer = self.pa.parquet.ParquetWriter(self.path, chunk.schema)
        self.writer.write_batch(chunk)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def output_format(output, fmt: str | None) -> str:
    """The format named, else the one the output's suffix implies, else CSV."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise NamelangError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
        return fmt
    suffix = Path(str(output)).suffix.lower() if isinstance(output, (str, Path)) else ""
    return {
        ".parquet": "parquet",
        ".pq": "parquet",
        ".tsv": "tsv",
        ".tab": "tsv",
        ".json": "json",
        ".jsonl": "jsonl",
        ".ndjson": "jsonl",
    }.get(suffix, "csv")


def check_output(output) -> Path | None:
    """A path to write: its folder must exist (nothing is created for a typo'd path)."""
    if output is None or not isinstance(output, (str, Path)):
        return None
    path = Path(output)
    if not path.parent.is_dir():
        raise NamelangError(f"cannot write {path}: no such folder {path.parent}")
    if path.is_dir():
        raise NamelangError(f"cannot write {path}: it is a folder")
    return path


def run(table, tagger: Tagger, sink, batch_size: int = DEFAULT_CHUNK, progress=None) -> tuple[int, int]:
    """Stream `table` through `tagger` into `sink`, calling `progress(TagProgress)` after each chunk;
    (rows, blank rows)."""
    rows, blank = 0, tagger.blank
    for chunk in read_chunks(table, batch_size):
        scored = tagger(chunk)
        sink.write(scored)
        rows += len(scored) if hasattr(scored, "iloc") else scored.num_rows
        if progress is not None:
            progress(TagProgress(rows, *table.progress))
    sink.close()
    return rows, tagger.blank - blank


def tag_file(
    source: str | Path | None,
    output: str | Path | None = None,
    *,
    classifier=None,
    model: str | Path | None = None,
    home: str | Path | None = None,
    device: str = "cpu",
    column: str | None = None,
    top_k: int = 3,
    prefix: str = "",
    min_prob: float = 0.0,
    fmt: str | None = None,
    batch_size: int = DEFAULT_CHUNK,
    encoding: str = "utf-8",
    lines: bool = False,
    cache_size: int = DEFAULT_CACHE,
    progress: Callable[[TagProgress], None] | None = None,
    table=None,
    sink=None,
    prior=None,
    coverage: float | None = None,
    summary: bool = False,
    resamples: int = 200,
    seed: int = 0,
    explain: bool = False,
) -> TagSummary:
    """Tag every row of `source` (a CSV/TSV/text/Parquet path, or '-' for stdin) and write `output`.

    `output`: a path (written to a temporary name, renamed into place when complete), a text stream,
    or None for stdout; the format follows `fmt`, else the path's suffix, else CSV. `lines`: the input
    is one name per line with no header. Every row is kept, in order, with its columns; `prediction`,
    `probability`, `prediction_2`, … are added; below `min_prob` a row's `prediction` and `probability`
    are empty (null), not the model's `unknown` (`TagSummary.abstained` counts them). `progress` is
    called after each chunk. `table`: an already opened table (`data.table.open_table`) instead of
    `source`; `sink`: an object whose `write(chunk)`/`close()` receive the scored chunks instead of
    `output`.

    `prior` (train, uniform, estimate, a training source's name, a JSON file or a dict) re-weights; with
    `estimate` the input is read twice (stdin cannot be). `coverage` adds `prediction_set`; `summary`
    returns the table's mix (`TagSummary.mix`, bootstrap of `resamples` with `seed`). See uncertainty.py.
    `explain` adds `script_path`: 'model', 'transliterated', 'lexicon' or 'rule: …' (data/scripts.py).
    """
    from namelang.inference import Classifier

    table = table if table is not None else open_table(source, encoding, lines)
    fmt = output_format(output, fmt)
    path = check_output(output) if sink is None else None
    if fmt == "parquet" and path is None and sink is None:
        raise NamelangError("Parquet output needs a file: pass --output FILE.parquet")
    index = resolve_column(table.header, column, table.label)
    clf = classifier if classifier is not None else Classifier.load(model, home, device)
    adjust = None
    if prior not in (None, "train") or coverage is not None or summary:
        from namelang.uncertainty import TableAdjuster

        adjust = TableAdjuster(clf, prior, coverage, summary)
    tagger = Tagger(clf, index, top_k, prefix, min_prob, cache_size, fmt == "parquet", adjust, explain)
    tagger.check_header(table.header)
    started = time.perf_counter()
    if adjust is not None and adjust.two_passes:
        table = _estimate_pass(table, tagger, batch_size, encoding, progress)
    if path is not None:
        rows, blank = _write_file(path, fmt, table, tagger, batch_size, progress)
    else:
        handle = output if output is not None else sys.stdout
        sink = sink or TextSink(handle, fmt, table.header, tagger.added, tagger.extra)
        rows, blank = run(table, tagger, sink, batch_size, progress)
        if hasattr(handle, "flush"):
            handle.flush()
    return TagSummary(
        rows,
        blank,
        time.perf_counter() - started,
        table.header[index],
        clf.name,
        None if path is None else str(path),
        tagger.cache.scored,
        tagger.cache.hits,
        adjust.mix(resamples, seed) if summary else None,
        tagger.abstained,
    )


def _estimate_pass(table, tagger: Tagger, batch_size: int, encoding: str, progress):
    """Read the whole table once to estimate its prior (EM over its distinct names); the table
    opened again for the tagging pass."""
    if getattr(table, "label", "") == "<stdin>":
        raise NamelangError("--prior estimate reads the input twice: give a file, not stdin")
    rows = 0
    scorer = tagger.adjust.wrap(tagger.cache.proba)
    for chunk in read_chunks(table, batch_size):
        names = tagger.names(chunk)
        scorer(names)
        rows += len(names)
        if progress is not None:
            progress(TagProgress(rows, *table.progress))
    tagger.adjust.estimate()
    return reopen(table, encoding)


def reopen(table, encoding: str = "utf-8"):
    """A fresh reader of the same table, from its first row."""
    if isinstance(table, NamesTable):
        table.rows_read = 0
        return table
    if isinstance(table, ParquetTable):
        return open_parquet(Path(table.label))
    return open_input(table.label, encoding, lines=table.delimiter is None)


def _write_file(path: Path, fmt: str, table, tagger: Tagger, batch_size, progress) -> tuple[int, int]:
    from namelang.workspace import atomic_path

    header = table.header
    try:
        with atomic_path(path) as tmp:
            if fmt == "parquet":
                return run(table, tagger, ParquetSink(tmp, tagger.added, tagger.extra), batch_size, progress)
            with open(tmp, "w", encoding="utf-8", newline="") as handle:
                sink = TextSink(handle, fmt, header, tagger.added, tagger.extra)
                return run(table, tagger, sink, batch_size, progress)
    except OSError as exc:
        raise NamelangError(f"cannot write {path}: {exc.strerror or exc}") from exc
