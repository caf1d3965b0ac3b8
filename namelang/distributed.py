"""The Dask engine of `predict`: read a table's parts, tag each partition, write parts, on a Dask cluster.

Dask does the partitioning and the scheduling (`read_csv(blocksize=…)`/`read_parquet`,
`map_partitions(…, meta=…)`, `to_parquet`/`to_csv`); this module only says what to run on a
partition: `tagging.Tagger`, the same step as the one-process engine, so both give the same rows.
Workers need not share a disk with the client: the model goes to them as data (its card and the bytes
of its tensors), is loaded once per worker process and runs on the numpy engine, without torch.
"""

from __future__ import annotations

import contextlib
import csv
import glob
import hashlib
import logging
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from namelang.errors import NamelangError
from namelang.models.card import ModelCard

DASK_INSTALL = 'predict --engine dask needs Dask: pip install "namelang[dask]"'
TABLE_SUFFIXES = {".csv", ".tsv", ".tab", ".txt", ".parquet", ".pq"}
PART = "part-{:05d}"


def import_dask():
    try:
        import dask.dataframe  # noqa: F401
        import distributed  # noqa: F401
        import pyarrow  # noqa: F401
    except ImportError:
        raise NamelangError(DASK_INSTALL) from None


@dataclass(frozen=True)
class ModelPayload:
    """What a worker needs to run a model, as data: its card, its weights' bytes and its lexicon's."""

    name: str
    card: ModelCard
    weights: bytes
    lexicon: bytes | None = None  # models/lexicon.py: the training names answer from it on workers too

    @classmethod
    def load(cls, model: str | Path | None = None, home: str | Path | None = None) -> ModelPayload:
        """The store's model (a name, a folder, 'pretrained', or None for the default) as a payload."""
        from namelang.models.store import ModelStore

        found = ModelStore(home).load(model)
        if found.members():
            raise NamelangError(f"{found.name} is an ensemble; --engine dask sends single models only")
        return cls(found.name, found.card, found.weights().read_bytes(), found.lexicon_bytes())

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.weights + (self.lexicon or b"")).hexdigest()


_lock = threading.Lock()
_classifiers: dict[str, object] = {}  # per worker process: payload digest -> Classifier
_taggers = threading.local()  # per worker thread: the name cache is not shared between threads


def classifier_from(payload: ModelPayload):
    """The payload's Classifier, loaded once per process (checked like any model folder, then removed)."""
    from namelang.inference import Classifier
    from namelang.models import store

    with _lock:
        if payload.digest not in _classifiers:
            folder = Path(tempfile.mkdtemp(prefix="namelang-model-"))
            try:
                (folder / store.WEIGHTS).write_bytes(payload.weights)
                (folder / store.CARD).write_text(payload.card.to_json(), encoding="utf-8")
                if payload.lexicon is not None:
                    (folder / store.LEXICON).write_bytes(payload.lexicon)
                clf = Classifier.load(folder, device="cpu")
            finally:
                shutil.rmtree(folder, ignore_errors=True)
            clf.name = payload.name
            _classifiers[payload.digest] = clf
        return _classifiers[payload.digest]


def tag_partition(frame, payload: ModelPayload, position: int, top_k: int, prefix: str, min_prob: float,
                  nulls: bool, explain: bool = False):  # fmt: skip
    """One partition, tagged on a worker: the same `Tagger` step as the one-process engine."""
    from namelang.tagging import Tagger

    key = (payload.digest, position, top_k, prefix, min_prob, nulls, explain)
    taggers = getattr(_taggers, "by_key", None)
    if taggers is None:
        taggers = _taggers.by_key = {}
    if key not in taggers:
        clf = classifier_from(payload)
        taggers[key] = Tagger(clf, position, top_k, prefix, min_prob, nulls=nulls, explain=explain)
    return taggers[key].frame(frame)


def input_paths(source: str | Path) -> list[Path]:
    """A file, a glob, or a folder of table parts, in name order (the input's order)."""
    text = str(source)
    if Path(text).is_dir():
        paths = [p for p in sorted(Path(text).iterdir()) if p.suffix.lower() in TABLE_SUFFIXES]
        what = f"no CSV or Parquet parts in the folder {text}"
    elif glob.has_magic(text):
        paths = [Path(p) for p in sorted(glob.glob(text)) if Path(p).is_file()]
        what = f"no files match {text!r}"
    else:
        paths = [Path(text)] if Path(text).is_file() else []
        what = f"no such file: {text}"
    if not paths:
        raise NamelangError(what)
    kinds = {is_parquet_path(p) for p in paths}
    if len(kinds) > 1:
        raise NamelangError(f"{text}: mixes Parquet and text files; give one kind")
    return paths


