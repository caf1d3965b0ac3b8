"""`namelang confusion`: the confusion matrix as a terminal heat-map, a PNG and a CSV, plus the worst pairs."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from namelang.cli import options, render
from namelang.cli.render import Format, out

ConfusionFormat = options.output_format(Format.csv, (Format.table, Format.csv, Format.json))


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


def cell_text(value: float, normalized: bool) -> str:
    """A cell as printed: a percentage or a count; blank where it would print as 0 (tiny or none)."""
    text = f"{value * 100:.0f}" if normalized else f"{value:.0f}"
    return "" if text in ("0", "-0") else text


def _shade(share: float):
    """Near-white to deep blue as `share` goes from 0 to 1; light text on the dark end."""
    from rich.style import Style

    r, g, b = (int(250 - 222 * share), int(250 - 180 * share), int(250 - 90 * share))
    return Style(bgcolor=f"rgb({r},{g},{b})", color="white" if share > 0.5 else "black")


def heatmap(matrix, labels: list[str], normalized: bool, title: str, width: int = 80):
    """The matrix as a table shaded by value: full row labels when it fits `width`, else a compact view."""
    from rich.text import Text

    short = abbreviations(labels)
    peak = float(matrix.max()) or 1.0

    def rows(row_labels):
        for i, label in enumerate(row_labels):
            cells = [
                Text(f" {cell_text(float(v), normalized):>3}", style=_shade(float(v) / peak))
                for v in matrix[i]
            ]
            yield (label, *cells)

    columns = [("true \\ pred", "left")] + [(s, "right") for s in short]
    full = render.table(title, columns, list(rows(labels)), padding=(0, 0))
    if render.width_of(full) <= width:
        return full
    caption = "compact: rows true, columns predicted; --csv/--output for the full matrix"
    return render.table(
        title,
        [("", "left")] + columns[1:],
        list(rows(short)),
        padding=(0, 0),
        box=None,
        caption=caption,
        caption_justify="left",
        show_edge=False,
    )


def pairs_table(pairs: list[dict]):
    rows = [
        (f"{p['true']} → {p['predicted']}", f"{p['share'] * 100:.0f}%", f"{p['count']:,} of {p['of']:,}")
        for p in pairs
    ]
    return render.table(
        "most confused", [("true → predicted", "left"), ("share", "right"), ("names", "right")], rows
    )


@dataclass(frozen=True)
class ConfusionArgs(options.CommonArgs):
    model: options.Model = None
    split: options.Split = "test"
    normalize: Annotated[Normalize, typer.Option("--normalize", help="Divide by row, column or total.")] = (
        Normalize.true
    )
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the figure here (PNG).")] = None
    csv: Annotated[
        Path | None, typer.Option("--csv", help="Write the matrix here (labels as header and index).")
    ] = None
    top: Annotated[int, typer.Option("--top", min=0, help="How many most-confused pairs to list.")] = 10
    fmt: ConfusionFormat = Format.auto
    device: options.Device = "auto"

    def figure(self) -> Path | None:
        """--output as a PNG path: a name without a suffix gets `.png`."""
        if self.output is not None and not self.output.suffix:
            return self.output.with_suffix(".png")
        return self.output


@options.takes(ConfusionArgs)
def confusion_cmd(args: ConfusionArgs) -> None:
    """The confusion matrix (rows true, columns predicted) and the most-confused pairs."""
    from namelang.data.split import read_split
    from namelang.evaluation import confusion, most_confused, score
    from namelang.inference import Classifier

    workspace = args.start()
    fmt = out.resolve(args.fmt, Format.csv, allowed=(Format.table, Format.csv, Format.json))
    png = args.figure()
    for path in (png, args.csv):
        if path is not None:
            render.check_writable_folder(path)
    names, labels, path = read_split(workspace.home, args.split)
    clf = Classifier.load(args.model, workspace, args.device)
    render.model_in_use(clf)
    scored = score(clf, names, labels, source=str(path))
    matrix, counts = confusion(scored, args.normalize.value)
    normalized = args.normalize is not Normalize.none
    title = f"{clf.name} on {path.name} ({len(scored.y_true):,} names), {_scale(args.normalize)}"
    _write_files(matrix, clf.labels, title, normalized, png, args.csv)
    pairs = most_confused(counts, clf.labels, args.top)
    if fmt is Format.csv:
        out.records(matrix_records(matrix, clf.labels), fmt)
    elif fmt is Format.json:
        out.json(
            {
                "labels": clf.labels,
                "normalize": args.normalize.value,
                "matrix": matrix.tolist(),
                "pairs": pairs,
            }
        )
    else:
        out.show(heatmap(matrix, clf.labels, normalized, title, out.console().width))
        if pairs:
            out.show(pairs_table(pairs))


def _scale(normalize: Normalize) -> str:
    """What the matrix's numbers are, for its title."""
    if normalize is Normalize.true:
        return "% of each true row"
    return "counts" if normalize is Normalize.none else f"normalised by {normalize.value}"


def matrix_records(matrix, labels: list[str]) -> list[dict]:
    """The matrix as rows: the true label, then one column per predicted label (as the --csv file)."""
    return [{"true": label, **dict(zip(labels, map(float, row)))} for label, row in zip(labels, matrix)]


def _write_files(matrix, labels, title, normalized, png: Path | None, csv: Path | None) -> None:
    from namelang.workspace import atomic_path

    if png is not None:
        from namelang.plots import confusion_heatmap

        with atomic_path(png, suffix=".png") as tmp:
            confusion_heatmap(matrix, labels, tmp, title, normalized)
        out.info(f"wrote {png}")
    if csv is not None:
        import pandas as pd

        with atomic_path(csv) as tmp:
            pd.DataFrame(matrix, index=labels, columns=labels).to_csv(tmp, float_format="%.6f")
        out.info(f"wrote {csv}")


def register(app: typer.Typer) -> None:
    app.command("confusion")(confusion_cmd)
