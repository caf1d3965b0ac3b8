"""`namelang predict`: names as arguments, lines on stdin, or a CSV/TSV/Parquet table, tagged in chunks.

The work is `namelang.tagging.tag_file` (one process) or `namelang.distributed.tag_dataset` (Dask);
this module parses the options, calls one of them and renders what comes back.
"""

from __future__ import annotations

import enum
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from namelang.cli import options, render


class Format(str, enum.Enum):
    """render.Format plus what tables add (tsv, parquet); `auto` follows the same rule as every command."""

    auto = "auto"
    table = "table"
    csv = "csv"
    tsv = "tsv"
    json = "json"
    jsonl = "jsonl"
    parquet = "parquet"


class Engine(str, enum.Enum):
    local = "local"
    dask = "dask"


class TableSink:
    """Keeps the scored chunks for one Rich table on the terminal (few rows: names typed by hand)."""

    def __init__(self, position: int, column: str, added: list[str]):
        self.position, self.column, self.added, self.rows = position, column, added, []

    def write(self, chunk) -> None:
        from namelang.tagging import to_frame

        frame = to_frame(chunk)
        shown = frame.iloc[:, [self.position, *range(frame.shape[1] - len(self.added), frame.shape[1])]]
        for row in shown.itertuples(index=False, name=None):
            cells = [str(row[0])]
            for label, prob in zip(row[1::2], row[2::2]):
                cells += [label or "", "" if prob != prob else f"{prob:.3f}"]
            self.rows.append(cells)

    def close(self) -> None:
        headings = [(self.column, "left")]
        for rank in range(1, len(self.added) // 2 + 1):
            headings += [(f"#{rank}", "left"), ("prob", "right")]
        render.out.show(render.table(None, headings, self.rows))


def _progress_callback(progress, task, started: float):
    def update(state) -> None:
        rate = state.rows / max(time.perf_counter() - started, 1e-9)
        progress.update(
            task, completed=state.done, total=state.total, status=f"{state.rows:,} rows, {rate:,.0f} rows/s"
        )

    return update


def _summary(summary, clf) -> str:
    rows = f"{summary.rows:,} row{'' if summary.rows == 1 else 's'} scored"
    blank = f" ({summary.blank:,} blank)" if summary.blank else ""
    where = f", written to {summary.output}" if summary.output else ""
    return f"{rows}{blank} by {clf.name} ({clf.card.arch}, {clf.device}){where}"


def _check_usage(names, input_) -> str | None:
    """The input as given: a path, '-' (a table on stdin), '<lines>' (names on stdin) or None (names)."""
    from namelang.errors import NamelangError

    if names and input_ is not None:
        raise typer.BadParameter("give names or --input, not both", param_hint="NAMES")
    if not names and input_ is None:
        if sys.stdin is None or sys.stdin.isatty():
            raise NamelangError("no names: pass them as arguments, with --input FILE, or on stdin")
        return "<lines>"
    return input_


def _open(names, input_: str | None, encoding: str):
    from namelang.data.table import NamesTable, open_table

    if input_ is None:
        return NamesTable(list(names))
    if input_ == "<lines>":
        return open_table("-", encoding, lines=True)
    return open_table(input_, encoding)


def predict_cmd(
    names: Annotated[list[str] | None, typer.Argument(help="Names to classify.", show_default=False)] = None,
    input_: Annotated[
        str | None,
        typer.Option(
            "--input",
            "-i",
            help="CSV/TSV/Parquet file, a .txt of one name per line, or - for a table on stdin; "
            "with --engine dask also a glob or a folder of parts.",
        ),
    ] = None,
    column: Annotated[
        str | None,
        typer.Option("--column", "-c", help="Column holding the names \\[default: name, or the only one]."),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    top_k: Annotated[int, typer.Option("--top-k", "-k", min=1, help="Labels per name.")] = 3,
    fmt: Annotated[
        Format | None,
        typer.Option(
            "--format", "-f", help="\\[default: table on a terminal, else from --output's suffix, else csv]"
        ),
    ] = None,
    min_prob: Annotated[
        float,
        typer.Option("--min-prob", min=0.0, max=1.0, help="Write 'unknown' below this top probability."),
    ] = 0.0,
    prefix: Annotated[str, typer.Option("--prefix", help="Prepended to the added column names.")] = "",
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="Rows read and scored per chunk.")
    ] = 65536,
    encoding: Annotated[
        str, typer.Option("--encoding", help="Text encoding of --input (any Python codec, e.g. latin-1).")
    ] = "utf-8",
    engine: Annotated[
        Engine,
        typer.Option(
            "--engine", help="local: one process; dask: a Dask cluster (pip install 'namelang[dask]')."
        ),
    ] = Engine.local,
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="With --engine dask: tcp://HOST:PORT \\[default: a local cluster]."),
    ] = None,
    blocksize: Annotated[
        str, typer.Option("--blocksize", help="With --engine dask: bytes of CSV per partition (e.g. 64MB).")
    ] = "64MB",
    model: options.Model = None,
    device: options.Device = "auto",
    home: options.Home = None,
    quiet: options.Quiet = False,
    verbose: options.Verbose = False,
) -> None:
    """Guess the language of names: arguments, stdin, or a table's column (every row kept, in order)."""
    from namelang.errors import NamelangError

    home = options.start(home, quiet, verbose)
    input_ = _check_usage(names, input_)
    if fmt in (None, Format.auto):
        fmt = Format.table if output is None and render.out.is_terminal() else None
    if fmt is Format.table and output is not None:
        raise NamelangError(
            "--format table is for the terminal; use csv, tsv, json, jsonl or parquet with --output"
        )
    if engine is Engine.dask:
        if input_ in (None, "<lines>", "-"):
            raise NamelangError("--engine dask reads files: pass --input FILE, a glob or a folder")
        _predict_dask(
            input_, output, column, top_k, fmt, min_prob, prefix, encoding, scheduler, blocksize, model, home
        )
        return
    if scheduler is not None:
        raise typer.BadParameter("--scheduler needs --engine dask", param_hint="--scheduler")
    _predict_local(
        names, input_, output, column, top_k, fmt, min_prob, prefix, batch_size, encoding, model, device, home
    )


