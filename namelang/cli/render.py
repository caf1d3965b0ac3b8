"""The one output sink: it alone decides terminal or pipe, colour and quiet, and writes to the streams.

Command modules hand it data: `out.show(table)` for people, `out.records(rows, fmt)` / `out.json(data)`
for machines, `out.info/warn/error` and the progress bars for stderr. Data goes
to stdout; progress, summaries, warnings and errors go to stderr. `--quiet` silences stderr chrome
(errors still print); Rich honours NO_COLOR and drops colour on a pipe by itself.

Every command's `--format` is one `Format` with one "auto" rule (`Output.resolve`): a table when stdout
is a terminal and nothing is written to a file, else the command's machine format.

A command's output, in the sink's terms (evaluate, for one):

    fmt: options.output_format(Format.json) = Format.auto         # the option, declared once
    fmt = out.resolve(fmt, Format.json)                           # table only on a terminal
    if fmt is Format.table:
        out.show(table(title, [("metric", "left"), ("tiny", "right")], rows))
    else:
        out.records(reports, fmt)                                  # CSV, a JSON array or JSON Lines

Scored names are written by `namelang.scoring.sinks` (the record encoder the server uses too); the JSON
array and JSON Lines framing is theirs here as well.
"""

from __future__ import annotations

import contextlib
import csv
import enum
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from rich.console import Console

from namelang.scoring.sinks import JsonFraming

# rich.progress and rich.table are imported where they are used: `--help` never needs them.


class Format(str, enum.Enum):
    auto = "auto"
    table = "table"
    csv = "csv"
    json = "json"
    jsonl = "jsonl"


STDOUT = "standard output"


@contextlib.contextmanager
def _naming_stdout() -> Iterator[None]:
    """An OS error while writing stdout (a full disk behind `>`) names stdout, as a file's error names it."""
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as exc:
        if exc.filename is not None:
            raise
        out.discard_stdout()
        raise OSError(exc.errno, exc.strerror, STDOUT) from exc


class Output:
    """Where output goes and how it looks; `out` below is the one instance, set up by `options.workspace`."""

    def __init__(self, quiet: bool = False, verbose: bool = False):
        self.quiet, self.verbose = quiet, verbose
        self._live: Console | None = None  # the console of the progress bar on show, if any

    def configure(self, quiet: bool = False, verbose: bool = False) -> None:
        self.quiet, self.verbose = quiet, verbose

    # --- stdout: data ---------------------------------------------------------------------------

    def is_terminal(self) -> bool:
        return sys.stdout.isatty()

    def resolve(
        self, fmt: Format | None, machine: Format, allowed: Iterable[Format] = (), to_file: bool = False
    ) -> Format:
        """The one auto rule; `allowed` (empty: all) refuses other formats as a usage error (exit 2)."""
        if fmt is None or fmt is Format.auto:
            return Format.table if self.is_terminal() and not to_file else machine
        allowed = tuple(allowed)
        if allowed and fmt not in allowed:
            choices = ", ".join(f.value for f in allowed)
            raise _usage(f"{fmt.value!r} is not offered here; choose {choices} (or auto)", "--format")
        if fmt is Format.table and to_file:
            raise _usage("a table is for the terminal; write csv, json or jsonl to a file", "--format")
        return fmt

    def console(self) -> Console:
        """stdout as Rich sees it: its width is the terminal's, or $COLUMNS, or 80 on a pipe."""
        return Console(soft_wrap=False)

    def show(self, *renderables) -> None:
        """Tables and text for people, on stdout."""
        console = self.console()
        with _naming_stdout():
            for renderable in renderables:
                console.print(renderable)

    def line(self, text: str) -> None:
        """One plain line on stdout (no markup, no wrapping)."""
        with _naming_stdout():
            sys.stdout.write(text + "\n")

    def flush(self) -> None:
        """Push stdout out now, so a full disk or a closed pipe is an error of the command, named."""
        with _naming_stdout():
            sys.stdout.flush()

    def discard_stdout(self) -> None:
        """Point stdout at /dev/null, so the interpreter's last flush cannot fail a second time."""
        import os

        with contextlib.suppress(OSError, ValueError, AttributeError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)

    def json(self, data) -> None:
        with _naming_stdout():
            sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")

    def records(self, rows: list[dict], fmt: Format, columns: list[str] | None = None) -> None:
        """Flat records on stdout as CSV (a header, then a row each), a JSON array, or JSON Lines."""
        with _naming_stdout():
            writer = StreamWriter(sys.stdout, fmt)
            writer.records(rows, columns)
            writer.close()

    # --- stderr: messages and progress ----------------------------------------------------------

    def stderr(self) -> Console:
        # While a bar shows, messages go through its console, which prints them above the bar: a fresh
        # Console would write past Rich's redirection and leave the bar's line under the message.
        if self._live is not None:
            return self._live
        return Console(stderr=True, quiet=self.quiet)

    def info(self, message: str) -> None:
        self.stderr().print(message, highlight=False, soft_wrap=True, markup=False)

    def warn(self, message: str) -> None:
        self.stderr().print(f"[yellow]warning:[/] {_escape(message)}", highlight=False, soft_wrap=True)

    def error(self, message: str) -> None:
        # Errors print even under --quiet: they are the one line the user needs.
        Console(stderr=True).print(f"[bold red]error:[/] {_escape(message)}", highlight=False, soft_wrap=True)

    def summary(self, *renderables) -> None:
        """Tables about what a command did (not its data): stderr, silent under --quiet."""
        console = self.stderr()
        for renderable in renderables:
            console.print(renderable)

    @contextlib.contextmanager
    def progress(self, *columns) -> Iterator:
        """A transient progress display on stderr: only on a terminal, never under --quiet.

        Data on stdout is never printed while it shows: `show()` a table after the block. Lines written
        to a terminal stdout meanwhile are printed above the bar; a redirected stdout is left alone
        (Rich's redirection would send the data to stderr).
        """
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn

        console = self.stderr()
        bar = Progress(
            SpinnerColumn(),
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            *columns,
            console=console,
            transient=True,
            # A bar only means something on a terminal; in a log it would leave blank lines.
            disable=self.quiet or not console.is_terminal,
            redirect_stdout=self.is_terminal(),
        )
        self._live = None if bar.disable else console
        try:
            with bar:
                yield bar
        finally:
            self._live = None


