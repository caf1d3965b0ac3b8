"""Where scored chunks go: CSV/TSV, JSON or JSON Lines on a text stream, or one Parquet file.

A chunk is a pandas frame, an Arrow record batch, or a list of (column, values) (names scored without
pandas); the records and cells are `records.py`'s, the same as the server's.
"""

from __future__ import annotations

import csv
from pathlib import Path

from namelang.scoring.columns import RECORD_FORMATS, PredictionColumns

# records.py (numpy) is imported by the sinks that write: a command module can subclass `Sink` and
# keep `--help` free of numpy.


class Sink:
    """Receives `tag_file`'s scored chunks: `write(chunk)` for each, in order, then `close()` once.
    Subclass it to take the chunks yourself (e.g. to keep them, or to show them)."""

    def write(self, chunk) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass


def to_frame(chunk):
    """A chunk as a pandas frame; an integer column with nulls stays integers (1, not 1.000000), as
    Dask writes it."""
    return chunk if hasattr(chunk, "iloc") else chunk.to_pandas(integer_object_nulls=True)


def named_columns(chunk) -> list[tuple[str, object]]:
    """A chunk's (column, values), in order (a frame's repeated header keeps pandas' names)."""
    if isinstance(chunk, list):
        return chunk
    frame = to_frame(chunk)
    return [(column, frame.iloc[:, i]) for i, column in enumerate(frame.columns)]


class JsonFraming:
    """Encoded records on a text stream: a JSON array (`json`, one record a line) or JSON Lines."""

    def __init__(self, handle, fmt: str):
        self.handle, self.fmt = handle, fmt
        self.first = True

    def write(self, texts: list[str]) -> None:
        if not texts:
            return
        if self.fmt == "jsonl":
            self.handle.write("\n".join(texts) + "\n")
        else:
            self.handle.write(("[\n  " if self.first else ",\n  ") + ",\n  ".join(texts))
        self.first = False

    def close(self) -> None:
        if self.fmt == "json":
            self.handle.write("[]\n" if self.first else "\n]\n")


class TextSink(Sink):
    """Scored chunks as CSV/TSV (header as the input wrote it), JSON or JSON Lines on a text stream."""

    def __init__(self, handle, fmt: str, header: list[str], columns: PredictionColumns):
        """`header`: the input's; `columns.check_clash(header, fmt)` has refused a JSON record's clash."""
        self.handle, self.fmt, self.columns = handle, fmt, columns
        self.header = [*header, *columns.names]
        self.json = JsonFraming(handle, fmt) if fmt in RECORD_FORMATS else None
        self.first = True

    def write(self, chunk) -> None:
        from namelang.scoring.records import json_texts

        if self.json is not None:
            self.json.write(json_texts(named_columns(chunk), self.columns))
        else:
            self._csv(chunk, "\t" if self.fmt == "tsv" else ",")
        self.first = False

    def _csv(self, chunk, sep: str) -> None:
        """pandas' `to_csv` output, through the same csv.writer, without its per-cell Python formatting
        (two thirds of the time of a 65,536-row chunk): strings pass through, floats are `%.6f`."""
        from namelang.scoring.records import csv_cells

        cells = [csv_cells(values) for _, values in named_columns(chunk)]
        if any(c is None for c in cells):  # other types (ints, dates) as pandas writes them
            to_frame(chunk).to_csv(self.handle, index=False, header=self.header if self.first else False,
                                   sep=sep, float_format="%.6f", lineterminator="\n")  # fmt: skip
            return
        writer = csv.writer(self.handle, delimiter=sep, lineterminator="\n")
        if self.first:
            writer.writerow(self.header)
        writer.writerows(zip(*cells))

    def close(self) -> None:
        if self.json is not None:
            self.json.close()


class ParquetSink(Sink):
    """Scored chunks as the row groups of one Parquet file."""

    def __init__(self, path: Path, columns: PredictionColumns):
        from namelang.data.table import import_pyarrow

        self.pa = import_pyarrow()
        self.path, self.columns = path, columns
        self.writer = None

    def write(self, chunk) -> None:
        if isinstance(chunk, list):  # names given as a list
            schema = self.columns.text_schema([column for column, _ in chunk])
            arrays = [
                self.pa.array(values, type=f.type, from_pandas=True) for f, (_, values) in zip(schema, chunk)
            ]
            chunk = self.pa.RecordBatch.from_arrays(arrays, schema=schema)
        elif hasattr(chunk, "iloc"):  # a text input
            schema = self.columns.text_schema(list(chunk.columns))
            chunk = self.pa.RecordBatch.from_pandas(chunk, schema=schema, preserve_index=False)
        if self.writer is None:
            self.writer = self.pa.parquet.ParquetWriter(self.path, chunk.schema)
        self.writer.write_batch(chunk)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