def _predict_local(
    names, input_, output, column, top_k, fmt, min_prob, prefix, batch_size, encoding, model, device, home
) -> None:
    from namelang.inference import Classifier
    from namelang.tagging import check_output, resolve_column, tag_file

    table = _open(names, input_, encoding)
    check_output(output)
    position = resolve_column(table.header, column, table.label)
    clf = Classifier.load(model, home, device)
    sink = None
    if fmt is Format.table:
        k = min(top_k, len(clf.labels))
        from namelang.inference import prediction_columns

        sink = TableSink(position, table.header[position], prediction_columns(k, prefix))
    started = time.perf_counter()
    with render.rows_progress() as progress:
        task = progress.add_task(f"{clf.name}", total=None, status="")
        summary = tag_file(
            None,
            output,
            table=table,
            classifier=clf,
            column=table.header[position],
            top_k=top_k,
            prefix=prefix,
            min_prob=min_prob,
            fmt=None if fmt in (None, Format.table) else fmt.value,
            batch_size=batch_size,
            sink=sink,
            progress=_progress_callback(progress, task, started),
        )
    render.out.info(_summary(summary, clf))


def _predict_dask(
    input_, output, column, top_k, fmt, min_prob, prefix, encoding, scheduler, blocksize, model, home
):
    from namelang.distributed import tag_dataset

    def connected(dashboard: str | None, workers: int) -> None:
        where = scheduler or "a local cluster"
        render.out.info(f"Dask: {where}, {workers} worker{'' if workers == 1 else 's'}; dashboard: "
                    + (dashboard or "none (pip install bokeh to get one)"))  # fmt: skip

    with render.count_progress() as progress:
        task = progress.add_task("dask", total=None, status="")

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total, status="tasks")

        summary = tag_dataset(
            input_, output, model=model, home=home, column=column, top_k=top_k, prefix=prefix,
            min_prob=min_prob, fmt=None if fmt is None else fmt.value, encoding=encoding,
            scheduler=scheduler, blocksize=blocksize, on_connect=connected, progress=advance,
        )  # fmt: skip
    rows = "" if summary.rows is None else f"{summary.rows:,} row{'' if summary.rows == 1 else 's'}"
    blank = f" ({summary.blank:,} blank)" if summary.blank else ""
    render.out.info(f"{rows}{blank} scored by {summary.model} in {summary.partitions} partitions on "
                f"{summary.workers} Dask workers, written to {summary.output}".lstrip())  # fmt: skip


def register(app: typer.Typer) -> None:
    app.command("predict")(predict_cmd)
