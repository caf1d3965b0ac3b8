"""Large tables: CSV->CSV and Parquet->Parquet, one process vs a Dask LocalCluster, names/s and peak RSS.

    python benchmarks/tables_benchmark.py --archive PATH/names.zip [--rows 10000000] [--repeat 3]
        [--workers 2] [--json out.json]

Two inputs of `--rows` rows (id, surname, city), as in `predict_benchmark.py`: "sampled" draws surnames
from the shared archive (they repeat, as in real files), "distinct" appends three random letters so
that nearly every name is new. Each is written as CSV and as Parquet (row groups of 262,144 rows).

Configurations (median wall of `--repeat` runs each):
- local: `namelang predict --input … --output …` in a child process on one thread (NAMELANG_THREADS=1),
  numpy's BLAS held to one thread (OMP/OPENBLAS/MKL_NUM_THREADS=1) unless the row says otherwise; peak
  RSS of that process;
- cache off: on sampled names, `namelang.tag_file(cache_size=0)` beside `tag_file()` with its cache;
- dask: `namelang.distributed.tag_dataset` on a LocalCluster of `--workers` single-threaded worker
  processes started once (its start-up is reported apart), BLAS held to one thread in each; peak RSS
  of each worker (its lifetime peak) and of this client process.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from predict_benchmark import timed, write_input

from namelang.measure import archive_names, archive_option, archive_or_exit, dask_tagger

# One process on one core against N single-threaded workers: BLAS and `predict --threads` both held to 1.
ONE_THREAD = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NAMELANG_THREADS": "1",
}
EXE = [sys.executable, "-m", "namelang"]


def to_parquet(csv_path: Path, target: Path, group_rows: int = 262_144) -> None:
    """The CSV as Parquet, streamed (id int64, the rest strings)."""
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    types = {"id": pa.int64(), "surname": pa.string(), "city": pa.string()}
    reader = pcsv.open_csv(csv_path, convert_options=pcsv.ConvertOptions(column_types=types))
    with pq.ParquetWriter(target, reader.schema) as writer:
        pending, rows = [], 0
        for batch in reader:
            pending.append(batch)
            rows += batch.num_rows
            if rows >= group_rows:
                writer.write_table(pa.Table.from_batches(pending), row_group_size=group_rows)
                pending, rows = [], 0
        if pending:
            writer.write_table(pa.Table.from_batches(pending), row_group_size=group_rows)


def run_child(command: list[str], threads: dict | None, repeat: int) -> dict:
    """Median wall and peak RSS of `repeat` runs of a child process, with `threads` in its environment."""
    env = {k: v for k, v in os.environ.items() if k not in ONE_THREAD}
    runs = [timed(command, env={**env, **(threads or {})}) for _ in range(repeat)]
    print("done:", " ".join(command[-6:]), [round(w, 1) for w, _ in runs], flush=True)
    return {"walls": [round(w, 2) for w, _ in runs], "wall": statistics.median(w for w, _ in runs),
            "rss_mb": [max(r for _, r in runs)]}  # fmt: skip


def local_runs(files: dict, repeat: int, model: str) -> dict:
    results = {}
    for kind, (csv_in, pq_in, out) in files.items():
        predict = [*EXE, "predict", "--column", "surname", "--model", model, "-q"]
        results[f"local csv->csv {kind}"] = run_child(
            [*predict, "-i", str(csv_in), "-o", str(out / "o.csv")], ONE_THREAD, repeat
        )
        results[f"local parquet->parquet {kind}"] = run_child(
            [*predict, "-i", str(pq_in), "-o", str(out / "o.parquet")], ONE_THREAD, repeat
        )
        if kind == "distinct":
            results[f"local csv->csv {kind}, BLAS threads unset"] = run_child(
                [*predict, "-i", str(csv_in), "-o", str(out / "o.csv")], {"NAMELANG_THREADS": "1"}, repeat
            )
        for size in (None, 0) if kind == "sampled" else ():  # the cache matters where names repeat
            cache = "" if size is None else f", cache_size={size}"
            code = f"from namelang.measure import tag_table; tag_table({str(csv_in)!r}, {str(out / 'c.csv')!r}, {model!r}{cache})"
            label = "cache on" if size is None else "cache off"
            results[f"tag_file csv->csv {kind}, {label}"] = run_child(
                [sys.executable, "-c", code], ONE_THREAD, repeat
            )
    return results


def dask_runs(files: dict, repeat: int, model: str, workers: int) -> tuple[dict, dict]:
    from distributed import Client, LocalCluster

    os.environ.update(ONE_THREAD)  # inherited by the worker processes
    started = time.perf_counter()
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
    client = Client(cluster)
    startup = time.perf_counter() - started
    tag = dask_tagger(model, cluster.scheduler_address)
    results = {}
    try:
        for kind, (csv_in, pq_in, out) in files.items():
            # Enough partitions for every worker to stay busy (4 per worker).
            block = max(1 << 20, csv_in.stat().st_size // (4 * workers))
            for label, source in (("csv->csv", csv_in), ("parquet->parquet", pq_in)):
                walls = []
                for _ in range(repeat):
                    target = out / f"dask-{label.split('-')[0]}"
                    began = time.perf_counter()
                    tag(source, target, block)
                    walls.append(time.perf_counter() - began)
                    shutil.rmtree(target)
                print("done: dask", label, kind, [round(w, 1) for w in walls], flush=True)
                worker_rss = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
                results[f"dask {workers}x1 {label} {kind}"] = {
                    "walls": [round(w, 2) for w in walls],
                    "wall": statistics.median(walls),
                    "rss_mb": sorted(worker_rss.values()),
                }
    finally:
        client.close()
        cluster.close()
    client_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    return results, {"cluster_startup_s": round(startup, 2), "client_peak_rss_mb": client_rss}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--model", default="pretrained")
    archive_option(parser)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    archive = archive_or_exit(parser, args.archive)

    names = archive_names(archive)
    with tempfile.TemporaryDirectory(prefix="namelang-tables-") as tmp:
        files = {}
        for kind in ("sampled", "distinct"):
            out = Path(tmp) / kind
            out.mkdir()
            csv_in = out / "in.csv"
            write_input(csv_in, args.rows, names, distinct=kind == "distinct")
            to_parquet(csv_in, out / "in.parquet")
            files[kind] = (csv_in, out / "in.parquet", out)
        results = local_runs(files, args.repeat, args.model)
        dask_results, cluster = dask_runs(files, args.repeat, args.model, args.workers)
        results.update(dask_results)
    print(f"{args.rows:,} rows per run; median of {args.repeat}; BLAS one thread unless stated")
    print(f"{'configuration':<48} {'median s':>9} {'names/s':>9}  runs  peak RSS MB per process")
    for label, r in results.items():
        r["names_per_second"] = round(args.rows / r["wall"])
        print(f"{label:<48} {r['wall']:>9.1f} {r['names_per_second']:>9,}  {r['walls']}  {r['rss_mb']}")
    print(f"Dask cluster start-up {cluster['cluster_startup_s']} s (not in the walls); "
          f"client peak RSS {cluster['client_peak_rss_mb']} MB")  # fmt: skip
    report = {
        "rows": args.rows,
        "repeat": args.repeat,
        "workers": args.workers,
        "results": results,
        **cluster,
    }
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
