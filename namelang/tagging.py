"""Tagging a table: source -> chunks -> the per-chunk step -> sink, one chunk at a time, in constant memory.

`tag_file()` is the whole job (used by `namelang predict` and by Python callers). The step is
`scoring.step.Tagger`, the same one the Dask engine runs on each partition; the records and cells
written are `scoring.records`', the same as the server's.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from namelang.data.table import NamesTable, ParquetTable, open_input, open_parquet, open_table, read_chunks
from namelang.errors import NamelangError, literal
from namelang.scoring.adjust import Adjustment
from namelang.scoring.options import MixOptions, ScoreOptions, TableOptions
from namelang.scoring.sinks import ParquetSink, Sink, TextSink
from namelang.scoring.step import Tagger

FORMATS = ("csv", "tsv", "json", "jsonl", "parquet")
SUFFIXES = {".parquet": "parquet", ".pq": "parquet", ".tsv": "tsv", ".tab": "tsv", ".json": "json",
            ".jsonl": "jsonl", ".ndjson": "jsonl"}  # fmt: skip


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
    mix: object = None  # uncertainty.Mix, with `summary`
    abstained: int = 0  # rows below `min_prob`: no prediction (null), unlike the model's `unknown`

    @property
    def rows_per_second(self) -> float:
        return self.rows / max(self.seconds, 1e-9)


def resolve_column(header: list[str], column: str | None, label: str) -> int:
    """The position of the name column: `column`, else `name`, else the only column."""
    if column is None:
        column = header[0] if len(header) == 1 and "name" not in header else "name"
    if column not in header:
        raise NamelangError(
            f"{literal(label)}: no column {literal(column)!r}; the columns are: {literal(', '.join(map(str, header)))}"
        )
    return header.index(column)


def output_format(output, fmt: str | None) -> str:
    """The format named, else the one the output's suffix implies, else CSV."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise NamelangError(f"unknown format {literal(fmt)!r}; use one of {', '.join(FORMATS)}")
        return fmt
    suffix = Path(str(output)).suffix.lower() if isinstance(output, (str, Path)) else ""
    return SUFFIXES.get(suffix, "csv")


def check_output(output) -> Path | None:
    """A path to write: its folder must exist (nothing is created for a typo'd path)."""
    if output is None or not isinstance(output, (str, Path)):
        return None
    path = Path(output)
    if not path.parent.is_dir():
        raise NamelangError(f"cannot write {literal(path)}: no such folder {literal(path.parent)}")
    if path.is_dir():
        raise NamelangError(f"cannot write {literal(path)}: it is a folder")
    return path


def run(table, tagger: Tagger, sink, batch_size: int, progress=None) -> tuple[int, int]:
    """Stream `table` through `tagger` into `sink`, calling `progress(TagProgress)` after each chunk;
    (rows, blank rows)."""
    rows, blank = 0, tagger.blank
    for chunk in read_chunks(table, batch_size):
        scored = tagger(chunk)
        sink.write(scored)
        rows += _length(scored)
        if progress is not None:
            progress(TagProgress(rows, *table.progress))
    sink.close()
    return rows, tagger.blank - blank


def _length(chunk) -> int:
    if isinstance(chunk, list):
        return len(chunk[0][1])
    return len(chunk) if hasattr(chunk, "iloc") else chunk.num_rows


