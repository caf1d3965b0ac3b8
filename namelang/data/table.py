"""Streamed reading of big name tables: CSV/TSV, one name per line, or Parquet, checked as read.

Text passes through `CheckedStream`, which rejects undecodable bytes and NUL characters with the line
they are on, and counts what it has read for the progress bar, while pandas parses it in chunks.
Parquet is read record batch by record batch (pyarrow), never whole, and stays Arrow so that its
schema survives untouched.
"""

from __future__ import annotations

import codecs
import csv
import io
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from namelang.data.corpus import check_encoding, sniff_delimiter
from namelang.errors import NamelangError, literal

SNIFF_BYTES = 64 * 1024
LINE_SUFFIXES = {".txt", ".lst"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
PARQUET_MAGIC = b"PAR1"
PARQUET_INSTALL = 'reading and writing Parquet needs pyarrow: pip install "namelang[parquet]"'


def import_pyarrow():
    try:
        import pyarrow
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise NamelangError(PARQUET_INSTALL) from None
    return pyarrow


class CheckedStream(io.RawIOBase):
    """A binary stream that fails on undecodable bytes or NUL characters, naming the source and line."""

    def __init__(self, raw, label: str, prefix: bytes = b"", encoding: str = "utf-8"):
        self.raw = raw
        self.label = label
        self.pending = prefix
        self.encoding = encoding
        self.decoder = codecs.getincrementaldecoder(encoding)("strict")
        self.lines = 0
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def _check(self, block: bytes, final: bool) -> None:
        # exc.start counts from the bytes the decoder held back from the last block plus this one.
        held = self.decoder.getstate()[0]
        try:
            text = self.decoder.decode(block, final)
        except UnicodeDecodeError as exc:
            before = codecs.decode(held + block[: max(0, exc.start - len(held))], self.encoding, "ignore")
            line = self.lines + before.count("\n") + 1
            raise NamelangError(
                f"{literal(self.label)}: line {line} is not valid {literal(self.encoding.upper())}; "
                "pass {encoding} if the file uses another (e.g. {encoding=latin-1})"
            ) from None
        nul = text.find("\0")
        if nul >= 0:
            raise NamelangError(
                f"{literal(self.label)}: line {self.lines + text[:nul].count(chr(10)) + 1} has a NUL byte"
            )
        self.lines += text.count("\n")

    def read(self, size: int = -1) -> bytes:
        if self.pending:
            block, self.pending = (
                (self.pending, b"") if size < 0 else (self.pending[:size], self.pending[size:])
            )
        else:
            block = self.raw.read() if size is None or size < 0 else self.raw.read(size)
        self._check(block, final=not block)
        self.bytes_read += len(block)
        return block

    def readinto(self, buffer) -> int:
        block = self.read(len(buffer))
        buffer[: len(block)] = block
        return len(block)


@dataclass
class InputTable:
    """A text table: `delimiter` None means one name per line, no header; `header` as written."""

    stream: CheckedStream
    label: str
    delimiter: str | None
    total_bytes: int | None
    header: list[str] = field(default_factory=list)

    @property
    def progress(self) -> tuple[int, int | None]:
        """(done, total) in bytes; total None on stdin."""
        return self.stream.bytes_read, self.total_bytes


@dataclass
class ParquetTable:
    """A Parquet file read batch by batch; progress counts rows."""

    file: object  # pyarrow.parquet.ParquetFile
    label: str
    rows_read: int = 0

    @property
    def header(self) -> list[str]:
        return list(self.file.schema_arrow.names)

    @property
    def progress(self) -> tuple[int, int | None]:
        """(done, total) in rows."""
        return self.rows_read, self.file.metadata.num_rows


@dataclass
class NamesTable:
    """Names given as a list (command-line arguments), as a one-column table `name`."""

    names: list[str]
    label: str = "<arguments>"
    header: list[str] = field(default_factory=lambda: ["name"])
    rows_read: int = 0

    @property
    def progress(self) -> tuple[int, int | None]:
        return self.rows_read, len(self.names)


def is_parquet(source: str | Path) -> bool:
    path = Path(source)
    if path.suffix.lower() in PARQUET_SUFFIXES:
        return True
    if str(source) == "-" or not path.is_file():
        return False
    with open(path, "rb") as handle:
        return handle.read(4) == PARQUET_MAGIC


def open_table(source: str | Path, encoding: str = "utf-8", lines: bool = False):
    """An `InputTable` or `ParquetTable` for a path, or `-` for stdin (`lines`: one name per line)."""
    if str(source) != "-" and not Path(source).is_file():
        raise NamelangError(f"no such file: {literal(source)}")
    if is_parquet(source):
        return open_parquet(Path(source))
    return open_input(source, encoding, lines)


def open_parquet(path: Path) -> ParquetTable:
    pa = import_pyarrow()
    try:
        return ParquetTable(pa.parquet.ParquetFile(path), str(path))
    except (pa.ArrowException, OSError) as exc:
        raise NamelangError(f"{literal(path)}: cannot read as Parquet: {literal(exc)}") from exc


def open_input(source: str | Path, encoding: str = "utf-8", lines: bool = False) -> InputTable:
    """Open a CSV/TSV/text file, or `-` for stdin, and sniff its shape and header."""
    encoding = check_encoding(encoding)
    if str(source) == "-":
        raw, label, total, suffix = sys.stdin.buffer, "<stdin>", None, ""
    else:
        path = Path(source)
        if not path.is_file():
            raise NamelangError(f"no such file: {literal(path)}")
        raw, label, total, suffix = open(path, "rb"), str(path), path.stat().st_size, path.suffix.lower()
    head = raw.read(SNIFF_BYTES)
    if encoding in ("utf-8", "utf-8-sig") and head.startswith(codecs.BOM_UTF8):
        head = head[len(codecs.BOM_UTF8) :]
    stream = CheckedStream(raw, label, head, encoding)
    if lines or suffix in LINE_SUFFIXES:
        return InputTable(stream, label, None, total, ["name"])
    sample = head.decode(encoding, errors="replace")
    delimiter = sniff_delimiter(sample, Path(label))
    header = next(csv.reader(io.StringIO(sample), delimiter=delimiter), [])
    return InputTable(stream, label, delimiter, total, header)


def read_chunks(table, chunksize: int) -> Iterator:
    """Chunks of at most `chunksize` rows: pandas frames of strings (text; blank lines kept as rows),
    Arrow record batches (Parquet), or for names given as a list, lists of (column, values) (no pandas).
    A header-only CSV gives one empty frame."""
    if isinstance(table, ParquetTable):
        yield from _parquet_batches(table, chunksize)
        return
    if isinstance(table, NamesTable):
        for start in range(0, len(table.names), chunksize):
            table.rows_read = min(start + chunksize, len(table.names))
            yield [("name", table.names[start : start + chunksize])]
        return
    try:
        yield from _chunks(table, chunksize)
    finally:
        if table.stream.raw is not sys.stdin.buffer:
            table.stream.raw.close()


def _parquet_batches(table: ParquetTable, chunksize: int) -> Iterator:
    empty = True
    for batch in table.file.iter_batches(batch_size=chunksize):
        table.rows_read += batch.num_rows
        empty = False
        yield batch
    if empty:  # a file with no rows still has a schema to write out
        import pyarrow as pa

        schema = table.file.schema_arrow
        yield pa.RecordBatch.from_arrays([pa.array([], type=f.type) for f in schema], schema=schema)


def _chunks(table: InputTable, chunksize: int) -> Iterator:
    import pandas as pd

    if table.delimiter is None:
        text = io.TextIOWrapper(table.stream, encoding=table.stream.encoding, newline="")
        yield from line_chunks(text, chunksize, table.label)
        return
    try:
        reader = pd.read_csv(
            table.stream,
            sep=table.delimiter,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
            chunksize=chunksize,
            encoding=table.stream.encoding,
        )
        yield from reader
    except pd.errors.EmptyDataError as exc:
        raise NamelangError(f"{literal(table.label)} is empty") from exc
    except pd.errors.ParserError as exc:
        raise NamelangError(
            f"{literal(table.label)}: cannot parse as a table: {literal(str(exc).strip().splitlines()[0])}"
        ) from exc


def line_chunks(lines, chunksize: int, label: str, column: str = "name") -> Iterator:
    """One name per line (no header) as DataFrames with a single `name` column; no line at all is an error."""
    import pandas as pd

    batch: list[str] = []
    seen = False
    for line in lines:
        seen = True
        batch.append(line.rstrip("\r\n"))
        if len(batch) >= chunksize:
            yield pd.DataFrame({column: batch})
            batch = []
    if batch:
        yield pd.DataFrame({column: batch})
    if not seen:
        raise NamelangError(f"{literal(label)} is empty: no names to score")
