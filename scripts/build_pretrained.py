"""Build the model shipped in namelang/pretrained/ and write its model card, all from one run.

    python scripts/build_pretrained.py [--archive ../shared/data/names.zip] [--work build/pretrained]
        [--seeds 0 1 2] [--json build/pretrained.json]

1. `download`, then `prepare archive mimesis --seed 0`: one group split of the union. The archive-only
   workspace holds the union's rows that the archive holds (the same test rows), as in
   benchmarks/registers_benchmark.py, so both models are scored on names neither saw.
2. On the union: a default gru per seed, the n-gram model, their ensemble (weights on validation) and
   a gru distilled from the ensemble (train_benchmark.STUDENT). On the archive-only rows: a default
   gru and the n-gram model, beside.
3. The shipped model is the candidate of one model's cost (a single gru or the student) with the best
   union validation accuracy as the tool scores it (`namelang evaluate`: script rules included, unlike
   the accuracy training records, which sees native-script names as unknown characters); the ensemble
   is reported but not shipped (it costs one pass per member).
4. Every model is scored on the union's test split: the archive's rows, Mimesis's rows (accuracy, recall
   per language, mean recall), Mimesis's names in their own script (per script), and the out-of-scope
   trade-off (threshold chosen on validation). The archive's and Mimesis's rows are scored twice: with
   the model's own probabilities, and re-weighted to that source's label shares on the union's train
   split (`--prior archive`, `--prior mimesis`; for a model without a label, the shares of the labels
   it has).
5. The chosen folder is copied into the package, with each source's train-split prior in its card
   (`source_priors`), metrics.json and MODEL_CARD.md.
The test split only scores: every choice is made on validation.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "namelang" / "pretrained"
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "scripts"))

from model_card import model_card  # noqa: E402
from train_benchmark import STUDENT, Trained, _from_card, make_ensemble, score_split, train_model  # noqa: E402

SHIPPED = ("weights.safetensors", "model.json", "history.csv", "loss.png", "lexicon.json.gz")
TITLES = {"archive": "archive test", "mimesis": "mimesis test"}
WITH_PRIOR = " with --prior "  # "archive test with --prior archive": that subset under its source's prior


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def prepare_union(archive: Path, work: Path) -> tuple[Path, Path]:
    """`prepare archive mimesis --seed 0`, and the archive's rows of it. A workspace whose split files
    are byte for byte the ones this run makes is left as it is, so the models trained on it stay valid."""
    from registers_benchmark import derive

    from namelang.data.download import download
    from namelang.data.sources import OUT_OF_SCOPE, read_sources
    from namelang.data.split import prepare

    union, archive_only = work / "union", work / "archive-only"
    fresh = work / "fresh"
    shutil.rmtree(fresh, ignore_errors=True)
    download(fresh, url=str(archive))
    prepare(read_sources(["archive", "mimesis"], fresh), fresh, seed=0)
    derive(fresh, fresh / "archive-only", lambda n, lb, s: "archive" in s.split(";") and lb != OUT_OF_SCOPE)
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


def test_subsets(union: Path) -> dict:
    """The union's test rows by source (out-of-scope rows are scored by the trade-off, not here)."""
    from registers_benchmark import read

    from namelang.data.sources import OUT_OF_SCOPE

    test = read(union, "test")
    return {
        title: test.where(lambda n, lb, s, tag=tag: tag in s.split(";") and lb != OUT_OF_SCOPE)
        for tag, title in TITLES.items()
    }


