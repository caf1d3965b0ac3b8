"""The Dask engine of `predict`: read a table's parts, tag each partition, write parts, on a Dask cluster.

Dask does the partitioning and the scheduling (`data.parts`: `read_csv(blocksize=…)`/`read_parquet`;
`map_partitions(…, meta=…)`, `to_parquet`/`to_csv`); what runs on a partition is `scoring.partitions`:
the same `Tagger` step as the one-process engine, so both give the same rows. Priors and prediction
sets are `scoring.adjust.Adjustment`'s, built on the client and sent as data; a prior to estimate (and
the language mix) takes a first pass over the table: each partition's distinct names, counts and model
probabilities, merged on the client, where EM runs, before the scoring pass.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from namelang.errors import NamelangError, literal
from namelang.scoring import MixOptions, PredictionColumns, ScoreOptions, TableOptions
from namelang.scoring.adjust import Adjustment
from namelang.scoring.partitions import (
    ModelPayload,
    PartitionStep,
    Seen,
    merge_seen,
    seen_partition,
    tag_partition,
)

if TYPE_CHECKING:
    from namelang.data.parts import Plan

DASK_INSTALL = 'the Dask engine needs Dask: pip install "namelang[dask]"'
PART = "part-{:05d}"
SINGLE_SUFFIXES = {".csv", ".tsv", ".tab", ".parquet", ".pq"}

__all__ = ["DaskOptions", "DaskSummary", "ModelPayload", "tag_dataset"]


def import_dask():
    try:
        import dask.dataframe  # noqa: F401
        import distributed  # noqa: F401
        import pyarrow  # noqa: F401
    except ImportError:
        raise NamelangError(DASK_INSTALL) from None


@dataclass(frozen=True, kw_only=True)
class DaskOptions:
    """Where and how the Dask engine runs.

    `scheduler`: tcp://HOST:PORT of a running cluster, else a LocalCluster of `workers` (default: one
    per core) single-threaded worker processes. `blocksize`: bytes of CSV per partition (Parquet is
    split by row groups). `on_connect(dashboard, workers)` is called once connected, `progress(tasks
    done, tasks)` while a pass runs.
    """

    scheduler: str | None = None
    workers: int | None = None
    blocksize: str | int = "64MB"
    on_connect: Callable[[str | None, int], None] | None = None
    progress: Callable[[int, int], None] | None = None


@dataclass
class DaskSummary:
    rows: int | None  # Parquet footers' count, else the first pass's; None for CSV scored in one pass
    blank: int | None  # rows without a probability (blank, or below min_prob), from Parquet footers
    seconds: float
    column: str
    model: str
    output: str | None  # None: only the mix was asked for
    partitions: int
    workers: int
    dashboard: str | None
    mix: object = None  # uncertainty.Mix, with `summary`


@dataclass(frozen=True)
class Target:
    """Where the tagged table goes: `path`, a file (`single`) or a folder of parts, in `fmt`."""

    path: Path
    fmt: str
    single: bool


def output_plan(output, fmt: str | None, parquet_input: bool, optional: bool = False) -> Target | None:
    """A path ending in .csv/.tsv/.parquet is one file, any other a folder; None when `optional` (a mix
    alone) and no output is given."""
    if output is None:
        if optional:
            return None
        raise NamelangError(
            "the Dask engine writes files: pass {output=FOLDER} (parts) or a .csv/.parquet file"
        )
    path = Path(output)
    if not path.parent.is_dir():
        raise NamelangError(f"cannot write {literal(path)}: no such folder {literal(path.parent)}")
    from namelang.tagging import output_format

    single = path.suffix.lower() in SINGLE_SUFFIXES
    if fmt is None and not single:
        fmt = "parquet" if parquet_input else "csv"
    fmt = output_format(path, fmt)
    if fmt not in ("csv", "tsv", "parquet"):
        raise NamelangError(
            f"the Dask engine writes csv, tsv or parquet, not {literal(fmt)}: use {{fmt=parquet}}"
        )
    if single and path.is_dir():
        raise NamelangError(f"cannot write {literal(path)}: it is a folder")
    return Target(path, fmt, single)


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
            raise NamelangError(
                f"cannot reach the Dask scheduler at {literal(scheduler)}: {literal(exc)}"
            ) from None

    @property
    def workers(self) -> int:
        return len(self.client.scheduler_info().get("workers", {}))

    def compute(self, work, progress: Callable[[int, int], None] | None = None):
        """`work` (a Dask collection or a list of delayed) computed on the cluster, reporting (tasks done,
        tasks) as the scheduler sees them; its results."""
        futures = self.client.compute(work)
        if progress is not None:
            from distributed.diagnostics.progressbar import TextProgressBar

            class Callback(TextProgressBar):
                def _draw_bar(self, remaining, all, **kwargs):
                    progress(all - remaining, all)

                def _draw_stop(self, **kwargs):
                    pass

            Callback(futures if isinstance(futures, list) else [futures], scheduler=self.client.scheduler.address,
                     interval="250ms")  # fmt: skip
        return self.client.gather(futures)

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


def _writer(tagged, destination: Path, target: Target, header: list[str], schema):
    """The lazy write of `tagged` into `destination` (a file, or a folder of parts) as `target` asks."""
    if target.fmt == "parquet":
        return tagged.to_parquet(str(destination), write_index=False, schema=schema, compute=False,
                                 name_function=lambda i: PART.format(i) + ".parquet")  # fmt: skip
    options = dict(index=False, header=header, sep="\t" if target.fmt == "tsv" else ",", float_format="%.6f",
                   lineterminator="\n", encoding="utf-8", compute=False)  # fmt: skip
    if target.single:
        return tagged.to_csv(str(destination), single_file=True, **options)
    return tagged.to_csv(str(destination / "*.csv"), name_function=PART.format, **options)


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


def _write(cluster: Cluster, tagged, target: Target, header, schema, progress) -> list[Path]:
    """Write `tagged` (atomically): the written Parquet parts or files, for counting."""
    from namelang.workspace import atomic_dir, atomic_path

    def compute(destination: Path) -> None:
        cluster.compute(_writer(tagged, destination, target, header, schema), progress)

    if not target.single:
        with atomic_dir(target.path) as tmp:
            compute(tmp)
        return sorted(target.path.glob("*.parquet"))
    with atomic_path(target.path) as tmp:
        if target.fmt != "parquet":
            compute(tmp)
            return []
        parts = Path(
            tempfile.mkdtemp(prefix=f".{target.path.name}.", suffix=".parts", dir=target.path.parent)
        )
        try:
            compute(parts)
            _merge_parquet(parts, tmp)
        finally:
            shutil.rmtree(parts, ignore_errors=True)
    return [target.path]


@dataclass
class _Job:
    """One `tag_dataset` call, resolved on the client before the cluster starts."""

    source: str
    plan: Plan
    position: int  # of the name column
    target: Target | None  # None: the mix alone
    payload: ModelPayload
    options: ScoreOptions
    table: TableOptions
    columns: PredictionColumns
    adjustment: Adjustment | None  # None: plain options and no mix asked for

    def step(self, adjustment: Adjustment | None) -> PartitionStep:
        nulls = self.target is not None and self.target.fmt == "parquet"
        return PartitionStep(
            self.payload, self.position, self.options, adjustment, nulls, self.table.cache_size
        )

    def seen(self, cluster: Cluster, frames, progress) -> Seen:
        """The first pass: every partition's distinct names, counts and model probabilities, merged."""
        import dask

        step = dask.delayed(self.step(self.adjustment))
        parts = [dask.delayed(seen_partition)(part, step) for part in frames.to_delayed()]
        return merge_seen(cluster.compute(parts, progress), len(self.payload.labels))

    def write(self, cluster: Cluster, frames, adjustment, progress) -> tuple[int | None, int | None]:
        """The scoring pass into the target: (rows, blank rows) from Parquet footers, else (None, None)."""
        import dask

        meta = self.columns.meta(frames._meta)
        tagged = frames.map_partitions(tag_partition, dask.delayed(self.step(adjustment)), meta=meta)
        if self.plan.parquet:
            schema = self.columns.arrow_schema(self.plan.schema)
        else:
            schema = self.columns.text_schema(list(frames.columns))
        header = [*self.plan.header, *self.columns.names]
        written = _write(cluster, tagged, self.target, header, schema, progress)
        if self.target.fmt != "parquet":
            return None, None
        return parquet_counts(written, self.columns.probability)


