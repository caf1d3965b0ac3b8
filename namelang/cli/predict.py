"""`namelang predict`: names as arguments, lines on stdin, or a CSV/TSV/Parquet table, tagged in chunks.

The work is `namelang.tagging.tag_file` (one process) or `namelang.distributed.tag_dataset` (Dask);
this module parses the options, calls one of them and renders what comes back.
"""

from __future__ import annotations

import contextlib
import enum
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated

import typer

from namelang.cli import options, render
from namelang.scoring.columns import PredictionColumns
from namelang.scoring.options import MixOptions, ScoreOptions, TableOptions
from namelang.scoring.sinks import Sink, named_columns

# render.Format plus what tables add (tsv, parquet); `auto` follows the same rule as every command.
Format = enum.Enum("Format", {**{f.name: f.value for f in render.Format}, "tsv": "tsv", "parquet": "parquet"},
                   type=str)  # fmt: skip


class Engine(str, enum.Enum):
    local = "local"
    dask = "dask"


class TableSink(Sink):
    """Keeps the scored chunks for one Rich table on the terminal (few rows: names typed by hand)."""

    def __init__(self, position: int, column: str, columns: PredictionColumns, min_prob: float = 0.0):
        self.position, self.column, self.columns, self.min_prob = position, column, columns, min_prob
        self.rows: list[list[str]] = []

    def write(self, chunk) -> None:
        named = named_columns(chunk)
        cells = {column: list(values) for column, values in named}
        names = list(named[self.position][1])
        for i, name in enumerate(names):
            row = [str(name)]
            for label_column, probability_column in self.columns.pairs:
                label, probability = cells[label_column][i], cells[probability_column][i]
                if label is None or label != label:  # below --min-prob: no language, not `unknown`
                    row += [f"[dim](below {self.min_prob:g})[/]", ""]
                else:
                    row += [label, "" if probability != probability else f"{probability:.3f}"]
            self.rows.append(row + [cells[column][i] or "" for column in self.columns.extra])

    def show(self) -> None:
        """Shown once the progress bar is gone: a table under a live bar is garbled."""
        headings = [(self.column, "left")]
        for rank in range(1, self.columns.k + 1):
            headings += [(f"#{rank}", "left"), ("prob", "right")]
        headings += [("set", "left")] * self.columns.sets + [("script path", "left")] * self.columns.explain
        render.out.show(render.table(None, headings, self.rows))


class NoRows(Sink):
    """A sink that keeps no rows: `--summary` without `--output` prints the mix only."""

    def write(self, chunk) -> None:
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


def _progress_callback(progress, name: str, started: float):
    task = progress.add_task(name, total=None, status="")

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