def is_parquet_path(path: Path) -> bool:
    from namelang.data.table import is_parquet

    return is_parquet(path)


@dataclass
class Plan:
    """What to read and how, resolved on the client before any work is sent."""

    paths: list[Path]
    parquet: bool
    header: list[str]  # as the first part writes it
    delimiter: str | None
    schema: object  # pyarrow schema of a Parquet input, else None


def plan_input(source, encoding: str) -> Plan:
    """The plan, once every part's header (or Parquet schema) is read and found like the first's:
    cheap, and a part that differs is named here rather than failing on a worker mid-run."""
    paths = input_paths(source)
    if is_parquet_path(paths[0]):
        schemas = [_parquet_schema(path) for path in paths]
        for path, schema in zip(paths[1:], schemas[1:]):
            _same_columns(path, paths[0], list(schema.names), list(schemas[0].names))
            for field in schemas[0]:
                if schema.field(field.name).type != field.type:
                    raise NamelangError(f"{path}: column {field.name!r} is {schema.field(field.name).type}, "
                                        f"in {paths[0].name} {field.type}; every part needs the same columns")  # fmt: skip
        return Plan(paths, True, list(schemas[0].names), None, schemas[0])
    shapes = [_text_shape(path, encoding) for path in paths]
    for path, (header, delimiter) in zip(paths[1:], shapes[1:]):
        if delimiter != shapes[0][1]:
            raise NamelangError(f"{path}: separated by {delimiter!r}, {paths[0].name} by {shapes[0][1]!r}; "
                                "every part needs the same separator")  # fmt: skip
        _same_columns(path, paths[0], header, shapes[0][0])
    return Plan(paths, False, shapes[0][0], shapes[0][1], None)


def _parquet_schema(path: Path):
    import pyarrow.parquet as pq

    try:
        return pq.read_schema(path)
    except Exception as exc:  # pyarrow raises several kinds for a file that is not Parquet
        raise NamelangError(f"{path}: cannot read as Parquet: {exc}") from exc


def _text_shape(path: Path, encoding: str) -> tuple[list[str], str]:
    """(header, delimiter) of a text part; '\n' for one name per line."""
    from namelang.data.table import SNIFF_BYTES, open_input

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
    what = f"no column {missing[0]!r}" if missing else "columns in another order"
    if extra and not missing:
        what = f"an extra column {extra[0]!r}"
    raise NamelangError(f"{path}: {what} (columns: {', '.join(map(str, header))}; {first.name} has "
                        f"{', '.join(map(str, expected))}); every part needs the same columns")  # fmt: skip


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


@dataclass
class DaskSummary:
    rows: int | None  # counted from Parquet footers; None for CSV (counting would take a second pass)
    blank: int | None
    seconds: float
    column: str
    model: str
    output: str
    partitions: int
    workers: int
    dashboard: str | None


def output_plan(output, fmt: str | None, parquet_input: bool) -> tuple[Path, str, bool]:
    """(path, format, one file?): a path ending in .csv/.tsv/.parquet is one file, any other a folder."""
    if output is None:
        raise NamelangError("--engine dask writes files: pass --output FOLDER (parts) or FILE.csv|.parquet")
    path = Path(output)
    if not path.parent.is_dir():
        raise NamelangError(f"cannot write {path}: no such folder {path.parent}")
    from namelang.tagging import output_format

    single = path.suffix.lower() in {".csv", ".tsv", ".tab", ".parquet", ".pq"}
    if fmt is None and not single:
        fmt = "parquet" if parquet_input else "csv"
    fmt = output_format(path, fmt)
    if fmt not in ("csv", "tsv", "parquet"):
        raise NamelangError(f"--engine dask writes csv, tsv or parquet, not {fmt}")
    if single and path.is_dir():
        raise NamelangError(f"cannot write {path}: it is a folder")
    return path, fmt, single


class Cluster:
    """A client on `scheduler` (tcp://HOST:PORT), or on a LocalCluster of one single-threaded worker per core."""

    def __init__(self, scheduler: str | None = None, workers: int | None = None):
        import importlib.util

        from distributed import Client, LocalCluster

        self.local = None
        try:
            if scheduler is None:
                dashboard = ":0" if importlib.util.find_spec("bokeh") else None
                # Without a dashboard the scheduler still serves HTTP, by default on 8787 (a warning when
                # another cluster holds it): a free port. Worker errors reach the client as exceptions.
                with _sigint_ignored():  # Ctrl-C reaches the workers too: the client alone stops them
                    self.local = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1,
                                              processes=True, dashboard_address=dashboard, host="127.0.0.1",
                                              scheduler_kwargs={"dashboard_address": dashboard or "127.0.0.1:0"},
                                              silence_logs=logging.CRITICAL)  # fmt: skip
                self.client = Client(self.local)
                self.dashboard = self.client.dashboard_link if dashboard else None
            else:
                # How long to try is Dask's distributed.comm.timeouts.connect (30 s unless configured).
                self.client = Client(scheduler)
                served = "dashboard" in self.client.scheduler_info().get("services", {})
                self.dashboard = self.client.dashboard_link if served else None
        except (OSError, TimeoutError, ValueError) as exc:
            self.close()
            raise NamelangError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None

    @property
    def workers(self) -> int:
        return len(self.client.scheduler_info().get("workers", {}))

    def close(self) -> None:
        for part in (getattr(self, "client", None), self.local):
            if part is not None:
                part.close()


