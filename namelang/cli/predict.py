"""`namelang predict`: names as arguments, lines on stdin, or a CSV/TSV/Parquet table, tagged in chunks.

The work is `namelang.tagging.tag_file` (one process) or `namelang.distributed.tag_dataset` (Dask);
this module parses the options, calls one of them and renders what comes back.
"""

from __future__ import annotations

import contextlib
import enum
import sys
import time
from dataclasses import dataclass
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
    """Keeps the scored chunks for one Rich table on the terminal (few rows: names typed by hand).

    `extra`: the headings of the columns after the predictions (`set`, `script path`).
    """

    def __init__(
        self, position: int, column: str, added: list[str], extra: list[str] = (), min_prob: float = 0.0
    ):
        self.position, self.column, self.added, self.extra, self.rows = (
            position,
            column,
            added,
            list(extra),
            [],
        )
        self.min_prob = min_prob

    def write(self, chunk) -> None:
        from namelang.tagging import to_frame

        frame = to_frame(chunk)
        end = frame.shape[1] - len(self.extra)
        shown = frame.iloc[:, [self.position, *range(end - len(self.added), end)]]
        sets = frame.iloc[:, end:].itertuples(index=False, name=None)
        for row, extra in zip(shown.itertuples(index=False, name=None), sets):
            self.add(row, extra)

    def write_rows(self, rows: list[list]) -> None:
        """Rows of `tagging.score_names` (the name, the predictions, then the extra columns)."""
        end = 1 + len(self.added)
        for row in rows:
            self.add(row[:end], row[end:])

    def add(self, row, extra) -> None:
        cells = [str(row[0])]
        for label, prob in zip(row[1::2], row[2::2]):
            if label is None or label != label:  # below --min-prob: no language, not `unknown`
                cells += [f"[dim](below {self.min_prob:g})[/]", ""]
                continue
            cells += [label, "" if prob != prob else f"{prob:.3f}"]
        self.rows.append(cells + [cell or "" for cell in extra])

    def close(self) -> None:
        pass  # shown by `show()` once the progress bar is gone: a table under a live bar is garbled

    def show(self) -> None:
        headings = [(self.column, "left")]
        for rank in range(1, len(self.added) // 2 + 1):
            headings += [(f"#{rank}", "left"), ("prob", "right")]
        headings += [(heading, "left") for heading in self.extra]
        render.out.show(render.table(None, headings, self.rows))


class NoRows:
    """A sink that keeps no rows: `--summary` without `--output` prints the mix only."""

    def write(self, chunk) -> None:
        pass

    def close(self) -> None:
        pass


def mix_table(mix):
    """The table's mix, most common language (by the EM estimate) first."""
    rows = []
    for label, m in sorted(mix["languages"].items(), key=lambda kv: -kv[1]["em_share"]):
        interval = f"{m['em_low']:.1%}–{m['em_high']:.1%}" if "em_low" in m else ""
        rows.append(
            [label, f"{m['top1_count']:,}", f"{m['top1_share']:.1%}", f"{m['probability_sum']:,.1f}",
             f"{m['probability_share']:.1%}", f"{m['em_share']:.1%}", interval]
        )  # fmt: skip
    columns = [("language", "left"), ("top-1", "right"), ("share", "right"), ("prob. sum", "right")]
    columns += [("share", "right"), ("EM", "right"), (f"{mix['interval']:.0%} interval", "right")]
    title = (
        f"mix of {mix['rows']:,} names ({mix['distinct_names']:,} distinct), prior {mix['prior']}, "
        f"{mix['bootstrap_resamples']} bootstrap resamples"
    )
    return render.table(title, columns, rows)


def _mix_records(mix) -> list[dict]:
    return [{"language": label, **m} for label, m in mix["languages"].items()]


def _progress_callback(progress, task, started: float):
    def update(state) -> None:
        rate = state.rows / max(time.perf_counter() - started, 1e-9)
        progress.update(
            task, completed=state.done, total=state.total, status=f"{state.rows:,} rows, {rate:,.0f} rows/s"
        )

    return update


def _summary(summary, clf, min_prob: float = 0.0) -> str:
    rows = f"{summary.rows:,} row{'' if summary.rows == 1 else 's'} scored"
    parts = [f"{summary.blank:,} blank"] * bool(summary.blank)
    parts += [f"{summary.abstained:,} below --min-prob {min_prob:g}: no prediction"] * bool(summary.abstained)
    blank = f" ({', '.join(parts)})" if parts else ""
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


IO, SCORING, SUMMARY, DASK = "Input and output", "Scoring", "Summary (--summary)", "Dask engine"


def predict_cmd(
    names: Annotated[
        list[str] | None, typer.Argument(help="Names to classify.", show_default=False, metavar="NAMES")
    ] = None,
    input_: Annotated[
        str | None,
        typer.Option(
            "--input",
            "-i",
            metavar="<file>",
            rich_help_panel=IO,
            help="CSV, TSV, Parquet, .txt (a name a line) or - (stdin); with dask a glob or folder too.",
        ),
    ] = None,
    column: Annotated[
        str | None,
        typer.Option(
            "--column", "-c", metavar="<col>", rich_help_panel=IO, help="\\[default: name, or the only one]"
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", metavar="<file>", rich_help_panel=IO, help="Not stdout.")
    ] = None,
    fmt: Annotated[
        Format | None,
        typer.Option(
            "--format",
            "-f",
            metavar="<format>",
            rich_help_panel=IO,
            help="table, csv, tsv, json, jsonl, parquet \\[default: table on a terminal, else by --output's "
            "suffix, else csv]",
        ),
    ] = None,
    encoding: Annotated[
        str, typer.Option("--encoding", metavar="<codec>", rich_help_panel=IO, help="Of a text --input.")
    ] = "utf-8",
    prefix: Annotated[
        str, typer.Option("--prefix", metavar="<text>", rich_help_panel=IO, help="For the added columns.")
    ] = "",
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, metavar="<rows>", rich_help_panel=IO, help="Rows per chunk.")
    ] = 65536,
    top_k: Annotated[
        int, typer.Option("--top-k", "-k", min=1, rich_help_panel=SCORING, help="Labels per name.")
    ] = 3,
    min_prob: Annotated[
        float,
        typer.Option(
            "--min-prob",
            min=0.0,
            max=1.0,
            rich_help_panel=SCORING,
            show_default=False,
            help="No prediction (empty, null) below this top probability.",
        ),
    ] = 0.0,
    prior: Annotated[
        str,
        typer.Option(
            "--prior",
            metavar="<prior>",
            rich_help_panel=SCORING,
            help="Label prior: train, uniform, estimate (EM), SOURCE, FILE.json.",
        ),
    ] = "train",
    coverage: Annotated[
        float | None,
        typer.Option(
            "--coverage",
            min=0.5,
            max=0.999,
            rich_help_panel=SCORING,
            help="Add prediction_set (conformal).",
        ),
    ] = None,
    explain: Annotated[
        bool,
        typer.Option(
            "--explain", rich_help_panel=SCORING, help="Add script_path: model, lexicon, rule … per name."
        ),
    ] = False,
    summary: Annotated[
        bool, typer.Option("--summary", rich_help_panel=SUMMARY, help="The input's language mix.")
    ] = False,
    summary_output: Annotated[
        Path | None,
        typer.Option("--summary-output", metavar="<file>", rich_help_panel=SUMMARY, help="Write it as JSON."),
    ] = None,
    bootstrap: Annotated[
        int, typer.Option("--bootstrap", min=0, max=100_000, rich_help_panel=SUMMARY, help="Resamples.")
    ] = 200,
    seed: Annotated[int, typer.Option("--seed", min=0, rich_help_panel=SUMMARY, help="Bootstrap seed.")] = 0,
    engine: Annotated[
        Engine,
        typer.Option("--engine", rich_help_panel=DASK, help="dask needs pip install 'namelang\\[dask]'."),
    ] = Engine.local,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler", metavar="<url>", rich_help_panel=DASK, help="\\[default: a local cluster]"
        ),
    ] = None,
    blocksize: Annotated[
        str, typer.Option("--blocksize", metavar="<size>", rich_help_panel=DASK, help="CSV per partition.")
    ] = "64MB",
    model: options.Model = None,
    device: options.Device = "auto",
    threads: options.Threads = None,
    home: options.Home = None,
    quiet: options.Quiet = False,
    verbose: options.Verbose = False,
) -> None:
    """Guess the language of names: arguments, stdin, or a table's column (every row kept, in order)."""
    from namelang.errors import NamelangError

    home = options.start(home, quiet, verbose)
    options.one_blas_thread()
    input_ = _check_usage(names, input_)
    if fmt in (None, Format.auto):
        fmt = Format.table if output is None and render.out.is_terminal() else None
    if fmt is Format.table and output is not None:
        raise NamelangError(
            "--format table is for the terminal; use csv, tsv, json, jsonl or parquet with --output"
        )
    extras = Extras(
        prior, coverage, summary or summary_output is not None, summary_output, bootstrap, seed, explain
    )
    if engine is Engine.dask:
        if extras.active:
            raise NamelangError("--prior, --coverage and --summary run with --engine local")
        if input_ in (None, "<lines>", "-"):
            raise NamelangError("--engine dask reads files: pass --input FILE, a glob or a folder")
        _predict_dask(
            input_, output, column, top_k, fmt, min_prob, prefix, encoding, scheduler, blocksize, model, home,
            explain,
        )  # fmt: skip
        return
    if scheduler is not None:
        raise typer.BadParameter("--scheduler needs --engine dask", param_hint="--scheduler")
    with _spooled(input_, extras) as input_:
        _predict_local(
            names, input_, output, column, top_k, fmt, min_prob, prefix, batch_size, encoding, model, device,
            home, extras, options.scoring_threads(threads),
        )  # fmt: skip


