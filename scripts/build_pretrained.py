"""Rebuild the pretrained model shipped in namelang/pretrained/ with the project's own commands.

    python scripts/build_pretrained.py [--archive ../shared/data/names.zip] [--work build/pretrained]

Runs `namelang download`, `prepare --seed 0`, `train --arch gru --seed 0 --device cpu` (the defaults),
`evaluate --split test`, then copies the model folder into the package and writes the test metrics
into namelang/pretrained/metrics.json, which MODEL_CARD.md quotes. The test split is only scored,
never used to choose anything.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "namelang" / "pretrained"
SHIPPED = ("weights.safetensors", "model.json", "history.csv", "loss.png")


def namelang(*args: str) -> str:
    command = [sys.executable, "-m", "namelang", *args]
    print("$ namelang " + " ".join(args), file=sys.stderr, flush=True)
    return subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True).stdout


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--archive", type=Path, default=ROOT.parent / "shared" / "data" / "names.zip")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "pretrained")
    args = parser.parse_args(argv)
    home = str(args.work)
    sha = (args.archive.parent / "names.zip.sha256").read_text().split()[0]
    namelang("download", "--url", str(args.archive), "--sha256", sha, "--home", home, "--force", "-q")
    namelang("prepare", "--seed", "0", "--home", home, "-q")
    namelang(
        "train", "--arch", "gru", "--name", "pretrained-gru", "--seed", "0", "--device", "cpu", "--home", home
    )
    model = args.work / "models" / "pretrained-gru"
    report = json.loads(
        namelang("evaluate", "--model", str(model), "--split", "test", "--format", "json", "--home", home)
    )
    for name in SHIPPED:
        shutil.copy2(model / name, TARGET / name)
    manifest = json.loads((args.work / "prepared" / "manifest.json").read_text())
    (TARGET / "metrics.json").write_text(
        json.dumps(
            {
                "archive_sha256": sha,
                "split": {
                    "seed": manifest["seed"],
                    "val": manifest["options"]["val"],
                    "test": manifest["options"]["test"],
                    "rows": manifest["totals"],
                },
                "test": {
                    k: report[k]
                    for k in (
                        "n",
                        "accuracy",
                        "macro_f1",
                        "weighted_f1",
                        "balanced_accuracy",
                        "top3_accuracy",
                        "log_loss",
                        "ece",
                        "majority_accuracy",
                    )
                },
                "per_label": report["per_label"],
            },
            indent=2,
        )
        + "\n"
    )
    print(
        f"copied {model} to {TARGET}; test accuracy {report['accuracy']:.4f}, macro-F1 {report['macro_f1']:.4f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