@contextlib.contextmanager
def _sigint_ignored():
    """SIGINT ignored while worker processes start: they inherit it (Python keeps an ignored SIGINT), so
    a Ctrl-C sent to the whole process group interrupts the client only, which then stops them."""
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: signals are not ours to change
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def check_line_breaks(frame, label: str):
    """A partition of a CSV read in blocks must hold no line break in a cell: a block boundary may cut a
    quoted one, so whether such a file reads would depend on where the boundaries land."""
    for column in frame.columns:
        cells = frame[column]
        if cells.dtype == object or str(cells.dtype).startswith("str"):
            if cells.str.contains("\n", regex=False).any():
                raise NamelangError(LINE_BREAK.format(label))
    return frame


LINE_BREAK = ("{}: a quoted field holds a line break, and a CSV bigger than the block size is read in "
              "blocks that may cut it: use a block size over the file's size, or Parquet")  # fmt: skip


@contextlib.contextmanager
def _data_errors(label: str, encoding: str):
    """What a worker found wrong with the data, as one line."""
    import pandas as pd

    try:
        yield
    except pd.errors.ParserError as exc:
        if "inside string" in str(exc):  # a block that ends inside a quoted line break
            raise NamelangError(LINE_BREAK.format(label)) from None
        raise NamelangError(f"{label}: cannot parse as a table: {str(exc).strip().splitlines()[0]}") from None
    except UnicodeDecodeError:
        raise NamelangError(f"{label}: not valid {encoding.upper()}; pass --encoding if the file uses "
                            "another (e.g. --encoding latin-1)") from None  # fmt: skip


def _watch(client, futures, progress: Callable[[int, int], None] | None) -> None:
    """Wait for `futures`, reporting (tasks done, tasks) as the scheduler sees them."""
    if progress is not None:
        from distributed.diagnostics.progressbar import TextProgressBar

        class Callback(TextProgressBar):
            def _draw_bar(self, remaining, all, **kwargs):
                progress(all - remaining, all)

            def _draw_stop(self, **kwargs):
                pass

        Callback(futures, scheduler=client.scheduler.address, interval="250ms")
    client.gather(futures)


def _meta(empty, added: list[str], extra: list[str]):
    """The empty frame Dask is told a tagged partition looks like (what `Tagger.frame` returns)."""
    import numpy as np
    import pandas as pd

    out = empty.copy()
    for i, column in enumerate(added):
        out[column] = pd.Series([], dtype=object if i % 2 == 0 else np.float64)
    for column in extra:
        out[column] = pd.Series([], dtype=object)
    return out


def _arrow_schema(plan: Plan, columns: list[str], added: list[str], extra: list[str]):
    import pyarrow as pa

    from namelang.tagging import text_schema

    if not plan.parquet:
        return text_schema(columns, added, extra)
    typed = [pa.field(c, pa.string() if i % 2 == 0 else pa.float64()) for i, c in enumerate(added)]
    typed += [pa.field(c, pa.string()) for c in extra]
    return pa.schema(list(plan.schema) + typed, metadata=plan.schema.metadata)


def _writer(tagged, target: Path, fmt: str, single: bool, header: list[str], schema):
    """The lazy write of `tagged` into `target` (a file, or a folder of parts)."""
    if fmt == "parquet":
        return tagged.to_parquet(str(target), write_index=False, schema=schema, compute=False,
                                 name_function=lambda i: PART.format(i) + ".parquet")  # fmt: skip
    options = dict(index=False, header=header, sep="\t" if fmt == "tsv" else ",", float_format="%.6f",
                   lineterminator="\n", encoding="utf-8", compute=False)  # fmt: skip
    if single:
        return tagged.to_csv(str(target), single_file=True, **options)
    return tagged.to_csv(str(target / "*.csv"), name_function=PART.format, **options)


