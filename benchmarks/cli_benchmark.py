"""How fast the CLI answers `--help`, and that it imports no heavy library to do so.

python benchmarks/cli_benchmark.py [--repeat 10]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

HEAVY = ("torch", "pandas", "sklearn", "matplotlib", "numpy")
PROBE = (
    "import sys; from namelang.cli.app import main; sys.argv = ['namelang', *sys.argv[1:]]\n"
    "try:\n    main()\nexcept SystemExit:\n    pass\n"
    f"print('HEAVY=' + ','.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)"
)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args(argv)
    results = {}
    for command in (["--help"], ["download", "--help"], ["predict", "--help"]):
        walls = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "namelang", *command], capture_output=True, check=True)
            walls.append(time.perf_counter() - started)
        probe = subprocess.run(
            [sys.executable, "-c", PROBE, *command], capture_output=True, text=True, check=True
        )
        heavy = probe.stderr.strip().rsplit("HEAVY=", 1)[-1]
        key = "namelang " + " ".join(command)
        results[key] = {
            "median_s": round(statistics.median(walls), 3),
            "min_s": round(min(walls), 3),
            "heavy_imports": heavy.split(",") if heavy else [],
        }
        print(
            f"{key:<28} median {statistics.median(walls):.3f} s  min {min(walls):.3f} s  heavy imports: "
            f"{heavy or 'none'}"
        )
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
