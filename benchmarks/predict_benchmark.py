"""End-to-end batch prediction: read CSV -> write CSV through `namelang predict`, names/s and peak RSS.

    python benchmarks/predict_benchmark.py --archive PATH/names.zip [--rows 1000000] [--model pretrained]
        [--repeat 3] [--threads 1 auto] [--against OTHER_CHECKOUT]

Two inputs of `--rows` rows each (columns id, surname, city): "archive" samples surnames from the shared
archive, so names repeat as they do in real files; "distinct" appends three random letters to each,
so that nearly every name is new (the worst case for the per-chunk cache of distinct names).
Also times the cold start of `namelang predict Dovesky Satoshi`. `--against DIR` times another checkout
(e.g. `git worktree add --detach ../before REV`) beside this one, interleaved run by run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from namelang.measure import archive_names, archive_option, archive_or_exit

ROOT = Path(__file__).resolve().parents[1]

CITIES = ["Lyon", "Osaka", "Kyiv", "Porto", "Cork", "Hanoi", "Athens", "Brno", "Seoul", "Leeds"]


def write_input(path: Path, rows: int, names: list[str], distinct: bool, seed: int = 0) -> None:
    rng = random.Random(seed)
    letters = string.ascii_lowercase
    with open(path, "w", encoding="utf-8") as out:
        out.write("id,surname,city\n")
        for i in range(rows):
            name = rng.choice(names)
            if distinct:
                name += "".join(rng.choices(letters, k=3))
            out.write(f'{i},"{name}",{CITIES[i % len(CITIES)]}\n')


def timed(command: list[str], env: dict | None = None) -> tuple[float, int]:
    """(wall seconds, peak RSS in MB) of one child process."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{' '.join(command)} failed: {process.stderr.read().decode()}")
    return wall, usage.ru_maxrss // 1024


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--model", default="pretrained")
    parser.add_argument("--home", default=None)
    parser.add_argument("--repeat", type=int, default=3)
    archive_option(parser)
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--against",
        type=Path,
        help="another checkout of namelang (e.g. a git worktree of an older commit) timed beside this "
        "one, interleaved run by run: a before/after comparison under the same machine load",
    )
    parser.add_argument(
        "--threads",
        nargs="+",
        default=["auto"],
        help="predict --threads values to compare (auto: its default)",
    )
    args = parser.parse_args(argv)
    archive = archive_or_exit(parser, args.archive)

    exe = [sys.executable, "-m", "namelang"]
    trees = [("", None)]  # this checkout, as installed; with --against, each tree on PYTHONPATH
    if args.against is not None:
        trees = [
            (f"{label}, ", dict(os.environ, PYTHONPATH=str(tree.resolve())))
            for label, tree in (("this", ROOT), ("against", args.against))
        ]
    home = ["--home", args.home] if args.home else []
    names = archive_names(archive)
    results = {"rows": args.rows, "model": args.model, "batch": {}}
    with tempfile.TemporaryDirectory(prefix="namelang-predict-") as tmp:
        for kind in ("archive", "distinct"):
            source, target = Path(tmp) / f"{kind}.csv", Path(tmp) / f"{kind}-out.csv"
            write_input(source, args.rows, names, distinct=kind == "distinct")
            variants = [(f"{tree}threads {t}", env, t) for tree, env in trees for t in args.threads]
            runs: dict[str, list] = {label: [] for label, _, _ in variants}
            for i in range(args.repeat):  # variants interleaved (and their order turned), so that load
                for label, env, threads in variants[:: 1 if i % 2 == 0 else -1]:  # drifts hit all alike
                    command = [*exe, "predict", "--input", str(source), "--column", "surname"]
                    command += ["--output", str(target), "--model", args.model, "-q", *home]
                    runs[label].append(
                        timed(command + ([] if threads == "auto" else ["--threads", threads]), env)
                    )
                    with open(target, encoding="utf-8") as handle:
                        lines = sum(1 for _ in handle)
                    assert lines == args.rows + 1, f"{lines} lines written for {args.rows} rows"
            for label, timings in runs.items():
                wall = statistics.median(w for w, _ in timings)
                results["batch"][f"{kind}, {label}"] = {
                    "wall_seconds_median": round(wall, 2),
                    "wall_seconds_runs": [round(w, 2) for w, _ in timings],
                    "names_per_second": round(args.rows / wall),
                    "peak_rss_mb": max(r for _, r in timings),
                    "input_mb": round(source.stat().st_size / 2**20, 1),
                }
    cold = [timed([*exe, "predict", "Dovesky", "Satoshi", "--model", args.model, *home]) for _ in range(5)]
    results["cold_start"] = {
        "wall_seconds_median": round(statistics.median(w for w, _ in cold), 2),
        "wall_seconds_runs": [round(w, 2) for w, _ in cold],
        "peak_rss_mb": max(r for _, r in cold),
    }
    print(f"{'input':<40} {'rows':>10} {'median s':>9} {'names/s':>10} {'peak RSS MB':>12}")
    for kind, r in results["batch"].items():
        print(
            f"{kind:<40} {args.rows:>10,} {r['wall_seconds_median']:>9.2f} {r['names_per_second']:>10,} "
            f"{r['peak_rss_mb']:>12,}"
        )
    c = results["cold_start"]
    print(
        f"cold `namelang predict Dovesky Satoshi`: median {c['wall_seconds_median']:.2f} s "
        f"(runs {c['wall_seconds_runs']}), peak RSS {c['peak_rss_mb']} MB"
    )
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
