"""Add each training source's label prior to the shipped model's card, from the split it was trained on.

    python scripts/add_source_priors.py [--work build/pretrained]

A one-off for a model trained before `namelang train` stored them (a rebuild with
scripts/build_pretrained.py writes them itself). Reads `<work>/union/prepared/` — the workspace
build_pretrained.py trained the shipped model in — and refuses unless its manifest is the one the
shipped card names (so the shares are those of the model's own train split). Each source's label
shares among the train rows it holds (`uncertainty.source_priors`) go into namelang/pretrained/model.json
as `source_priors`, written atomically; nothing else in the card changes. Only the train split is read.
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
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "pretrained")
    args = parser.parse_args(argv)
    from namelang.data.split import MANIFEST, prepared_dir
    from namelang.runs import train_source_priors
    from namelang.workspace import sha256_file, write_text

    union = args.work / "union"
    card = json.loads(CARD.read_text(encoding="utf-8"))
    manifest = prepared_dir(union) / MANIFEST
    if not manifest.is_file() or sha256_file(manifest) != card["data"]["manifest_sha256"]:
        raise SystemExit(f"the shipped model was not trained on {manifest}: build it there first")
    priors = train_source_priors(union, card["labels"])
    write_text(CARD, json.dumps({**card, "source_priors": priors}, indent=2, ensure_ascii=False) + "\n")
    shares = "; ".join(
        f"{s}: {len(p)} languages, top {max(p, key=p.get)} {max(p.values()):.3f}" for s, p in priors.items()
    )
    print(f"{CARD}: source_priors from {union / 'prepared' / 'train.csv'} ({shares})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