@dataclass
class Extras:
    """--prior, --coverage, --summary and --explain as given; `active`: those the Dask engine lacks."""

    prior: str = "train"
    coverage: float | None = None
    summary: bool = False
    summary_output: Path | None = None
    bootstrap: int = 200
    seed: int = 0
    explain: bool = False

    @property
    def active(self) -> bool:
        return self.prior != "train" or self.coverage is not None or self.summary


@contextlib.contextmanager
def _spooled(input_, extras: Extras):
    """stdin copied to a temporary file when --prior estimate must read it twice; else as given."""
    if extras.prior != "estimate" or input_ not in ("-", "<lines>"):
        yield input_
        return
    import shutil
    import tempfile

    suffix = ".txt" if input_ == "<lines>" else ".csv"
    with tempfile.TemporaryDirectory(prefix="namelang-stdin-") as folder:
        path = Path(folder) / f"stdin{suffix}"
        with open(path, "wb") as handle:
            shutil.copyfileobj(sys.stdin.buffer, handle)
        yield str(path)


def _predict_local(
    names, input_, output, column, top_k, fmt, min_prob, prefix, batch_size, encoding, model, device, home,
    extras: Extras, threads: int,
) -> None:  # fmt: skip
    from namelang.inference import Classifier
    from namelang.tagging import check_output, resolve_column, tag_file

    table = _open(names, input_, encoding)
    check_output(output)
    check_output(extras.summary_output)
    position = resolve_column(table.header, column, table.label)
    clf = Classifier.load(model, home, device)
    clf.threads = threads
    if input_ is None and not extras.active and (fmt is Format.table or _text_format(output, fmt)):
        _predict_names(clf, names, output, fmt, top_k, prefix, min_prob, extras.explain)
        if model is None:
            options.note_default_model(home, clf)
        return
    sink = None
    if extras.summary and output is None:
        sink = NoRows()
    elif fmt is Format.table:
        k = min(top_k, len(clf.labels))
        from namelang.inference import prediction_columns

        headings = ["set"] * (extras.coverage is not None) + ["script path"] * extras.explain
        sink = TableSink(position, table.header[position], prediction_columns(k, prefix), headings, min_prob)
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
            prior=extras.prior,
            coverage=extras.coverage,
            summary=extras.summary,
            resamples=extras.bootstrap,
            seed=extras.seed,
            explain=extras.explain,
        )
    if isinstance(sink, TableSink):
        sink.show()
    render.out.info(_summary(summary, clf, min_prob))
    if model is None:
        options.note_default_model(home, clf)
    if summary.mix is not None:
        _show_mix(summary.mix.as_dict(), extras, output, fmt)