def score(model: Trained, union: Path, subsets: dict, priors: dict) -> dict:
    """Test metrics on each source's rows, as they are and under that source's train-split prior
    (`priors`: {source: {label: share}}), and the out-of-scope curve on validation and test."""
    from registers_benchmark import accuracy_and_recall, native_names, oos_curve, read

    from namelang.evaluation import mean_language_recall, metrics
    from namelang.evaluation import score as score_rows
    from namelang.inference import Classifier

    clf = Classifier.load(model.path, device="cpu")
    report = {}
    for source, title in TITLES.items():
        subset = subsets[title]
        known = [(n, lb) for n, lb in zip(subset.names, subset.labels) if lb in clf.labels]
        scored = score_rows(clf, [n for n, _ in known], [lb for _, lb in known], source=title)
        for key, reading in (
            (title, scored),
            (title + WITH_PRIOR + source, under(clf, scored, priors, source)),
        ):
            report[key] = metrics(reading)
            report[key]["mean_recall"] = mean_language_recall(reading.y_true, reading.y_pred, clf.labels)
    for split in ("val", "test"):
        rows = read(union, split)
        report[f"oos_{split}"] = oos_curve(clf.labels, clf.predict_proba(rows.names), rows.labels)
    report["scripts"] = {  # Mimesis's test names in their own script: rules, transliteration, model
        script: accuracy_and_recall(clf.labels, clf.predict_proba(names), truth)
        for script, (names, truth) in native_names(read(union, "test")).items()
    }
    return report


def score_val(model: Trained, union: Path) -> None:
    """The model's `val` becomes the union's validation split as the tool scores it (`namelang
    evaluate`: script rules included); what training recorded, which saw native-script names as
    unknown characters, is kept under "at_training"."""
    val = score_split(union, model, "val")
    model.val = {"accuracy": val["accuracy"], "macro_f1": val["macro_f1"], "at_training": model.val}


def under(clf, scored, priors: dict, source: str):
    """`scored` re-weighted to `source`'s train-split label shares by the code `--prior SOURCE` runs
    (restricted to the labels the model has: the archive-only models lack `unknown`)."""
    import dataclasses

    from namelang.uncertainty import ModelUncertainty

    shares = {lb: share for lb, share in priors[source].items() if lb in clf.labels}
    model = dataclasses.replace(ModelUncertainty.of(clf), sources={source: shares})
    return dataclasses.replace(
        scored, probs=model.reweighted(scored.probs, model.parse(source)), prior=source
    )


def trained(home: Path, arch: str, seed: int, name: str, kind=None, after: str = "", **config) -> Trained:
    """Train, unless the workspace holds a model of that name trained on this very split with these
    settings (a rerun after an interruption, or after `prepare` wrote the same bytes again), and
    created after `after` (a student is stale once its teacher is made again)."""
    from namelang.data.split import MANIFEST, prepared_dir
    from namelang.models.store import ModelStore
    from namelang.workspace import sha256_file

    store = ModelStore(home)
    if store.exists(name):
        card = store.load(name).card
        wanted = {"seed": seed, **config}
        same = card.arch == arch and all(card.training.get(k, v) == v for k, v in wanted.items())
        same = same and card.created > after
        if same and card.data.manifest_sha256 == sha256_file(prepared_dir(home) / MANIFEST):
            log(f"{home.name}: {name} was trained on this split already ({card.created}); kept")
            return _from_card(name, kind or arch, store.path_of(name), card, seed)
        store.remove(name)
    log(f"{home.name}: training {name} …")
    return train_model(home, arch, seed, name, kind=kind, **config)


def ensemble_of(union: Path, members: list[str]) -> Trained:
    """The ensemble of `members`, kept when the workspace holds it already (its student learnt from it)."""
    from namelang.data.split import MANIFEST, prepared_dir
    from namelang.models.store import ModelStore
    from namelang.workspace import sha256_file

    store = ModelStore(union)
    if store.exists("ensemble"):
        card = store.load("ensemble").card
        listed = [m["name"] for m in card.extras.get("members", [])]
        if listed == members and card.data.manifest_sha256 == sha256_file(prepared_dir(union) / MANIFEST):
            log(f"union: the ensemble of {', '.join(members)} exists already ({card.created}); kept")
            return _from_card("ensemble", "ensemble", store.path_of("ensemble"), card)
        store.remove("ensemble")
    log(f"union: ensemble of {', '.join(members)} …")
    return make_ensemble(union, members, "ensemble")


def train_union(union: Path, seeds: list[int]) -> list[Trained]:
    from namelang.models.store import ModelStore

    models = [trained(union, "gru", seed, f"gru-s{seed}") for seed in seeds]
    models.append(trained(union, "ngram", 0, "ngram"))
    members = [m.name for m in models]
    models.append(ensemble_of(union, members))
    made = ModelStore(union).load("ensemble").card.created
    student = trained(union, "gru", seeds[0], "student", "student", made, teacher="ensemble", **STUDENT)
    return [*models, student]


