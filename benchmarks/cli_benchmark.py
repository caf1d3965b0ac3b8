"""How fast the CLI answers `--help` and a cold `predict Dovesky Satoshi`, and which heavy libraries
each imports (`--help` none; `predict NAME ...` numpy only: no pandas, no torch).

python benchmarks/cli_benchmark.py [--repeat 10] [--against DIR] [--venv DIR ...]

`--against DIR` times another checkout (e.g. the main branch's) the same way, its runs interleaved
with this one's, so that the load of a shared machine falls on both alike. `--venv DIR` (repeatable)
times the `namelang` installed in each virtual environment instead (what a user runs: no editable
finder, no PYTHONPATH), interleaved likewise. Every run starts in an empty folder with an empty HOME
and no NAMELANG_HOME: the pretrained model answers.
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


def _targets(args, home: str) -> dict[str, tuple[list[str], str, dict]]:
    """label -> (the command that runs namelang, the python that runs the probe, the environment)."""
    clean = {
        k: v for k, v in os.environ.items() if k not in ("NAMELANG_HOME", "XDG_DATA_HOME", "VIRTUAL_ENV")
    }
    clean["HOME"] = home
    if args.venv:
        env = {k: v for k, v in clean.items() if k != "PYTHONPATH"}
        return {str(v): ([str(v / "bin" / "namelang")], str(v / "bin" / "python"), env) for v in args.venv}
    checkouts = {"this": ROOT} | ({"against": args.against.resolve()} if args.against else {})
    module = [sys.executable, "-m", "namelang"]
    return {
        label: (module, sys.executable, {**clean, "PYTHONPATH": str(c)}) for label, c in checkouts.items()
    }


def _time(command: list[str], env: dict) -> float:
    # Run from the empty home: `python -m` and `-c` put the current folder first on sys.path.
    started = time.perf_counter()
    subprocess.run(command, capture_output=True, check=True, env=env, cwd=env["HOME"])
    return time.perf_counter() - started


def _heavy(python: str, command: list[str], env: dict) -> list[str]:
    probe = subprocess.run(
        [python, "-c", PROBE, *command], capture_output=True, text=True, check=True, env=env, cwd=env["HOME"]
    )
    heavy = probe.stderr.strip().rsplit("HEAVY=", 1)[-1]
    return heavy.split(",") if heavy else []


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--against", type=Path, help="another checkout, timed interleaved with this one")
    parser.add_argument("--venv", type=Path, action="append", help="a virtual environment's namelang")
    args = parser.parse_args(argv)
    results = {}
    with tempfile.TemporaryDirectory(prefix="namelang-bench-home-") as home:
        targets = _targets(args, home)
        for command in COMMANDS:
            key = "namelang " + " ".join(command)
            walls = {label: [] for label in targets}
            for _ in range(args.repeat):
                for label, (runner, _, env) in targets.items():
                    walls[label].append(_time([*runner, *command], env))
            for label, (_, python, env) in targets.items():
                heavy = _heavy(python, command, env)
                results.setdefault(label, {})[key] = {
                    "median_s": round(statistics.median(walls[label]), 3),
                    "runs_s": [round(w, 3) for w in walls[label]],
                    "heavy_imports": heavy,
                }
                print(
                    f"{label:<12} {key:<36} median {statistics.median(walls[label]):.3f} s  "
                    f"min {min(walls[label]):.3f} s  heavy imports: {','.join(heavy) or 'none'}"
                )
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
