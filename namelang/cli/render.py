"""The one place that talks to the terminal: consoles, tables, progress bars, messages.

Data goes to stdout; progress, banners, warnings and errors go to stderr. `--quiet` silences stderr
chrome (errors still print); Rich honours NO_COLOR by itself.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from rich.console import Console

# rich.progress and rich.table are imported where they are used: `--help` never needs them.


@dataclass
class State:
    quiet: bool = False
    verbose: bool = False


state = State()


def configure(quiet: bool = False, verbose: bool = False) -> None:
    state.quiet = quiet
    state.verbose = verbose


def reset() -> None:
    configure(False, False)


def stdout() -> Console:
    return Console(soft_wrap=True)


def stderr() -> Console:
    return Console(stderr=True, quiet=state.quiet)


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


def info(message: str) -> None:
    stderr().print(message, highlight=False, soft_wrap=True)


def model_in_use(clf) -> None:
    """The model and the device a command runs, on stderr."""
    info(f"model: {clf.name} ({clf.card.arch}), device: {clf.device}")


def warn(message: str) -> None:
    stderr().print(f"[yellow]warning:[/] {message}", highlight=False)


def error(message: str) -> None:
    # Errors print even under --quiet: they are the one line the user needs.
    Console(stderr=True).print(f"[bold red]error:[/] {message}", highlight=False, markup=True, soft_wrap=True)


def table(title: str | None, columns: list[tuple[str, str]], rows, footer: list | None = None):
    """A table; each column is (header, justify); numbers are right-justified by the caller."""
    from rich.table import Table

    tbl = Table(title=title, show_footer=footer is not None, title_justify="left")
    for i, (header, justify) in enumerate(columns):
        tbl.add_column(header, justify=justify, footer=str(footer[i]) if footer else "")
    for row in rows:
        tbl.add_row(*[str(cell) for cell in row])
    return tbl


def _progress(*columns):
    """A transient progress display on stderr, silent under --quiet."""
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn

    console = stderr()
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        *columns,
        console=console,
        transient=True,
        # A bar only means something on a terminal; in a log it would leave blank lines.
        disable=state.quiet or not console.is_terminal,
    )


def count_progress():
    """Progress for counted work (epochs, batches)."""
    from rich.progress import (
        MofNCompleteColumn,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return _progress(
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[status]}"),
    )


def rows_progress():
    """Progress for streamed rows: the bar follows bytes read when the input's size is known."""
    from rich.progress import TaskProgressColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    return _progress(
        TaskProgressColumn(), TextColumn("{task.fields[status]}"), TimeElapsedColumn(), TimeRemainingColumn()
    )


def byte_progress():
    """Progress for a download: bytes, rate, ETA; a pulsing bar when the size is unknown."""
    from rich.progress import DownloadColumn, TimeRemainingColumn, TransferSpeedColumn

    return _progress(DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn())