def _job(source, output, column, model, options, table, summary) -> _Job:
    """Everything checked that can be before a cluster starts: the parts, the column, the output, the
    model, the added columns and the prior and coverage asked for."""
    from namelang.data.corpus import check_encoding
    from namelang.data.parts import plan_input
    from namelang.tagging import resolve_column

    options, table = options or ScoreOptions(), table or TableOptions()
    table = replace(table, encoding=check_encoding(table.encoding))
    plan = plan_input(source, table.encoding)
    position = resolve_column(plan.header, column, str(source))
    target = output_plan(output, table.fmt, plan.parquet, optional=summary is not None)
    payload = model if isinstance(model, ModelPayload) else ModelPayload.load(model)
    columns = PredictionColumns.of(options, payload.labels)
    columns.check_clash(plan.header)
    adjustment = Adjustment.for_table(payload, options, summary)
    return _Job(str(source), plan, position, target, payload, options, table, columns, adjustment)


def tag_dataset(
    source: str | Path,
    output: str | Path | None = None,
    *,
    column: str | None = None,
    model: ModelPayload | str | Path | None = None,
    options: ScoreOptions | None = None,
    table: TableOptions | None = None,
    summary: MixOptions | None = None,
    cluster: DaskOptions | None = None,
) -> DaskSummary:
    """Tag a file, a glob or a folder of CSV/Parquet parts on a Dask cluster; write parts or one file.

    The arguments are `tagging.tag_file`'s: `options` (ScoreOptions: top_k, prefix, min_prob, prior,
    coverage, explain), `table` (TableOptions: fmt, encoding; cache_size per worker thread) and
    `summary` (MixOptions: the table's language mix as `DaskSummary.mix`; then `output` may be None).
    `model`: a `ModelPayload`, or a model of the default workspace (a name, a folder, 'pretrained' or
    None). `cluster` (DaskOptions): where it runs and the callbacks. Input and output paths must be
    reachable by the workers; the model is sent to them. A prior to estimate, or a mix, takes a first
    pass over the table. Nothing appears under `output` unless it all succeeded.
    """
    import_dask()
    from namelang.data.parts import data_errors, read_dataframe

    job, run = _job(source, output, column, model, options, table, summary), cluster or DaskOptions()
    started = time.perf_counter()
    client = Cluster(run.scheduler, run.workers)
    try:
        if run.on_connect is not None:
            run.on_connect(client.dashboard, client.workers)
        with data_errors(job.source, job.table.encoding):
            frames = read_dataframe(job.plan, job.table.encoding, run.blocksize, job.source)
            seen, adjustment = None, job.adjustment
            if adjustment is not None and (adjustment.pending or summary is not None):
                seen = job.seen(client, frames, run.progress)
                adjustment = adjustment.settled(*seen.arrays())
            rows = blank = None
            if job.target is not None:
                rows, blank = job.write(client, frames, adjustment, run.progress)
        workers = client.workers
    finally:
        client.close()
    return DaskSummary(
        rows=seen.rows if rows is None and seen is not None else rows,
        blank=blank,
        seconds=time.perf_counter() - started,
        column=job.plan.header[job.position],
        model=job.payload.name,
        output=None if job.target is None else str(job.target.path),
        partitions=frames.npartitions,
        workers=workers,
        dashboard=client.dashboard,
        mix=None if summary is None else adjustment.mix(seen, summary),
    )
