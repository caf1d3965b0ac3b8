"""Union (archive + Mimesis) vs archive only, per source, per language, per script, and out of scope.

    python benchmarks/registers_benchmark.py --archive PATH/names.zip [--seed 0] [--json out.json]

One group split of the union (`prepare archive mimesis`); every model below is trained on rows of
that split's train part and scored on the same test rows, in the same run:
  - union:         all train rows, the out-of-scope lists as a label of their own (`unknown`)
  - union-no-oos:  the same without the out-of-scope rows (for the score-threshold alternative)
  - archive-only:  the train rows the archive holds (the tutorial model)
each as a default `gru` and as the char n-gram baseline (TF-IDF char_wb 1-5 + LogisticRegression, C on
validation macro-F1, as in train_benchmark.py). Native-script names are fed in their own script
(Cyrillic and Greek from Mimesis's ru/el lists, Han, Kana, Hangul, Arabic) through the Classifier.
The out-of-scope choice is made on the validation split; the test split only reports it. Each
source's test rows are also scored re-weighted to that source's label shares on the union's
train split, as `predict --prior archive` / `--prior mimesis` does ("… with --prior archive"): from
the model's training label shares (for the n-gram, scikit-learn's probabilities carry them too).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

from namelang.measure import (
    Split,
    accuracy_and_recall,
    archive_option,
    archive_or_exit,
    derive,
    load,
    native_names,
    oos_curve,
    read,
    source_priors,
    train,
)

MAX_LOSS = 0.02  # in-scope accuracy the out-of-scope flag may cost (the target)


def fit_ngram(train: Split, val: Split):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score

    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 5), sublinear_tf=True)
    x_train, x_val = vectorizer.fit_transform(train.names), vectorizer.transform(val.names)
    best = None
    for c in (1.0, 10.0, 100.0):
        model = LogisticRegression(C=c, max_iter=3000).fit(x_train, train.labels)
        f1 = f1_score(val.labels, model.predict(x_val), average="macro")
        if best is None or f1 > best[0]:
            best = (f1, model)
    model = best[1]
    labels = list(model.classes_)
    return labels, lambda names: model.predict_proba(vectorizer.transform(names))


def gru_predictor(home: Path, seed: int, name: str):
    """(labels, predict, train seconds, its training split's label shares: what `--prior SOURCE` moves from)."""
    from namelang.uncertainty import card_training_prior

    clf = load(train(home, "gru", seed, name, force=True).path)
    return clf.labels, clf.predict_proba, clf.card.training_seconds, card_training_prior(clf.card, clf.labels)


def under_source(probs, labels: list[str], carried: np.ndarray, priors: dict, source: str) -> np.ndarray:
    """`probs` re-weighted from `carried` (the training split's label shares) to `source`'s train-split
    label shares, as `--prior SOURCE` does (restricted to `labels`: the archive-only models lack `unknown`)."""
    from namelang.uncertainty import prior_from_mapping, reweight

    target = prior_from_mapping({lb: p for lb, p in priors[source].items() if lb in labels}, labels, source)
    return reweight(probs, carried, target)


def score_subsets(labels, predict, carried: np.ndarray, subsets: dict, priors: dict) -> dict:
    """Each subset ("archive test", …) as predicted, and re-weighted to its source's train-split prior
    ("archive test with --prior archive")."""
    scores = {}
    for title, subset in subsets.items():
        probs = predict(subset.names)
        scores[title] = accuracy_and_recall(labels, probs, subset.labels)
        source = title.split()[0]  # "archive test" -> archive
        moved = under_source(probs, labels, carried, priors, source)
        scores[f"{title} with --prior {source}"] = accuracy_and_recall(labels, moved, subset.labels)
    return scores


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    archive_option(parser)
    parser.add_argument("--work", type=Path, default=None, help="workspace (default: a temporary folder)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-gru", action="store_true", help="the n-gram baselines only")
    parser.add_argument("--skip-ngram", action="store_true", help="the GRUs only")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--markdown", type=Path, nargs="+", help="only print the tables of these JSON results"
    )
    args = parser.parse_args(argv)
    if args.markdown:
        merged = {"models": {}}
        for path in args.markdown:
            merged["models"].update(json.loads(path.read_text())["models"])
        print(markdown(merged))
        return 0
    archive = archive_or_exit(parser, args.archive)
    results = run(args, archive)
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