def confusion_figure(model: Trained, subset, path: Path) -> None:
    """The shipped model's confusion matrix on the archive's test rows (rows: true, normalised)."""
    from namelang.evaluation import confusion
    from namelang.evaluation import score as score_rows
    from namelang.inference import Classifier
    from namelang.plots import confusion_heatmap

    clf = Classifier.load(model.path, device="cpu")
    matrix, _ = confusion(score_rows(clf, subset.names, subset.labels, source="archive test"), "true")
    title = f"pretrained on the archive's test names ({len(subset.names):,})"
    confusion_heatmap(matrix, clf.labels, path, title, True)


def _ensemble_members(union: Path) -> list[dict]:
    from namelang.models.store import ModelStore

    members = ModelStore(union).load("ensemble").card.extras["members"]
    return [{"name": m["name"], "weight": m["weight"]} for m in members]


def choose(models: list[Trained]) -> Trained:
    """Best validation accuracy (the tool's, `score_val`) among the models of one model's cost."""
    eligible = [m for m in models if m.kind in ("gru", "student")]
    return max(eligible, key=lambda m: m.val["accuracy"])


def ship(model: Trained, union: Path) -> dict:
    """Copy the model into the package as `pretrained`, with the label prior and the conformal
    thresholds fitted on the validation split (uncertainty.py) and each source's train-split prior when
    its card has none yet."""
    import numpy as np

    from namelang.data.split import read_split
    from namelang.inference import Classifier
    from namelang.models.store import read_card
    from namelang.runs import train_source_priors
    from namelang.uncertainty import uncertainty_fields

    for name in SHIPPED:
        if (model.path / name).is_file():
            shutil.copy2(model.path / name, TARGET / name)
    card = read_card(TARGET)
    card.source_priors = card.source_priors or train_source_priors(union, card.labels)
    if card.prior is None or card.conformal is None:
        names, labels, _ = read_split(union, "val")
        probs = Classifier.load(model.path, device="cpu").predict_proba(names)
        y = np.array([card.labels.index(lb) for lb in labels])
        card.prior, card.conformal = uncertainty_fields(card, probs, y)
    card.name = "pretrained"
    (TARGET / "model.json").write_text(card.to_json())
    return card.to_dict()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--archive", type=Path, default=ROOT.parent / "shared" / "data" / "names.zip")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "pretrained")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--json", type=Path, help="also write every model's figures here")
    args = parser.parse_args(argv)
    from namelang.runs import train_source_priors

    union, archive_only = prepare_union(args.archive, args.work)
    manifest = json.loads((union / "prepared" / "manifest.json").read_text())
    models = train_union(union, args.seeds)
    log("archive only: gru and n-gram …")
    beside = [
        trained(archive_only, "gru", args.seeds[0], "gru-archive", kind="archive-only gru"),
        trained(archive_only, "ngram", 0, "ngram-archive", kind="archive-only ngram"),
    ]
    subsets = test_subsets(union)
    priors = train_source_priors(union, manifest["labels"])
    for model in models + beside:
        log(f"scoring {model.name} …")
        model.test = score(model, union, subsets, priors)
    for model in models:
        score_val(model, union)
    chosen = choose(models)
    shipped = ship(chosen, union)
    figures = {
        "chosen": chosen.name,
        "manifest": {k: manifest[k] for k in ("totals", "seed", "sources") if k in manifest},
        "source_priors": priors,
        "student": STUDENT,
        "ensemble_members": _ensemble_members(union),
        "models": [m.row() for m in models + beside],
    }
    (TARGET / "metrics.json").write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
    (TARGET / "MODEL_CARD.md").write_text(model_card(shipped, figures))
    confusion_figure(chosen, subsets[TITLES["archive"]], ROOT / "docs" / "confusion-pretrained.png")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
    log(f"shipped {chosen.name} ({chosen.kind}) to {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
