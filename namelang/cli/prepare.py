"""`namelang prepare`: normalise, deduplicate and group-split a corpus into <home>/prepared/."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from namelang.cli import options, render


def prepare_cmd(
    source: Annotated[
        Path | None,
        typer.Argument(
            help="Folder of <Label>.txt files or a CSV/TSV of (name, label) rows \\[default: <home>/raw/]."
        ),
    ] = None,
    name_column: Annotated[
        str, typer.Option("--name-column", help="Name column of a CSV/TSV source.")
    ] = "name",
    label_column: Annotated[
        str, typer.Option("--label-column", help="Label column of a CSV/TSV source.")
    ] = "label",
    val: Annotated[float, typer.Option("--val", help="Fraction of distinct names for validation.")] = 0.1,
    test: Annotated[
        float, typer.Option("--test", help="Fraction of distinct names for the test split.")
    ] = 0.1,
    seed: options.Seed = 0,
    ascii_only: Annotated[
        bool, typer.Option("--ascii", help="Reduce names to ASCII letters, as the tutorial's unicodeToAscii.")
    ] = False,
    home: options.Home = None,
    quiet: options.Quiet = False,
    verbose: options.Verbose = False,
) -> None:
    """Normalise, deduplicate and split names into train/val/test tables with a manifest."""
    from namelang.data.corpus import read_corpus
    from namelang.data.download import raw_dir
    from namelang.data.split import SPLITS, check_fractions, prepare
    from namelang.errors import NamelangError

    home = options.start(home, quiet, verbose)
    check_fractions(val, test)
    if source is None:
        source = raw_dir(home)
        if not source.exists():
            raise NamelangError(f"nothing to prepare: {source} does not exist; run `namelang download` first")
    corpus = read_corpus(source, name_column, label_column)
    result = prepare(
        corpus,
        home,
        val=val,
        test=test,
        seed=seed,
        ascii_only=ascii_only,
        options={"name_column": name_column, "label_column": label_column},
    )
    for message in result.warnings:
        render.warn(message)
    m = result.manifest
    rows = [(label, *(f"{m['counts'][s][label]:,}" for s in SPLITS)) for label in m["labels"]]
    footer = ["total", *(f"{m['totals'][s]:,}" for s in SPLITS)]
    columns = [("label", "left")] + [(s, "right") for s in SPLITS]
    render.out.summary(render.table(f"{result.folder}", columns, rows, footer))
    render.info(
        f"{m['rows_read']:,} rows read, {m['blank_rows_dropped']:,} blank dropped, "
        f"{m['duplicates_dropped']:,} duplicates dropped, {m['distinct_names']:,} distinct names "
        f"({m['names_with_several_labels']['count']:,} with several labels), "
        f"{len(m['labels'])} labels, {len(m['alphabet'])} characters"
    )


def register(app: typer.Typer) -> None:
    app.command("prepare")(prepare_cmd)
