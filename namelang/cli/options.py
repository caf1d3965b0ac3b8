"""Options shared by every command, declared once."""

from __future__ import annotations

import dataclasses
import functools
import inspect
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from namelang.cli import render
from namelang.cli.render import Format
from namelang.workspace import Workspace, locate_home, user_home

MODEL_PANEL = "Model and device"  # where --help groups the options that choose what runs, and where

Home = Annotated[
    Path | None,
    typer.Option(
        "--home",
        envvar="NAMELANG_HOME",
        metavar="<dir>",
        help="Workspace \\[default: ./data if one is there, else the per-user folder]",
        show_default=False,
    ),
]
Device = Annotated[
    str,
    typer.Option(
        "--device",
        envvar="NAMELANG_DEVICE",
        metavar="<device>",
        rich_help_panel=MODEL_PANEL,
        help="auto, cpu, cuda, cuda:N or mps.",
        show_default=False,
    ),
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summaries on stderr.")]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Full tracebacks on errors.")]
Seed = Annotated[int, typer.Option("--seed", help="Random seed: the same seed gives the same result.")]
Model = Annotated[
    str | None,
    typer.Option(
        "--model",
        "-m",
        metavar="<name>",
        rich_help_panel=MODEL_PANEL,
        help="Stored name, folder or 'pretrained'.",
    ),
]
Threads = Annotated[
    int | None,
    typer.Option(
        "--threads",
        min=1,
        envvar="NAMELANG_THREADS",
        rich_help_panel=MODEL_PANEL,
        help="Batches at once \\[default: usable cores]",
        show_default=False,
    ),
]
Split = Annotated[
    str, typer.Option("--split", "-s", metavar="<split>", help="train, val, test, or a CSV of name,label.")
]


def scoring_threads(threads: int | None) -> int:
    """--threads, else the cores this process may run on (a container's or taskset's share)."""
    import os

    if threads is not None:
        return threads
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no affinity mask
        return os.cpu_count() or 1


def workspace(home: Path | None, quiet: bool, verbose: bool) -> Workspace:
    """What every command does first: set the output mode, then resolve the workspace, once (a command
    passes the Workspace on, and takes `workspace.home` where it needs the folder)."""
    render.configure(quiet, verbose)
    home, why = locate_home(home)
    if why == "local":
        render.out.info(
            f"note: using the workspace {home} in this folder, not the per-user one ({user_home()}); "
            "--home or NAMELANG_HOME chooses"
        )
    if home.exists() and not home.is_dir():
        from namelang.errors import NamelangError, literal

        raise NamelangError(
            f"the workspace {literal(home)} is a file, not a folder; choose another --home or NAMELANG_HOME"
        )
    return Workspace(home)


def note_default_model(home: Path, clf) -> None:
    """On stderr, when the default model that `clf` is was chosen before the model trained last: which
    one runs, and how to switch."""
    from namelang.models.store import ModelStore

    latest = ModelStore(home).newer_than_default()
    if latest is None or latest.name == clf.name:
        return
    used = "the pretrained model" if clf.name == "pretrained" else f"the default model, {clf.name}"
    render.out.info(
        f"note: using {used}; your latest, {latest.name}, is not the default: "
        f"namelang models default {latest.name}"
    )


def output_format(machine: Format, allowed: tuple[Format, ...] = ()):
    """The `--format/-f` option of a command whose data is `machine` when not shown as a table."""
    offered = ", ".join(f.value for f in allowed or tuple(Format) if f is not Format.auto)
    return Annotated[
        Format,
        typer.Option(
            "--format",
            "-f",
            metavar="<format>",
            help=f"{offered} \\[default: a table on a terminal, else {machine.value}]",
            show_default=False,
        ),
    ]


def one_blas_thread() -> None:
    """One BLAS thread per process unless the user chose otherwise; call before numpy loads.

    Scoring multiplies small matrices while other threads (reading, writing, an event loop) run beside
    it: OpenBLAS's spinning helper threads then cost more than they give — `predict` on 20,000 distinct
    names took 8.2 s with two BLAS threads and 2.6 s with one on 2 cores, and a server batch 3-8x longer.
    """
    import os

    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")


@dataclasses.dataclass(frozen=True)
class CommonArgs:
    """The options every command's record ends with (`takes` lists them last in its --help)."""

    home: Home = None
    quiet: Quiet = False
    verbose: Verbose = False

    def start(self) -> Workspace:
        """Set the output mode, then resolve the workspace, once (`workspace`)."""
        return workspace(self.home, self.quiet, self.verbose)


def takes(record: type) -> Callable[[Callable], Callable]:
    """A command whose options are the fields of the dataclass `record`: Typer reads each field's
    `Annotated[type, typer.Option(...)]` and default, and the function receives one record.

    A command with twenty options then has one parameter, its options are a value that can be built
    and passed in tests, and the same field names serve the library's own records. A function that
    also names `ctx` gets Click's context (to ask which options were given on the command line)."""
    hints = typing.get_type_hints(record, include_extras=True)
    common = {f.name for f in dataclasses.fields(CommonArgs)}
    ordered = sorted(dataclasses.fields(record), key=lambda f: f.name in common)  # stable: own, then common
    fields = [
        inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default, annotation=hints[f.name])
        for f in ordered
    ]

    def wrap(run: Callable) -> Callable:
        wants_context = "ctx" in inspect.signature(run).parameters
        extra = [inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=typer.Context)]

        @functools.wraps(run)
        def command(**values):
            ctx = values.pop("ctx", None)
            args = record(**values)
            return run(args, ctx=ctx) if wants_context else run(args)

        params = (extra if wants_context else []) + fields
        # Typer must read these options, not the wrapped function's own (record) parameter.
        command.__signature__ = inspect.Signature(params)
        command.__annotations__ = {p.name: p.annotation for p in params}
        del command.__wrapped__
        return command

    return wrap


# A library parameter whose flag is not `--` + its name with dashes (see `namelang.errors`).
_FLAG_OF = {"fmt": "--format"}


def flag_words(name: str, value: str | None) -> str:
    """How the CLI words an option a library error names: `{device=cpu}` -> `--device cpu`."""
    flag = _FLAG_OF.get(name, "--" + name.replace("_", "-"))
    return flag if value is None else f"{flag} {value}"