def run(args, archive: Path) -> dict:
    from namelang.data.download import download
    from namelang.data.scripts import RULED, script_of
    from namelang.data.sources import OUT_OF_SCOPE, read_sources
    from namelang.data.split import prepare
    from namelang.uncertainty import training_prior

    work = args.work or Path(tempfile.mkdtemp(prefix="namelang-registers-"))
    union = work / "union"
    download(union, url=str(archive))
    print(f"workspace {work}", file=sys.stderr)
    manifest = prepare(read_sources(["archive", "mimesis"], union), union, seed=args.seed).manifest
    derive(union, work / "union-no-oos", lambda n, lb, s: lb != OUT_OF_SCOPE)
    derive(union, work / "archive-only", lambda n, lb, s: "archive" in s.split(";") and lb != OUT_OF_SCOPE)
    val, test = read(union, "val"), read(union, "test")
    model_path = lambda n, lb, s: script_of(n) not in RULED  # noqa: E731
    subsets = {
        "archive test": test.where(lambda n, lb, s: "archive" in s.split(";") and lb != OUT_OF_SCOPE),
        "mimesis test": test.where(lambda n, lb, s: "mimesis" in s.split(";") and lb != OUT_OF_SCOPE),
        "mimesis test (Latin + transliterated)": test.where(
            lambda n, lb, s: "mimesis" in s.split(";") and lb != OUT_OF_SCOPE and model_path(n, lb, s)
        ),
    }
    natives = native_names(test)
    priors = source_priors(union, manifest.labels)
    results = {"seed": args.seed, "sizes": {s.name: s.rows for s in manifest.sources}, "models": {}}
    results["source_priors"] = priors
    for variant in ("union", "union-no-oos", "archive-only"):
        home = union if variant == "union" else work / variant
        train_rows, val_rows = read(home, "train"), read(home, "val")
        kinds = []
        if not args.skip_ngram:  # scikit-learn's probabilities carry the training rows' label shares
            labels, predict = fit_ngram(train_rows, val_rows)
            kinds.append(("ngram", labels, predict, None, training_prior(Counter(train_rows.labels), labels)))
        if not args.skip_gru:
            kinds.append(("gru", *gru_predictor(home, args.seed, f"bench-{variant}")))
        for kind, labels, predict, seconds, carried in kinds:
            started = time.perf_counter()
            entry = {"train_seconds": seconds, **score_subsets(labels, predict, carried, subsets, priors)}
            entry["scripts"] = {
                script: accuracy_and_recall(labels, predict(names), truth)
                for script, (names, truth) in natives.items()
            }
            entry["oos_val"] = oos_curve(labels, predict(val.names), val.labels)
            entry["oos_test"] = oos_curve(labels, predict(test.names), test.labels)
            entry["score_seconds"] = time.perf_counter() - started
            results["models"][f"{kind} {variant}"] = entry
            print(f"{kind} {variant}: {summary(entry)}", file=sys.stderr)
    results["oos_choice"] = choose_oos(results["models"])
    return results


def markdown(results: dict) -> str:
    """The tables of docs/building-the-model.md: per subset, per language (Mimesis test), per script, out of scope."""
    models = results["models"]
    subsets = [
        t
        for t in next(iter(models.values()))
        if "test" in t and isinstance(next(iter(models.values()))[t], dict)
    ]
    lines = ["| model | " + " | ".join(f"{t} acc / mean recall" for t in subsets) + " |"]
    lines.append("| --- |" + " --- |" * len(subsets))
    for name, entry in models.items():
        cells = [
            f"{entry[t]['accuracy']:.3f} / {entry[t]['mean_recall']:.3f} (n={entry[t]['n']:,})"
            for t in subsets
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    languages = sorted({lb for e in models.values() for lb in e["mimesis test"]["per_label"]})
    lines += ["", "| Mimesis test, recall | " + " | ".join(models) + " |", "| --- |" + " --- |" * len(models)]
    for lb in languages:
        cells = [f"{e['mimesis test']['per_label'].get(lb, float('nan')):.3f}" for e in models.values()]
        lines.append(f"| {lb} | " + " | ".join(cells) + " |")
    scripts = sorted({s for e in models.values() for s in e["scripts"]})
    lines += [
        "",
        "| script (own spelling) | " + " | ".join(models) + " |",
        "| --- |" + " --- |" * len(models),
    ]
    for script in scripts:
        cells = [
            f"{e['scripts'][script]['accuracy']:.3f} (n={e['scripts'][script]['n']})" for e in models.values()
        ]
        lines.append(f"| {script} | " + " | ".join(cells) + " |")
    lines += ["", "| model | threshold | val: OOS flagged | val: accuracy lost | test: OOS flagged | test: accuracy lost |",
              "| --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    for name, entry in models.items():
        if "archive-only" in name:
            continue
        for v, t in zip(entry["oos_val"], entry["oos_test"]):
            lines.append(f"| {name} | {v['threshold']:.1f} | {v['oos_flagged']:.3f} | {v['accuracy_lost']:+.3f} | "
                         f"{t['oos_flagged']:.3f} | {t['accuracy_lost']:+.3f} |")  # fmt: skip
    return "\n".join(lines)


def summary(entry: dict) -> str:
    parts = [
        f"{t}: {entry[t]['accuracy']:.3f}/{entry[t]['mean_recall']:.3f}" for t in entry if t.endswith(" test")
    ]
    return "; ".join(parts)


def choose_oos(models: dict) -> dict:
    """On validation: the model and threshold flagging the most out-of-scope names within MAX_LOSS."""
    best = None
    for name, entry in models.items():
        if "archive-only" in name:
            continue
        for point in entry["oos_val"]:
            if point["accuracy_lost"] <= MAX_LOSS and (
                best is None or point["oos_flagged"] > best[1]["oos_flagged"]
            ):
                best = (name, point)
    return {"model": best[0], **best[1]} if best else {}


if __name__ == "__main__":
    sys.exit(main())