def _usage(message: str, hint: str):
    import typer

    return typer.BadParameter(message, param_hint=hint)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def check_writable_folder(path: Path) -> None:
    """A file is written only into a folder that exists: a typo must not create a tree of folders."""
    from namelang.errors import NamelangError, literal

    folder = Path(path).parent
    if not folder.is_dir():
        reason = "is not a folder" if folder.exists() else "does not exist"
        raise NamelangError(f"cannot write {literal(path)}: the folder {literal(folder)} {reason}")


class StreamWriter:
    """Writes rows in one machine format, chunk by chunk: CSV (header once), a JSON array, JSON Lines."""

    def __init__(self, handle, fmt: Format, sep: str = ","):
        if fmt not in (Format.csv, Format.json, Format.jsonl):
            raise ValueError(f"StreamWriter writes csv, json or jsonl, not {fmt}")
        self.handle, self.fmt, self.sep = handle, fmt, sep
        self.first = True
        self.framing = None if fmt is Format.csv else JsonFraming(handle, fmt.value)

    def records(self, rows: Iterable[dict], columns: list[str] | None = None) -> None:
        """Dicts; for CSV, `columns` (default: the first row's keys) are the header."""
        if self.fmt is not Format.csv:
            self._objects(rows)
            return
        rows = list(rows)
        columns = columns or (list(rows[0]) if rows else [])
        writer = csv.DictWriter(
            self.handle, columns, delimiter=self.sep, lineterminator="\n", extrasaction="ignore"
        )
        if self.first and columns:
            writer.writeheader()
            self.first = False
        writer.writerows({k: _csv_cell(v) for k, v in row.items()} for row in rows)

    def _objects(self, objects: Iterable[dict]) -> None:
        self.framing.write([json.dumps(obj, ensure_ascii=False) for obj in objects])

    def close(self) -> None:
        if self.framing is not None:
            self.framing.close()


def _csv_cell(value):
    if isinstance(value, float):
        return f"{value:.6f}".rstrip("0").rstrip(".") if value == value else ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else value


def table(
    title: str | None,
    columns: list[tuple[str, str]],
    rows: Iterable[Iterable],
    footer: list | None = None,
    **options,
):
    """A Rich table: each column is (header, justify), numbers right-justified by the caller; a cell is
    text (Rich markup allowed) or a Rich Text. `options` go to rich.table.Table (box, padding, ...)."""
    from rich.table import Table
    from rich.text import Text

    tbl = Table(title=title, show_footer=footer is not None, title_justify="left", **options)
    for i, (header, justify) in enumerate(columns):
        tbl.add_column(header, justify=justify, footer=str(footer[i]) if footer else "")
    for row in rows:
        tbl.add_row(*[cell if isinstance(cell, Text) else str(cell) for cell in row])
    return tbl


def width_of(renderable) -> int:
    """The columns `renderable` needs to print without wrapping."""
    console = Console(width=10_000)
    return console.measure(renderable).maximum


out = Output()

# Shorthands kept for the command modules written before `Output`; new code calls `out` directly.
state = out


def configure(quiet: bool = False, verbose: bool = False) -> None:
    out.configure(quiet, verbose)


def reset() -> None:
    out.configure(False, False)


def stdout() -> Console:
    return out.console()


def stderr() -> Console:
    return out.stderr()


def info(message: str) -> None:
    out.info(message)


def warn(message: str) -> None:
    out.warn(message)


def error(message: str) -> None:
    out.error(message)


def model_in_use(clf) -> None:
    """The model and the device a command runs, on stderr."""
    out.info(f"model: {clf.name} ({clf.card.arch}), device: {clf.device}")


def count_progress():
    """Progress for counted work (epochs, batches). A task with an `eta` field (seconds) shows it as its
    time left: Rich guesses only after a task has advanced a few times, and an epoch can take minutes."""
    from rich.progress import (
        MofNCompleteColumn,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class Remaining(TimeRemainingColumn):
        def render(self, task):
            eta = task.fields.get("eta")
            if eta is None or task.finished:
                return super().render(task)
            minutes, seconds = divmod(int(eta), 60)
            hours, minutes = divmod(minutes, 60)
            return Text(f"{hours}:{minutes:02d}:{seconds:02d}", style="progress.remaining")

    return out.progress(
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        Remaining(),
        TextColumn("{task.fields[status]}"),
    )


def rows_progress():
    """Progress for streamed rows: the bar follows bytes read when the input's size is known."""
    from rich.progress import TaskProgressColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    return out.progress(
        TaskProgressColumn(), TextColumn("{task.fields[status]}"), TimeElapsedColumn(), TimeRemainingColumn()
    )


def byte_progress():
    """Progress for a download: bytes, rate, ETA; a pulsing bar when the size is unknown."""
    from rich.progress import DownloadColumn, TimeRemainingColumn, TransferSpeedColumn

    return out.progress(DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn())
