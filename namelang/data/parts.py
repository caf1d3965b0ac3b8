"""A table in parts, as the Dask engine reads it: a file, a glob or a folder of CSV/TSV/text/Parquet parts.

Every part's header (Parquet: schema) is read on the client first and found like the first part's, so
a part that differs is one line naming it rather than a failure on a worker mid-run. Dask does the
reading (`read_csv(blocksize=…)`, `read_parquet`); a CSV read in several blocks is checked for quoted
line breaks, which a block boundary may cut.
"""

from __future__ import annotations

import contextlib
import csv
import glob
from dataclasses import dataclass
from pathlib import Path

from namelang.data.table import SNIFF_BYTES, is_parquet, open_input
from namelang.errors import NamelangError, literal

TABLE_SUFFIXES = {".csv", ".tsv", ".tab", ".txt", ".parquet", ".pq"}
LINE_BREAK = ("{}: a quoted field holds a line break, and a CSV bigger than the block size is read in "
              "blocks that may cut it: use a {{blocksize}} over the file's size, or Parquet")  # fmt: skip


def input_paths(source: str | Path) -> list[Path]:
    """A file, a glob, or a folder of table parts, in name order (the input's order)."""
    text = str(source)
    if Path(text).is_dir():
        paths = [p for p in sorted(Path(text).iterdir()) if p.suffix.lower() in TABLE_SUFFIXES]
        what = f"no CSV or Parquet parts in the folder {literal(text)}"
    elif glob.has_magic(text):
        paths = [Path(p) for p in sorted(glob.glob(text)) if Path(p).is_file()]
        what = f"no files match {literal(text)!r}"
    else:
        paths = [Path(text)] if Path(text).is_file() else []
        what = f"no such file: {literal(text)}"
    if not paths:
        raise NamelangError(what)
    if len({is_parquet(p) for p in paths}) > 1:
        raise NamelangError(f"{literal(text)}: mixes Parquet and text files; give one kind")
    return paths


@dataclass
class Plan:
    """What to read and how, resolved on the client before any work is sent."""

    paths: list[Path]
    parquet: bool
    header: list[str]  # as the first part writes it
    delimiter: str | None  # '\n': one name a line, no header; None for Parquet
    schema: object  # pyarrow schema of a Parquet input, else None


def plan_input(source, encoding: str) -> Plan:
    """The plan, once every part's header (or Parquet schema) is read and found like the first's."""
    paths = input_paths(source)
    if is_parquet(paths[0]):
        schemas = [_parquet_schema(path) for path in paths]
        for path, schema in zip(paths[1:], schemas[1:]):
            _same_columns(path, paths[0], list(schema.names), list(schemas[0].names))
            for field in schemas[0]:
                if schema.field(field.name).type != field.type:
                    raise NamelangError(f"{literal(path)}: column {literal(field.name)!r} is {schema.field(field.name).type}, "
                                        f"in {literal(paths[0].name)} {field.type}; every part needs the same columns")  # fmt: skip
        return Plan(paths, True, list(schemas[0].names), None, schemas[0])
    shapes = [_text_shape(path, encoding) for path in paths]
    for path, (header, delimiter) in zip(paths[1:], shapes[1:]):
        if delimiter != shapes[0][1]:
            raise NamelangError(f"{literal(path)}: separated by {literal(delimiter)!r}, {literal(paths[0].name)} by {literal(shapes[0][1])!r}; "
                                "every part needs the same separator")  # fmt: skip
        _same_columns(path, paths[0], header, shapes[0][0])
    return Plan(paths, False, shapes[0][0], shapes[0][1], None)


def _parquet_schema(path: Path):
    import pyarrow.parquet as pq

    try:
        return pq.read_schema(path)
    except Exception as exc:  # pyarrow raises several kinds for a file that is not Parquet
        raise NamelangError(f"{literal(path)}: cannot read as Parquet: {literal(exc)}") from exc


def _text_shape(path: Path, encoding: str) -> tuple[list[str], str]:
    """(header, delimiter) of a text part; '\n' for one name per line."""
    table = open_input(path, encoding)
    try:
        table.stream.read(SNIFF_BYTES)  # the sniffed head, checked against the encoding
    finally:
        table.stream.raw.close()
    return table.header or ["name"], table.delimiter or "\n"


def _same_columns(path: Path, first: Path, header: list[str], expected: list[str]) -> None:
    if header == expected:
        return
    missing = [c for c in expected if c not in header]
    extra = [c for c in header if c not in expected]
    what = f"no column {literal(missing[0])!r}" if missing else "columns in another order"
    if extra and not missing:
        what = f"an extra column {literal(extra[0])!r}"
    raise NamelangError(f"{literal(path)}: {what} (columns: {literal(', '.join(map(str, header)))}; "
                        f"{literal(first.name)} has {literal(', '.join(map(str, expected)))}); every part needs the same columns")  # fmt: skip


def read_dataframe(plan: Plan, encoding: str, blocksize: str | int, label: str = ""):
    """The input as a Dask frame; a CSV read in several blocks is checked for quoted line breaks."""
    frames = _read_frames(plan, encoding, blocksize)
    if _split(plan, blocksize):
        frames = frames.map_partitions(check_line_breaks, label or str(plan.paths[0]), meta=frames._meta)
    return frames


def _read_frames(plan: Plan, encoding: str, blocksize: str | int):
    import dask.dataframe as dd

    files = [str(p) for p in plan.paths]
    if plan.parquet:
        return dd.read_parquet(files, dtype_backend="pyarrow", blocksize=blocksize)
    if plan.delimiter == "\n":  # one name per line, no header
        return dd.read_csv(files, header=None, names=["name"], sep="\x1f", dtype=str, keep_default_na=False,
                           skip_blank_lines=False, blocksize=blocksize, encoding=encoding,
                           quoting=csv.QUOTE_NONE)  # fmt: skip  # a line is a name, quotes and all
    return dd.read_csv(files, sep=plan.delimiter, dtype=str, keep_default_na=False, skip_blank_lines=False,
                       blocksize=blocksize, encoding=encoding)  # fmt: skip


def _split(plan: Plan, blocksize) -> bool:
    """Whether a quoted CSV file is read in more than one block."""
    from dask.utils import parse_bytes

    if plan.parquet or plan.delimiter == "\n" or blocksize is None:
        return False
    size = parse_bytes(blocksize) if isinstance(blocksize, str) else blocksize
    return any(path.stat().st_size > size for path in plan.paths)


def check_line_breaks(frame, label: str):
    """A partition of a CSV read in blocks must hold no line break in a cell: a block boundary may cut a
    quoted one, so whether such a file reads would depend on where the boundaries land."""
    for column in frame.columns:
        cells = frame[column]
        if cells.dtype == object or str(cells.dtype).startswith("str"):
            if cells.str.contains("\n", regex=False).any():
                raise NamelangError(LINE_BREAK.format(literal(label)))
    return frame


@contextlib.contextmanager
def data_errors(label: str, encoding: str):
    """What a worker found wrong with the data, as one line."""
    import pandas as pd

    try:
        yield
    except pd.errors.ParserError as exc:
        if "inside string" in str(exc):  # a block that ends inside a quoted line break
            raise NamelangError(LINE_BREAK.format(literal(label))) from None
        raise NamelangError(
            f"{literal(label)}: cannot parse as a table: {literal(str(exc).strip().splitlines()[0])}"
        ) from None
    except UnicodeDecodeError:
        raise NamelangError(f"{literal(label)}: not valid {literal(encoding.upper())}; pass {{encoding}} if the file uses "
                            "another (e.g. {encoding=latin-1})") from None  # fmt: skip