def _text_format(output, fmt) -> str | None:
    """csv, tsv, json or jsonl as `tag_file` would choose it; None for Parquet."""
    from namelang.tagging import output_format

    chosen = output_format(output, None if fmt is None else fmt.value)
    return None if chosen == "parquet" else chosen


def _predict_names(clf, names, output, fmt, top_k, prefix, min_prob, explain) -> None:
    """Names on the command line: scored and written without pandas (whose import is most of a cold
    start), cell for cell what the table path writes for them."""
    from namelang.tagging import SCRIPT_PATH, TagSummary, check_clash, score_names

    added, rows = score_names(clf, list(names), top_k, prefix, min_prob, explain)
    extra = [f"{prefix}{SCRIPT_PATH}"] if explain else []
    check_clash(["name"], added + extra)
    if fmt is Format.table:
        sink = TableSink(0, "name", added, ["script path"] * explain, min_prob)
        sink.write_rows(rows)
        sink.show()
    else:
        _write_rows(output, _text_format(output, fmt), added, extra, rows)
    blank, abstained = sum(row[1] == "" for row in rows), sum(row[1] is None for row in rows)
    where = None if output is None else str(output)
    done = TagSummary(len(rows), blank, 0.0, "name", clf.name, where, 0, 0, abstained=abstained)
    render.out.info(_summary(done, clf, min_prob))


