"""`namelang confusion`: the confusion matrix as a terminal heat-map, a PNG and a CSV, plus the worst pairs."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated

import typer

from namelang.cli import options, render


class Normalize(str, enum.Enum):
    true = "true"
    pred = "pred"
    all = "all"
    none = "none"


def abbreviations(labels: list[str], width: int = 3) -> list[str]:
    """Shortest unique prefixes of at least `width` characters, for column headings."""
    size = width
    while size < max(map(len, labels), default=0):
        short = [label[:size] for label in labels]
        if len(set(short)) == len(short):
            return short
        size += 1
    return list(labels)


def heatmap(matrix, labels: list[str], normalized: bool, title: str):
    """A Rich table whose cells are shaded by value: white to deep blue."""
    from rich.style import Style
    from rich.table import Table

    peak = float(matrix.max()) or 1.0
    tbl = Table(title=title, title_justify="left", padding=(0, 0), show_lines=False)
    tbl.add_column("true \\ predicted", no_wrap=True)
    for short in abbreviations(labels):
        tbl.add_column(short, justify="right", no_wrap=True, min_width=4)
    for i, label in enumerate(labels):
        cells = []
        for j in range(len(labels)):
            value = float(matrix[i][j])
            share = value / peak
            # Linear ramp from near-white to a deep blue; light text on the dark end.
            r, g, b = (int(250 - 222 * share), int(250 - 180 * share), int(250 - 90 * share))
            text = "" if value == 0 else (f"{value * 100:.0f}" if normalized else f"{int(value)}")
            style = Style(bgcolor=f"rgb({r},{g},{b})", color="white" if share > 0.5 else "black")
            cells.append((f" {text:>3}", style))
        tbl.add_row(label, *[_styled(t, s) for t, s in cells])
    return tbl


def _styled(text: str, style):
    from rich.text import Text

    return Text(text, style=style)


def confusion_cmd(
    model: options.Model = None,
    split: options.Split = "test",
    normalize: Annotated[Normalize, typer.Option("--normalize", help="Divide by row, column or total.")] = (
        Normalize.true
    ),
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the figure here (PNG).")
    ] = None,
    csv: Annotated[
        Path | None, typer.Option("--csv", help="Write the matrix here (labels as header and index).")
    ] = None,
    top: Annotated[int, typer.Option("--top", min=0, help="How many most-confused pairs to list.")] = 10,
    device: options.Device = "auto",
    home: options.Home = None,
    quiet: options.Quiet = False,
    verbose: options.Verbose = False,
) -> None:
    """The confusion matrix (rows true, columns predicted) and the most-confused pairs."""
    from namelang.data.split import read_split
    from namelang.evaluation import confusion, most_confused, score
    from namelang.inference import Classifier
    from namelang.workspace import atomic_path

    home = options.start(home, quiet, verbose)
    names, labels, path = read_split(home, split)
    clf = Classifier.load(model, home, device)
    render.model_in_use(clf)
    scored = score(clf, names, labels, source=str(path))
    matrix, counts = confusion(scored, normalize.value)
    normalized = normalize is not Normalize.none
    title = f"{clf.name} on {path.name} ({len(scored.y_true):,} names)" + (
        f", normalised by {normalize.value}" if normalized else ", counts"
    )
    if output is not None:
        from namelang.plots import confusion_heatmap

        if output.suffix.lower() != ".png":
            output = output.with_suffix(".png") if not output.suffix else output
        with atomic_path(output, suffix=".png") as tmp:
            confusion_heatmap(matrix, clf.labels, tmp, title, normalized)
        render.info(f"wrote {output}")
    if csv is not None:
        import pandas as pd

        with atomic_path(csv) as tmp:
            pd.DataFrame(matrix, index=clf.labels, columns=clf.labels).to_csv(tmp, float_format="%.6f")
        render.info(f"wrote {csv}")
    console = render.stdout()
    console.print(
        heatmap(matrix, clf.labels, normalized, title + (" — % of row" if normalize.value == "true" else ""))
    )
    pairs = most_confused(counts, clf.labels, top)
    if pairs:
        rows = [
            (f"{p['true']} → {p['predicted']}", f"{p['share'] * 100:.0f}%", f"{p['count']:,} of {p['of']:,}")
            for p in pairs
        ]
        console.print(
            render.table(
                "most confused", [("true → predicted", "left"), ("share", "right"), ("names", "right")], rows
            )
        )


def register(app: typer.Typer) -> None:
    app.command("confusion")(confusion_cmd)
