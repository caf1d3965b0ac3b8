"""Add the prior and the conformal thresholds to the shipped model's card, fitted on its validation split.

    python scripts/add_uncertainty.py [--archive ../shared/data/names.zip] [--work build/uncertainty-benchmark]

A one-off for a model trained before `namelang train` stored them (a rebuild with
scripts/build_pretrained.py writes them itself). Prepares the archive with `prepare --seed 0` (the
split the shipped model was trained on; refused otherwise), scores the validation split with the
shipped model and writes `prior` and `conformal` into namelang/pretrained/model.json, atomically. The
test split is not read.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CARD = ROOT / "namelang" / "pretrained" / "model.json"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--archive", type=Path, default=ROOT.parent / "shared" / "data" / "names.zip")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "uncertainty-benchmark")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import numpy as np
    from uncertainty_benchmark import prepared_home, trained_on

    from namelang.data.split import MANIFEST, prepared_dir, read_split
    from namelang.inference import Classifier
    from namelang.uncertainty import uncertainty_fields
    from namelang.workspace import write_text

    home = prepared_home(args.archive, args.work)
    clf = Classifier.load("pretrained", home, "cpu")
    if not trained_on(clf.card, json.loads((prepared_dir(home) / MANIFEST).read_text())):
        raise SystemExit(f"the shipped model was not trained on prepare --seed 0 of {args.archive}")
    names, labels, _ = read_split(home, "val")
    index = {label: i for i, label in enumerate(clf.labels)}
    probs = clf.predict_proba(names).astype(np.float64)
    prior, conformal = uncertainty_fields(clf.card, probs, np.array([index[lb] for lb in labels]))
    card = json.loads(CARD.read_text(encoding="utf-8"))
    write_text(
        CARD,
        json.dumps({**card, "prior": prior, "conformal": conformal}, indent=2, ensure_ascii=False) + "\n",
    )
    print(
        f"{CARD}: prior and conformal thresholds from {len(names):,} validation names "
        f"(0.9 -> {conformal['thresholds']['0.9']:.4f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