def _merge_parquet(parts: Path, target: Path) -> None:
    """One Parquet file from a folder of parts, row group by row group (never a whole part in memory)."""
    import pyarrow.parquet as pq

    writer = None
    for part in sorted(parts.glob("*.parquet")):
        source = pq.ParquetFile(part)
        for index in range(source.num_row_groups):
            group = source.read_row_group(index)
            writer = writer or pq.ParquetWriter(target, source.schema_arrow)
            writer.write_table(group)
    if writer is not None:
        writer.close()


def parquet_counts(paths: list[Path], probability: str) -> tuple[int, int]:
    """(rows, blank rows) of written Parquet, from the footers: no second pass over the data."""
    import pyarrow.parquet as pq

    rows = blank = 0
    for path in paths:
        meta = pq.ParquetFile(path).metadata
        rows += meta.num_rows
        index = meta.schema.to_arrow_schema().get_field_index(probability)
        for group in range(meta.num_row_groups):
            stats = meta.row_group(group).column(index).statistics
            if stats is None or not stats.has_null_count:
                blank += pq.read_table(path, columns=[probability]).column(0).null_count
                break
            blank += stats.null_count
    return rows, blank


def _run(client, tagged, target: Path, fmt: str, single: bool, header, schema, progress) -> list[Path]:
    """Write `tagged` (atomically): the written Parquet parts or files, for counting."""
    from namelang.workspace import atomic_dir, atomic_path

    def compute(destination: Path) -> None:
        futures = client.compute(_writer(tagged, destination, fmt, single, header, schema))
        _watch(client, futures if isinstance(futures, list) else [futures], progress)

    if not single:
        with atomic_dir(target) as tmp:
            compute(tmp)
        return sorted(target.glob("*.parquet"))
    with atomic_path(target) as tmp:
        if fmt != "parquet":
            compute(tmp)
            return []
        parts = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".parts", dir=target.parent))
        try:
            compute(parts)
            _merge_parquet(parts, tmp)
        finally:
            shutil.rmtree(parts, ignore_errors=True)
    return [target]


def tag_dataset(
    source: str | Path,
    output: str | Path,
    *,
    model: str | Path | None = None,
    home: str | Path | None = None,
    payload: ModelPayload | None = None,
    column: str | None = None,
    top_k: int = 3,
    prefix: str = "",
    min_prob: float = 0.0,
    fmt: str | None = None,
    encoding: str = "utf-8",
    blocksize: str | int = "64MB",
    scheduler: str | None = None,
    workers: int | None = None,
    on_connect: Callable[[str | None, int], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
    explain: bool = False,
) -> DaskSummary:
    """Tag a file, a glob or a folder of CSV/Parquet parts on a Dask cluster; write parts or one file.

    `scheduler`: tcp://HOST:PORT of a running cluster, else a LocalCluster of `workers` (default: one
    per core) single-threaded worker processes. Input and output paths must be reachable by the
    workers; the model is sent to them. `on_connect(dashboard, workers)` is called once connected,
    `progress(tasks done, tasks)` while it runs. Nothing appears under `output` unless it all succeeded.
    `explain` adds `script_path`, as `tagging.tag_file` does.
    """
    import_dask()
    import dask

    from namelang.data.table import check_encoding
    from namelang.inference import prediction_columns
    from namelang.tagging import SCRIPT_PATH, check_clash, resolve_column

    encoding = check_encoding(encoding)
    plan = plan_input(source, encoding)
    position = resolve_column(plan.header, column, str(source))
    target, fmt, single = output_plan(output, fmt, plan.parquet)
    payload = payload or ModelPayload.load(model, home)
    k = max(1, min(top_k, len(payload.card.labels)))
    added = prediction_columns(k, prefix)
    extra = [f"{prefix}{SCRIPT_PATH}"] if explain else []
    check_clash(plan.header, added + extra)
    started = time.perf_counter()
    cluster = Cluster(scheduler, workers)
    try:
        if on_connect is not None:
            on_connect(cluster.dashboard, cluster.workers)
        frames = read_dataframe(plan, encoding, blocksize, str(source))
        tagged = frames.map_partitions(tag_partition, dask.delayed(payload), position, k, prefix, min_prob,
                                       fmt == "parquet", explain, meta=_meta(frames._meta, added, extra))  # fmt: skip
        schema = _arrow_schema(plan, list(frames.columns), added, extra)
        header = [*plan.header, *added, *extra]
        with _data_errors(str(source), encoding):
            written = _run(cluster.client, tagged, target, fmt, single, header, schema, progress)
        workers_seen = cluster.workers
    finally:
        cluster.close()
    rows, blank = parquet_counts(written, added[1]) if fmt == "parquet" else (None, None)
    return DaskSummary(rows, blank, time.perf_counter() - started, plan.header[position], payload.name,
                       str(target), tagged.npartitions, workers_seen, cluster.dashboard)  # fmt: skip
