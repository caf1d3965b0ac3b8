"""`namelang predict`: names as arguments, lines on stdin, or a CSV/TSV column, streamed in chunks."""

from __future__ import annotations

import enum
import itertools
import json
import math
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from namelang.cli import options, render


class Format(str, enum.Enum):
    table = "table"
    csv = "csv"
    json = "json"
    jsonl = "jsonl"


def _records(frame, added: list[str], top_k: int):
    """JSON objects: the row's own columns, then `predictions` as a list of {label, probability}."""
    own = [c for c in frame.columns if c not in added]
    for row in frame.itertuples(index=False, name=None):
        values = dict(zip(frame.columns, row))
        predictions = []
        for rank in range(top_k):
            label, prob = values[added[2 * rank]], values[added[2 * rank + 1]]
            if label and not (isinstance(prob, float) and math.isnan(prob)):
                predictions.append({"label": label, "probability": round(float(prob), 6)})
        yield {**{c: values[c] for c in own}, "predictions": predictions}


class _Writer:
    """Writes scored chunks in one machine format to a text stream."""

    def __init__(self, handle, fmt: Format, added: list[str], top_k: int, sep: str):
        self.handle, self.fmt, self.added, self.top_k, self.sep = handle, fmt, added, top_k, sep
        self.first = True

    def write(self, frame) -> None:
        if self.fmt is Format.csv:
            frame.to_csv(
                self.handle,
                index=False,
                header=self.first,
                sep=self.sep,
                float_format="%.6f",
                lineterminator="\n",
            )
        else:
            for record in _records(frame, self.added, self.top_k):
                text = json.dumps(record, ensure_ascii=False)
                if self.fmt is Format.jsonl:
                    self.handle.write(text + "\n")
                else:
                    self.handle.write(("[\n  " if self.first else ",\n  ") + text)
                    self.first = False
        self.first = False

    def close(self) -> None:
        if self.fmt is Format.json:
            self.handle.write("[]\n" if self.first else "\n]\n")


def _table(frames, column: str, added: list[str], top_k: int, title: str):
    from rich.table import Table

    tbl = Table(title=title, title_justify="left")
    tbl.add_column(column)
    for rank in range(1, top_k + 1):
        tbl.add_column(f"#{rank}")
        tbl.add_column("prob", justify="right")
    for frame in frames:
        for record in _records(frame, added, top_k):
            cells = [str(record.get(column, ""))]
            for p in record["predictions"]:
                cells += [p["label"], f"{p['probability']:.3f}"]
            tbl.add_row(*cells)
    return tbl


def predict_cmd(
    names: Annotated[list[str] | None, typer.Argument(help="Names to classify.", show_default=False)] = None,
    input_: Annotated[
        str | None,
        typer.Option("--input", "-i", help="CSV/TSV file, a .txt of one name per line, or - for stdin."),
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
        Format | None, typer.Option("--format", "-f", help="\\[default: table on a terminal, else csv]")
    ] = None,
    min_prob: Annotated[
        float,
        typer.Option("--min-prob", min=0.0, max=1.0, help="Write 'unknown' below this top probability."),
    ] = 0.0,
    prefix: Annotated[str, typer.Option("--prefix", help="Prepended to the added column names.")] = "",
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="Rows read and scored per chunk.")
    ] = 65536,
    model: options.Model = None,
    device: options.Device = "auto",
    home: options.Home = None,
    quiet: options.Quiet = False,
    verbose: options.Verbose = False,
) -> None:
    """Guess the language of names: arguments, stdin, or a CSV column (every row kept, in order)."""
    from namelang.errors import NamelangError

    home = options.start(home, quiet, verbose)
    if names and input_ is not None:
        raise NamelangError("give names as arguments or --input, not both")
    if not names and input_ is None:
        if sys.stdin is None or sys.stdin.isatty():
            raise NamelangError("no names: pass them as arguments, with --input FILE, or on stdin")
        input_ = "<lines>"
    if fmt is None:
        fmt = Format.table if output is None and render.stdout_is_terminal() else Format.csv
    if fmt is Format.table and output is not None:
        raise NamelangError("--format table is for the terminal; use csv, json or jsonl with --output")

    import pandas as pd

    from namelang.data.table import CheckedStream, InputTable, open_input, read_chunks
    from namelang.inference import Classifier, prediction_columns

    clf = Classifier.load(model, home, device)
    render.model_in_use(clf)
    k = min(top_k, len(clf.labels))
    added = prediction_columns(k, prefix)

    if names:
        table = None
        frames = iter([pd.DataFrame({"name": names})])
        column = "name"
    else:
        if input_ == "<lines>":
            table = InputTable(CheckedStream(sys.stdin.buffer, "<stdin>"), "<stdin>", None, None)
        else:
            table = open_input(input_)
        frames = read_chunks(table, batch_size)
    sep = "\t" if output is not None and output.suffix.lower() in (".tsv", ".tab") else ","
    first = next(frames, None)
    if column is None:
        # `name`, or the only column of a one-column file.
        only = first is not None and len(first.columns) == 1 and "name" not in first.columns
        column = first.columns[0] if only else "name"
    frames = itertools.chain([first] if first is not None else [], frames)

    def scored():
        for frame in frames:
            yield clf.predict_frame(frame, column=column, top_k=k, prefix=prefix, min_prob=min_prob)

    if fmt is Format.table:
        title = f"{clf.name} ({clf.card.arch})"
        render.stdout().print(_table(scored(), column, added, k, title))
        return
    started = time.perf_counter()
    with render.rows_progress() as progress:
        task = progress.add_task("predict", total=table.total_bytes if table else None, status="")
        rows = 0

        def tracked():
            nonlocal rows
            for frame in scored():
                rows += len(frame)
                rate = rows / max(time.perf_counter() - started, 1e-9)
                done = table.stream.bytes_read if table else rows
                progress.update(task, completed=done, status=f"{rows:,} rows, {rate:,.0f} rows/s")
                yield frame

        if output is None:
            writer = _Writer(sys.stdout, fmt, added, k, sep)
            for frame in tracked():
                writer.write(frame)
            writer.close()
            sys.stdout.flush()
        else:
            from namelang.workspace import atomic_path

            with atomic_path(output) as tmp, open(tmp, "w", encoding="utf-8", newline="") as handle:
                writer = _Writer(handle, fmt, added, k, sep)
                for frame in tracked():
                    writer.write(frame)
                writer.close()
    render.info(f"{rows:,} rows scored" + (f", written to {output}" if output else ""))


def register(app: typer.Typer) -> None:
    app.command("predict")(predict_cmd)