@dataclass(frozen=True)
class PredictArgs(options.CommonArgs):
    """`namelang predict`'s arguments and options (`options.takes`): one record, built in tests too."""

    names: Annotated[
        list[str] | None, typer.Argument(help="Names to classify.", show_default=False, metavar="NAMES")
    ] = None
    input_: Annotated[
        str | None,
        typer.Option(
            "--input",
            "-i",
            metavar="<file>",
            rich_help_panel=IO,
            help="CSV, TSV, Parquet, .txt (a name a line) or - (stdin); with dask a glob or folder too.",
        ),
    ] = None
    column: Annotated[
        str | None,
        typer.Option(
            "--column", "-c", metavar="<col>", rich_help_panel=IO, help="\\[default: name, or the only one]"
        ),
    ] = None
    output: Annotated[
        Path | None, typer.Option("--output", "-o", metavar="<file>", rich_help_panel=IO, help="Not stdout.")
    ] = None
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
    ] = None
    encoding: Annotated[
        str, typer.Option("--encoding", metavar="<codec>", rich_help_panel=IO, help="Of a text --input.")
    ] = "utf-8"
    prefix: Annotated[
        str, typer.Option("--prefix", metavar="<text>", rich_help_panel=IO, help="For the added columns.")
    ] = ""
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, metavar="<rows>", rich_help_panel=IO, help="Rows per chunk.")
    ] = 65536
    top_k: Annotated[
        int, typer.Option("--top-k", "-k", min=1, rich_help_panel=SCORING, help="Labels per name.")
    ] = 3
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
    ] = 0.0
    prior: Annotated[
        str,
        typer.Option(
            "--prior",
            metavar="<prior>",
            rich_help_panel=SCORING,
            help="Label prior: train, uniform, estimate (EM), SOURCE, FILE.json.",
        ),
    ] = "train"
    coverage: Annotated[
        float | None,
        typer.Option(
            "--coverage",
            min=0.5,
            max=0.999,
            rich_help_panel=SCORING,
            help="Add prediction_set (conformal).",
        ),
    ] = None
    explain: Annotated[
        bool,
        typer.Option(
            "--explain", rich_help_panel=SCORING, help="Add script_path: model, lexicon, rule … per name."
        ),
    ] = False
    summary: Annotated[
        bool, typer.Option("--summary", rich_help_panel=SUMMARY, help="The input's language mix.")
    ] = False
    summary_output: Annotated[
        Path | None,
        typer.Option("--summary-output", metavar="<file>", rich_help_panel=SUMMARY, help="Write it as JSON."),
    ] = None
    bootstrap: Annotated[
        int, typer.Option("--bootstrap", min=0, max=100_000, rich_help_panel=SUMMARY, help="Resamples.")
    ] = 200
    seed: Annotated[int, typer.Option("--seed", min=0, rich_help_panel=SUMMARY, help="Bootstrap seed.")] = 0
    engine: Annotated[
        Engine,
        typer.Option("--engine", rich_help_panel=DASK, help="dask needs pip install 'namelang\\[dask]'."),
    ] = Engine.local
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler", metavar="<url>", rich_help_panel=DASK, help="\\[default: a local cluster]"
        ),
    ] = None
    blocksize: Annotated[
        str, typer.Option("--blocksize", metavar="<size>", rich_help_panel=DASK, help="CSV per partition.")
    ] = "64MB"
    model: options.Model = None
    device: options.Device = "auto"
    threads: options.Threads = None


@options.takes(PredictArgs)
def predict_cmd(args: PredictArgs) -> None:
    """Guess the language of names: arguments, stdin, or a table's column (every row kept, in order)."""
    from namelang.errors import NamelangError

    home = args.start()
    options.one_blas_thread()
    fmt = args.fmt
    if fmt in (None, Format.auto):
        fmt = Format.table if args.output is None and render.out.is_terminal() else None
    if fmt is Format.table and args.output is not None:
        raise NamelangError(
            "--format table is for the terminal; use csv, tsv, json, jsonl or parquet with --output"
        )
    args = replace(args, input_=_check_usage(args.names, args.input_), fmt=fmt, home=home)
    scoring = score_options(args)
    if args.engine is Engine.dask:
        if args.input_ in (None, "<lines>", "-"):
            raise NamelangError("--engine dask reads files: pass --input FILE, a glob or a folder")
        _predict_dask(args, scoring)
        return
    if args.scheduler is not None:
        raise typer.BadParameter("--scheduler needs --engine dask", param_hint="--scheduler")
    with _spooled(args.input_, args.prior) as input_:
        _predict_local(replace(args, input_=input_), scoring)


def score_options(args: PredictArgs) -> ScoreOptions:
    """The flags that say how names are scored, as every path takes them."""
    return ScoreOptions(top_k=args.top_k, prefix=args.prefix, min_prob=args.min_prob, prior=args.prior,
                        coverage=args.coverage, explain=args.explain)  # fmt: skip


def table_options(args: PredictArgs) -> TableOptions:
    """The flags that say how the table is read and written (an opened table keeps its encoding)."""
    fmt = None if args.fmt in (None, Format.table) else args.fmt.value
    return TableOptions(fmt=fmt, encoding=args.encoding, batch_size=args.batch_size)


def mix_options(args: PredictArgs) -> MixOptions | None:
    """--summary's bootstrap, or None when no summary is asked for."""
    return MixOptions(bootstrap=args.bootstrap, seed=args.seed) if _summarised(args) else None


def _summarised(args: PredictArgs) -> bool:
    return args.summary or args.summary_output is not None


@contextlib.contextmanager
def _spooled(input_, prior: str):
    """stdin copied to a temporary file when --prior estimate must read it twice; else as given."""
    if prior != "estimate" or input_ not in ("-", "<lines>"):
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