def tag_file(
    source,
    output=None,
    *,
    column: str | None = None,
    model=None,
    options: ScoreOptions | None = None,
    table: TableOptions | None = None,
    summary: MixOptions | None = None,
    progress: Callable[[TagProgress], None] | None = None,
) -> TagSummary:
    """Tag every row of `source` and write it to `output`; every row is kept, in order, with its columns,
    and `prediction`, `probability`, `prediction_2`, … added (`options.prefix` before each).

    `source`: a CSV/TSV/text/Parquet path, '-' for stdin, a list of names, or a table already opened
    (`data.table.open_table`). `output`: a path (written to a temporary name, renamed into place when
    complete), a text stream, None for stdout, or a `scoring.sinks.Sink` receiving the scored chunks.
    `column`: the name column (default `name`, or the only column). `model`: a loaded `Classifier`, or
    a model to load on the CPU (a store name, a folder, 'pretrained'; None: the default).
    `options` (ScoreOptions): top_k, prefix, min_prob, prior, coverage, explain; with prior `estimate`
    the input is read twice (stdin cannot be). `table` (TableOptions): format (else the output's suffix,
    else CSV), encoding (of a path: a table already opened keeps its own), one name a line, rows a
    chunk, cache size. `summary` (MixOptions): return the table's language mix as `TagSummary.mix`.
    `progress(TagProgress)` is called after each chunk.
    Below `min_prob` a row's `prediction` and `probability` are empty (null), not the model's `unknown`
    (`TagSummary.abstained` counts them).
    """
    options, table = options or ScoreOptions(), table or TableOptions()
    opened = _opened(source, table)
    fmt = output_format(output, table.fmt)
    path = check_output(output)
    if fmt == "parquet" and path is None and not isinstance(output, Sink):
        raise NamelangError("Parquet output needs a file: pass {output=FILE.parquet}")
    index = resolve_column(opened.header, column, opened.label)
    clf = _classifier(model)
    adjustment = Adjustment.for_table(clf, options, summary)
    estimating = adjustment is not None and adjustment.pending
    seen = _distinct_names(clf) if summary is not None or estimating else None
    tagger = Tagger(clf, index, options, adjustment=adjustment, nulls=fmt == "parquet",
                    cache_size=table.cache_size, collect=seen)  # fmt: skip
    # A sink of the caller's takes chunks, not JSON records: only `fmt`'s records can clash.
    tagger.columns.check_clash(opened.header, None if isinstance(output, Sink) else fmt)
    started = time.perf_counter()
    if estimating:
        opened = _estimate_pass(opened, tagger, table, progress)
        tagger.adjustment, tagger.collect = adjustment.settled(*seen.arrays()), None
    rows, blank = _write(opened, tagger, output, path, fmt, table, progress)
    return TagSummary(rows, blank, time.perf_counter() - started, opened.header[index], clf.name,
                      None if path is None else str(path), tagger.cache.scored, tagger.cache.hits,
                      None if summary is None else tagger.adjustment.mix(seen, summary), tagger.abstained)  # fmt: skip


def _opened(source, table: TableOptions):
    """`source` as a table to read: a list of names, a path or '-', or a table already opened."""
    if isinstance(source, (list, tuple)):
        return NamesTable(list(source))
    if isinstance(source, (str, Path)):
        return open_table(source, table.encoding, table.lines)
    return source


def _classifier(model):
    """A loaded classifier as it is; a model's name or folder (or None) loaded on the CPU."""
    if hasattr(model, "distinct_proba"):
        return model
    from namelang.inference import Classifier

    return Classifier.load(model, device="cpu")


def _distinct_names(classifier):
    from namelang.uncertainty import DistinctNames

    return DistinctNames(len(classifier.labels))


def _estimate_pass(table, tagger: Tagger, options: TableOptions, progress):
    """Read the whole table once, its names and probabilities collected (for the EM estimate of its
    prior); the table opened again for the tagging pass."""
    if getattr(table, "label", "") == "<stdin>":
        raise NamelangError("{prior=estimate} reads the input twice: give a file, not stdin")
    rows = 0
    for chunk in read_chunks(table, options.batch_size):
        names = tagger.names(chunk)
        tagger.probabilities(names)
        rows += len(names)
        if progress is not None:
            progress(TagProgress(rows, *table.progress))
    return reopen(table)


def reopen(table):
    """A fresh reader of the same table, from its first row, in the encoding it was opened with."""
    if isinstance(table, NamesTable):
        table.rows_read = 0
        return table
    if isinstance(table, ParquetTable):
        return open_parquet(Path(table.label))
    return open_input(table.label, table.stream.encoding, lines=table.delimiter is None)


def _write(table, tagger: Tagger, output, path, fmt: str, options: TableOptions, progress) -> tuple[int, int]:
    """The tagging pass into `output`: a sink, a file `path` (under a temporary name), a stream or stdout."""
    if isinstance(output, Sink):
        return run(table, tagger, output, options.batch_size, progress)
    if path is None:
        handle = output if output is not None else sys.stdout
        done = run(
            table, tagger, TextSink(handle, fmt, table.header, tagger.columns), options.batch_size, progress
        )
        if hasattr(handle, "flush"):
            handle.flush()
        return done
    from namelang.workspace import atomic_path

    try:
        with atomic_path(path) as tmp:
            if fmt == "parquet":
                return run(table, tagger, ParquetSink(tmp, tagger.columns), options.batch_size, progress)
            with open(tmp, "w", encoding="utf-8", newline="") as handle:
                sink = TextSink(handle, fmt, table.header, tagger.columns)
                return run(table, tagger, sink, options.batch_size, progress)
    except OSError as exc:
        raise NamelangError(f"cannot write {literal(path)}: {literal(exc.strerror or exc)}") from exc