def _write_rows(output, fmt: str, added: list[str], extra: list[str], rows: list[list]) -> None:
    """The rows as `tag_file` writes them: to stdout, or to `output` under a temporary name."""
    from namelang.tagging import TextSink

    def write(handle) -> None:
        sink = TextSink(handle, fmt, ["name"], added, extra)
        sink.write_rows(rows)
        sink.close()

    if output is None:
        write(sys.stdout)
        sys.stdout.flush()
        return
    from namelang.errors import NamelangError
    from namelang.workspace import atomic_path

    try:
        with atomic_path(Path(output)) as tmp, open(tmp, "w", encoding="utf-8", newline="") as handle:
            write(handle)
    except OSError as exc:
        raise NamelangError(f"cannot write {output}: {exc.strerror or exc}") from exc


def _show_mix(mix: dict, extras: Extras, output, fmt) -> None:
    """The --summary: to its file (JSON), else to stdout when the rows went nowhere, else to stderr."""
    if extras.summary_output is not None:
        from namelang.workspace import write_json

        write_json(extras.summary_output, mix)
        render.out.info(f"summary written to {extras.summary_output}")
    elif output is not None:
        render.out.summary(mix_table(mix))
    elif fmt is Format.table:
        render.out.show(mix_table(mix))
    elif fmt in (Format.csv, Format.tsv, Format.jsonl):
        render.out.records(
            _mix_records(mix), render.Format.jsonl if fmt is Format.jsonl else render.Format.csv
        )
    else:
        render.out.json(mix)


def _predict_dask(
    input_, output, column, top_k, fmt, min_prob, prefix, encoding, scheduler, blocksize, model, home, explain
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
            scheduler=scheduler, blocksize=blocksize, on_connect=connected, progress=advance, explain=explain,
        )  # fmt: skip
    rows = "" if summary.rows is None else f"{summary.rows:,} row{'' if summary.rows == 1 else 's'}"
    # Parquet's footers count rows without a probability: blank names and, with --min-prob, abstentions.
    what = "blank or below --min-prob" if min_prob > 0 else "blank"
    blank = f" ({summary.blank:,} {what})" if summary.blank else ""
    render.out.info(f"{rows}{blank} scored by {summary.model} in {summary.partitions} partitions on "
                f"{summary.workers} Dask workers, written to {summary.output}".lstrip())  # fmt: skip


def register(app: typer.Typer) -> None:
    app.command("predict")(predict_cmd)