def _predict_local(args: PredictArgs, scoring: ScoreOptions) -> None:
    """One process: names or a table through `tag_file`, into a file, stdout or a table on the terminal.
    Names given as arguments are scored without pandas (whose import is most of a cold start)."""
    from namelang.inference import Classifier
    from namelang.tagging import check_output, resolve_column, tag_file

    table = _open(args.names, args.input_, args.encoding)
    check_output(args.output)
    check_output(args.summary_output)
    position = resolve_column(table.header, args.column, table.label)
    clf = Classifier.load(args.model, args.home, args.device)
    clf.threads = options.scoring_threads(args.threads)
    sink = _sink(args, scoring, clf, table.header[position], position)
    started = time.perf_counter()
    shown = render.rows_progress() if args.input_ is not None else contextlib.nullcontext()
    with shown as progress:
        summary = tag_file(
            table,
            args.output if sink is None else sink,
            column=table.header[position],
            model=clf,
            options=scoring,
            table=table_options(args),
            summary=mix_options(args),
            progress=None if progress is None else _progress_callback(progress, clf.name, started),
        )
    if isinstance(sink, TableSink):
        sink.show()
    render.out.info(_summary(summary, clf, scoring.min_prob))
    if args.model is None:
        options.note_default_model(args.home, clf)
    if summary.mix is not None:
        _show_mix(summary.mix.as_dict(), args)


def _sink(args: PredictArgs, scoring: ScoreOptions, clf, column: str, position: int):
    """Where the rows go when not to `--output` or stdout: nowhere (the --summary alone), or a table."""
    if _summarised(args) and args.output is None:
        return NoRows()
    if args.fmt is Format.table:
        return TableSink(position, column, PredictionColumns.of(scoring, clf.labels), scoring.min_prob)
    return None


def _show_mix(mix: dict, args: PredictArgs) -> None:
    """The --summary: to its file (JSON), else to stdout when the rows went nowhere, else to stderr."""
    if args.summary_output is not None:
        from namelang.workspace import write_json

        write_json(args.summary_output, mix)
        render.out.info(f"summary written to {args.summary_output}")
    elif args.output is not None:
        render.out.summary(mix_table(mix))
    elif args.fmt is Format.table:
        render.out.show(mix_table(mix))
    elif args.fmt in (Format.csv, Format.tsv, Format.jsonl):
        render.out.records(
            _mix_records(mix), render.Format.jsonl if args.fmt is Format.jsonl else render.Format.csv
        )
    else:
        render.out.json(mix)


def _predict_dask(args: PredictArgs, scoring: ScoreOptions) -> None:
    """A file, a glob or a folder of parts through `tag_dataset` on a Dask cluster, into files."""
    from namelang.distributed import DaskOptions, ModelPayload, tag_dataset
    from namelang.tagging import check_output

    check_output(args.summary_output)

    def connected(dashboard: str | None, workers: int) -> None:
        where = args.scheduler or "a local cluster"
        render.out.info(f"Dask: {where}, {workers} worker{'' if workers == 1 else 's'}; dashboard: "
                        + (dashboard or "none (pip install bokeh to get one)"))  # fmt: skip

    with render.count_progress() as progress:
        task = progress.add_task("dask", total=None, status="")

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total, status="tasks")

        summary = tag_dataset(
            args.input_,
            args.output,
            column=args.column,
            model=ModelPayload.load(args.model, args.home),
            options=scoring,
            table=table_options(args),
            summary=mix_options(args),
            cluster=DaskOptions(
                scheduler=args.scheduler, blocksize=args.blocksize, on_connect=connected, progress=advance
            ),
        )
    rows = "" if summary.rows is None else f"{summary.rows:,} row{'' if summary.rows == 1 else 's'}"
    # Parquet's footers count rows without a probability: blank names and, with --min-prob, abstentions.
    what = "blank or below --min-prob" if scoring.min_prob > 0 else "blank"
    blank = f" ({summary.blank:,} {what})" if summary.blank else ""
    where = "" if summary.output is None else f", written to {summary.output}"
    render.out.info(f"{rows}{blank} scored by {summary.model} in {summary.partitions} partitions on "
                    f"{summary.workers} Dask workers{where}".lstrip())  # fmt: skip
    if summary.mix is not None:
        _show_mix(summary.mix.as_dict(), args)


def register(app: typer.Typer) -> None:
    app.command("predict")(predict_cmd)
