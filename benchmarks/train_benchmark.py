"""Train every architecture with its defaults on the shared archive; compare with the baselines.

    python benchmarks/train_benchmark.py [--archive ../shared/data/names.zip] [--device cpu] [--json out.json]

Prints one table (test accuracy, test macro-F1, training seconds, parameters) with the majority-class
baseline and a scikit-learn character n-gram baseline (TfidfVectorizer char_wb 1-5, sublinear tf,
LogisticRegression with C picked on the validation split), all in the same run on the same split.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ARCHIVE = ROOT.parent / "shared" / "data" / "names.zip"


def ngram_baseline(train, val, test) -> dict:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score

    started = time.perf_counter()
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 5), sublinear_tf=True)
    x_train = vectorizer.fit_transform(train[0])
    x_val, x_test = vectorizer.transform(val[0]), vectorizer.transform(test[0])
    best = None
    for c in (1.0, 10.0, 100.0):
        model = LogisticRegression(C=c, max_iter=3000).fit(x_train, train[1])
        f1 = f1_score(val[1], model.predict(x_val), average="macro")
        if best is None or f1 > best[0]:
            best = (f1, c, model)
    _, c, model = best
    predicted = model.predict(x_test)
    return {
        "model": f"char n-gram + LogReg (C={c:g})",
        "test_accuracy": accuracy_score(test[1], predicted),
        "test_macro_f1": f1_score(test[1], predicted, average="macro"),
        "train_seconds": time.perf_counter() - started,
        "parameters": int(model.coef_.size + model.intercept_.size),
    }


def majority_baseline(train, test) -> dict:
    from collections import Counter

    from sklearn.metrics import accuracy_score, f1_score

    label = Counter(train[1]).most_common(1)[0][0]
    predicted = [label] * len(test[1])
    return {
        "model": f"majority class ({label})",
        "test_accuracy": accuracy_score(test[1], predicted),
        "test_macro_f1": f1_score(test[1], predicted, average="macro"),
        "train_seconds": 0.0,
        "parameters": 0,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--archive", type=Path, default=DEFAULT_ARCHIVE)
    parser.add_argument("--home", type=Path, default=None, help="workspace (default: a temporary folder)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--arch", action="append", help="architectures (default: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)

    import torch
    from rich.console import Console
    from rich.table import Table

    from namelang.config import TrainConfig
    from namelang.data.corpus import read_corpus
    from namelang.data.download import download
    from namelang.data.split import prepare, read_split
    from namelang.device import describe, resolve_device
    from namelang.evaluation import metrics, score
    from namelang.inference import Classifier
    from namelang.models.registry import ARCHITECTURES, spec_from
    from namelang.runs import start_run
    from namelang.workspace import Workspace

    console = Console(stderr=True)
    home = args.home or Path(tempfile.mkdtemp(prefix="namelang-bench-"))
    device = resolve_device(args.device)
    download(home, url=str(args.archive))
    prepare(read_corpus(home / "raw"), home, seed=args.seed)
    splits = {s: read_split(home, s)[:2] for s in ("train", "val", "test")}
    console.print(f"workspace {home}; device {describe(device)}; torch threads {torch.get_num_threads()}")

    results = []
    for arch in args.arch or list(ARCHITECTURES):
        console.print(f"training {arch} …")
        run = start_run(
            Workspace(home),
            spec_from(arch),
            TrainConfig(seed=args.seed),
            name=f"bench-{arch}",
            device=device,
            make_default=False,
            force=True,  # a rerun over the same --home replaces its earlier benchmark models
        )
        clf = Classifier.load(run.path, device=args.device)
        report = metrics(score(clf, *splits["test"], source="test"))
        results.append(
            {
                "model": arch,
                "test_accuracy": report["accuracy"],
                "test_macro_f1": report["macro_f1"],
                "train_seconds": run.card.training_seconds,
                "parameters": run.card.parameters,
                "epochs": run.card.epochs_run,
                "best_epoch": run.card.best.epoch,
                "val_macro_f1": run.card.best.val_macro_f1,
            }
        )
    console.print("n-gram baseline …")
    results.append(ngram_baseline(splits["train"], splits["val"], splits["test"]))
    results.append(majority_baseline(splits["train"], splits["test"]))

    machine = f"{platform.machine()}, {torch.get_num_threads()} threads, {describe(device)}, torch {torch.__version__}"
    table = Table(title=f"test split ({len(splits['test'][0]):,} names) — {machine}", title_justify="left")
    for heading in ("model", "test accuracy", "test macro-F1", "train s", "epochs", "parameters"):
        table.add_column(heading, justify="left" if heading == "model" else "right")
    for r in results:
        table.add_row(
            r["model"],
            f"{r['test_accuracy']:.4f}",
            f"{r['test_macro_f1']:.4f}",
            f"{r['train_seconds']:.1f}",
            str(r.get("epochs", "")),
            f"{r['parameters']:,}",
        )
    Console().print(table)
    payload = {"machine": machine, "device": str(device), "seed": args.seed, "results": results}
    print(json.dumps(payload, indent=2))
    if args.json:
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
