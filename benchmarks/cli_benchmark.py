"""How fast the CLI answers `--help` and a cold `predict Dovesky Satoshi`, and which heavy libraries
each imports (`--help` none; `predict NAME ...` numpy only: no pandas, no torch).

python benchmarks/cli_benchmark.py [--repeat 10] [--against DIR]

`--against DIR` times another checkout (e.g. the main branch's) the same way, its runs interleaved
with this one's, so that the load of a shared machine falls on both alike. Every run has an empty
NAMELANG_HOME: the pretrained model answers.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = (["--help"], ["download", "--help"], ["predict", "--help"], ["predict", "Dovesky", "Satoshi"])

HEAVY = ("torch", "pandas", "sklearn", "matplotlib", "numpy")
PROBE = (
    "import sys; from namelang.cli.app import main; sys.argv = ['namelang', *sys.argv[1:]]\n"
    "try:\n    main()\nexcept SystemExit:\n    pass\n"
    f"print('HEAVY=' + ','.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)"
)


def _env(checkout: Path, home: str) -> dict:
    return {**os.environ, "PYTHONPATH": str(checkout), "NAMELANG_HOME": home}


def _time(command: list[str], env: dict) -> float:
    # Run from the empty home: `python -m` and `-c` put the current folder first on sys.path.
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "namelang", *command], capture_output=True, check=True, env=env,
        cwd=env["NAMELANG_HOME"],
    )  # fmt: skip
    return time.perf_counter() - started


def _heavy(command: list[str], env: dict) -> list[str]:
    probe = subprocess.run(
        [sys.executable, "-c", PROBE, *command], capture_output=True, text=True, check=True, env=env,
        cwd=env["NAMELANG_HOME"],
    )  # fmt: skip
    heavy = probe.stderr.strip().rsplit("HEAVY=", 1)[-1]
    return heavy.split(",") if heavy else []


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--against", type=Path, help="another checkout, timed interleaved with this one")
    args = parser.parse_args(argv)
    checkouts = {"this": ROOT} | ({"against": args.against.resolve()} if args.against else {})
    results = {}
    with tempfile.TemporaryDirectory(prefix="namelang-bench-home-") as home:
        for command in COMMANDS:
            key = "namelang " + " ".join(command)
            walls = {label: [] for label in checkouts}
            for _ in range(args.repeat):
                for label, checkout in checkouts.items():
                    walls[label].append(_time(command, _env(checkout, home)))
            for label, checkout in checkouts.items():
                heavy = _heavy(command, _env(checkout, home))
                results.setdefault(label, {})[key] = {
                    "median_s": round(statistics.median(walls[label]), 3),
                    "min_s": round(min(walls[label]), 3),
                    "heavy_imports": heavy,
                }
                print(
                    f"{label:<8} {key:<36} median {statistics.median(walls[label]):.3f} s  "
                    f"min {min(walls[label]):.3f} s  heavy imports: {','.join(heavy) or 'none'}"
                )
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
