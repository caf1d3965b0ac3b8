"""Streamed reading of big name tables (CSV/TSV or one name per line), checked as they are read.

The bytes pass through `CheckedStream`, which rejects invalid UTF-8 and NUL bytes with the line they
are on, and counts what it has read for the progress bar, while pandas parses in chunks.
"""

from __future__ import annotations

import codecs
import io
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from namelang.data.corpus import sniff_delimiter
from namelang.errors import NamelangError

SNIFF_BYTES = 64 * 1024
LINE_SUFFIXES = {".txt", ".lst"}


class CheckedStream(io.RawIOBase):
    """A binary stream that fails on invalid UTF-8 or NUL bytes, naming the source and line."""

    def __init__(self, raw, label: str, prefix: bytes = b""):
        self.raw = raw
        self.label = label
        self.pending = prefix
        self.decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self.lines = 0
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def _check(self, block: bytes, final: bool) -> None:
        nul = block.find(b"\0")
        if nul >= 0:
            line = self.lines + block[:nul].count(b"\n") + 1
            raise NamelangError(f"{self.label}: line {line} has a NUL byte")
        # exc.start counts from the bytes the decoder held back from the last block plus this one.
        held = len(self.decoder.getstate()[0])
        try:
            self.decoder.decode(block, final)
        except UnicodeDecodeError as exc:
            line = self.lines + block[: max(0, exc.start - held)].count(b"\n") + 1
            raise NamelangError(f"{self.label}: line {line} is not valid UTF-8") from None
        self.lines += block.count(b"\n")

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
    stream: CheckedStream
    label: str
    delimiter: str | None  # None: one name per line, no header
    total_bytes: int | None


def open_input(source: str | Path) -> InputTable:
    """Open a CSV/TSV/text file, or `-` for stdin, and sniff its shape."""
    if str(source) == "-":
        raw, label, total, suffix = sys.stdin.buffer, "<stdin>", None, ""
    else:
        path = Path(source)
        if not path.is_file():
            raise NamelangError(f"no such file: {path}")
        raw, label, total, suffix = open(path, "rb"), str(path), path.stat().st_size, path.suffix.lower()
    head = raw.read(SNIFF_BYTES)
    if head.startswith(codecs.BOM_UTF8):
        head = head[len(codecs.BOM_UTF8) :]
    stream = CheckedStream(raw, label, head)
    if suffix in LINE_SUFFIXES:
        return InputTable(stream, label, None, total)
    sample = head.decode("utf-8", errors="replace")
    return InputTable(stream, label, sniff_delimiter(sample, Path(label)), total)


def read_chunks(table: InputTable, chunksize: int) -> Iterator:
    """DataFrames of at most `chunksize` rows, every cell a string, blank lines kept as rows."""
    try:
        yield from _chunks(table, chunksize)
    finally:
        if table.stream.raw is not sys.stdin.buffer:
            table.stream.raw.close()


def _chunks(table: InputTable, chunksize: int) -> Iterator:
    import pandas as pd

    if table.delimiter is None:
        yield from line_chunks(
            io.TextIOWrapper(table.stream, encoding="utf-8", newline=""), chunksize, table.label
        )
        return
    try:
        reader = pd.read_csv(
            table.stream,
            sep=table.delimiter,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
            chunksize=chunksize,
            encoding="utf-8",
        )
        yield from reader
    except pd.errors.EmptyDataError as exc:
        raise NamelangError(f"{table.label} is empty") from exc
    except pd.errors.ParserError as exc:
        raise NamelangError(
            f"{table.label}: cannot parse as a table: {str(exc).strip().splitlines()[0]}"
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
        raise NamelangError(f"{label} is empty: no names to score")
