"""Every architecture's defaults over several seeds, beside the n-gram baseline, an ensemble and a
distilled student, all in one run on one split.

    python benchmarks/train_benchmark.py --archive PATH/names.zip [--seeds 0 1 2]
        [--arch gru ...] [--device cpu] [--json out.json] [--home DIR]

On `prepare --seed 0` of the archive:
1. each architecture with its defaults (`namelang train --arch A --seed S`), once per seed: test
   accuracy and macro-F1 as mean ± sd over the seeds, training seconds;
2. the n-gram baseline inside the tool (`train --arch ngram`: char_wb 1-5 TF-IDF + logistic
   regression, C chosen on validation macro-F1);
3. `namelang ensemble` of the gru seeds and the n-gram (weights and temperature fitted on validation);
4. a gru distilled from that ensemble (`train --teacher`, the recipe in STUDENT, chosen on validation);
5. the majority class.
The test split only scores: every choice above is made on validation. The workspace is a temporary
folder, removed at the end unless --home is given.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from namelang.measure import Trained, archive_option, archive_or_exit, ensemble, score_split, train

NETWORKS = ("rnn-classic", "rnn", "lstm", "gru")
# The student's recipe, chosen on the union split's validation names (docs/building-the-model.md,
# "What was tried for the student"): a longer schedule than a plain gru's, which alone does not help, and the kept epoch chosen
# by validation accuracy, since macro-F1 over labels with a handful of names picked early epochs.
STUDENT = {
    "epochs": 50,
    "patience": 15,
    "select": "accuracy",
    "teacher_copies": 1,
    "distill_temperature": 2.0,
    "distill_weight": 0.7,
}


def majority(home: Path) -> Trained:
    from collections import Counter

    from namelang.data.split import read_split

    label = Counter(read_split(home, "train")[1]).most_common(1)[0][0]
    truth = read_split(home, "test")[1]
    accuracy = sum(t == label for t in truth) / len(truth)
    present = len(set(truth))
    # One label always: its F1 is 2p/(1+p) where p is its share; every other label scores 0.
    return Trained(
        f"majority class ({label})",
        "majority",
        home,
        test={"accuracy": accuracy, "macro_f1": (2 * accuracy / (1 + accuracy)) / present},
    )


def mean_sd(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def summarize(models: list[Trained]) -> list[dict]:
    """One row per kind: mean ± sd over its seeds (a single model has sd 0)."""
    rows, order = [], list(dict.fromkeys(m.kind for m in models))
    for kind in order:
        group = [m for m in models if m.kind == kind]
        row = {"model": kind if len(group) > 1 else group[0].name, "runs": len(group)}
        for split in ("val", "test"):
            for metric in ("accuracy", "macro_f1"):
                values = [m.__dict__[split].get(metric) for m in group]
                if all(v is not None for v in values):
                    row[f"{split}_{metric}"] = mean_sd(values)
        row["train_seconds"] = mean_sd([m.train_seconds for m in group])
        row["epochs"] = group[0].epochs
        row["parameters"] = group[0].parameters
        rows.append(row)
    return rows


def _pm(value: tuple[float, float] | None, runs: int, digits: int = 4) -> str:
    if value is None:
        return ""
    mean, sd = value
    return f"{mean:.{digits}f} ± {sd:.{digits}f}" if runs > 1 else f"{mean:.{digits}f}"


def render(rows: list[dict], title: str) -> str:
    """A Markdown table (docs/benchmarks.md quotes it as printed)."""
    lines = [
        f"{title}\n",
        "| model | runs | val accuracy | test accuracy | test macro-F1 | train s | epochs | parameters |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        n = r["runs"]
        seconds = r["train_seconds"]
        lines.append(
            f"| {r['model']} | {n} | {_pm(r.get('val_accuracy'), n)} | {_pm(r.get('test_accuracy'), n)} "
            f"| {_pm(r.get('test_macro_f1'), n)} | {_pm(seconds, n, 1) if seconds[0] else ''} "
            f"| {r['epochs'] or ''} | {r['parameters']:,} |"
        )
    return "\n".join(lines)


def run_suite(home: Path, archs, seeds, device=None, log=print) -> list[Trained]:
    """Steps 1-4 on the split prepared in `home`; each model is scored on test as soon as it exists."""
    models = []

    def add(model: Trained) -> None:
        model.test = score_split(home, model)
        models.append(model)
        log(
            f"{model.name}: val accuracy {model.val['accuracy']:.4f}, test accuracy "
            f"{model.test['accuracy']:.4f}, test macro-F1 {model.test['macro_f1']:.4f}, {model.train_seconds:.0f} s"
        )

    # The gru seeds, the n-gram, their ensemble and the student first: on a busy machine, the figures
    # the other rows are compared with come first.
    for seed in seeds:
        add(train(home, "gru", seed, f"gru-s{seed}", device=device))
    add(train(home, "ngram", 0, "ngram"))
    members = [m.name for m in models if m.kind == "gru"] + ["ngram"]
    add(ensemble(home, members, "ensemble"))
    add(train(home, "gru", seeds[0], "student", kind="student", device=device, teacher="ensemble", **STUDENT))
    for arch in [a for a in archs if a != "gru"]:
        for seed in seeds:
            add(train(home, arch, seed, f"{arch}-s{seed}", device=device))
    order = {kind: i for i, kind in enumerate([*NETWORKS, "ngram", "ensemble", "student"])}
    return sorted(models, key=lambda m: order.get(m.kind, len(order)))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    archive_option(parser)
    parser.add_argument("--home", type=Path, default=None, help="workspace, kept (default: a temporary one)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--arch", action="append", help="architectures (default: all networks)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    archive = archive_or_exit(parser, args.archive)

    import torch

    from namelang.data.corpus import read_corpus
    from namelang.data.download import download
    from namelang.data.split import prepare
    from namelang.device import describe, resolve_device

    home = args.home or Path(tempfile.mkdtemp(prefix="namelang-bench-"))
    device = resolve_device(args.device)
    try:
        download(home, url=str(archive))
        prepare(read_corpus(home / "raw"), home, seed=0)
        log = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731
        log(f"workspace {home}; device {describe(device)}; torch threads {torch.get_num_threads()}")
        models = run_suite(home, args.arch or NETWORKS, args.seeds, device, log) + [majority(home)]
    finally:
        if args.home is None:
            shutil.rmtree(home, ignore_errors=True)
    machine = f"{platform.machine()}, {torch.get_num_threads()} threads, {describe(device)}, torch {torch.__version__}"
    rows = summarize(models)
    n_test = models[0].test["n"]
    print(render(rows, f"test split ({n_test:,} names), seeds {args.seeds} — {machine}"))
    payload = {"machine": machine, "seeds": args.seeds, "student": STUDENT, "summary": rows}
    payload["models"] = [m.row() for m in models]
    if args.json:
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
