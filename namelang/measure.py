"""What the build of the shipped model (scripts/) and the benchmarks (benchmarks/) share; not the public API.

Both import it as `namelang.measure`, so neither reaches into the other. Its first section is the only
place those tools call training, ensembles, loading, scoring, tagging and the model store (`train`,
`ensemble`, `kept`, `member_names`, `load`, `scored`, `report`, `with_prior`, `source_priors`,
`fold_prior`, `publish`, `tag_table`, `dask_tagger`): when that API moves, these change and the tools do
not. The rest reads the names archive and the prepared splits and scores probabilities (numpy only).
Heavy imports (torch, sklearn, dask, safetensors) stay inside the functions that use them.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from namelang.errors import NamelangError, literal

# Where the tools find the names archive when no path is given (`--archive` in each tool's --help).
ARCHIVE_VARIABLE = "NAMELANG_ARCHIVE"
ARCHIVE_HELP = f"the names archive, names.zip (default: the file ${ARCHIVE_VARIABLE} names)"
THRESHOLDS = (0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)  # the out-of-scope curve's cuts on the top score


# --- the one seam into training, ensembles, loading, scoring and the store ------------------------


@dataclasses.dataclass
class Trained:
    """One model of a run: where it is, what it cost, how it scored on validation and test."""

    name: str
    kind: str  # an architecture, "ngram", "ensemble" or "student"
    path: Path
    seed: int | None = None
    train_seconds: float = 0.0
    epochs: int | None = None
    parameters: int = 0
    val: dict = dataclasses.field(default_factory=dict)
    test: dict = dataclasses.field(default_factory=dict)

    def row(self) -> dict:
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in dataclasses.asdict(self).items()}


def from_card(name: str, kind: str, path: Path, card, seed: int | None = None) -> Trained:
    """A stored model as a Trained: its cost and validation scores as its card records them."""
    return Trained(
        name,
        kind,
        Path(path),
        seed,
        card.training_seconds,
        card.epochs_run or None,
        card.parameters,
        {"accuracy": card.best.val_accuracy, "macro_f1": card.best.val_macro_f1},
    )


def train(home: Path, arch: str, seed: int, name: str, *, kind=None, device=None, force=False, **config):
    """`namelang train --arch ARCH --seed SEED [options] --name NAME` with everything else at its default
    (`config`: TrainConfig's fields); never made the workspace's default."""
    from namelang.config import TrainConfig
    from namelang.models.registry import spec_from
    from namelang.training import start_run

    config = TrainConfig(seed=seed, **config)
    run = start_run(home, spec_from(arch), config, name=name, device=device, make_default=False, force=force)
    return from_card(name, kind or arch, run.path, run.card, seed)


def ensemble(home: Path, members: list[str], name: str) -> Trained:
    """`namelang ensemble MEMBERS --name NAME`: weights and temperature fitted on validation."""
    from namelang.training.ensemble import create

    built = create(home, members, name, device="cpu")
    return from_card(name, "ensemble", built.path, built.card)


def kept(home: Path, name: str, same: Callable, kind: str, seed: int | None = None) -> Trained | None:
    """The model `name` of `home`'s store when `same(its card)` holds; otherwise it is removed (if there)
    and None is returned, so that the caller trains it again."""
    from namelang.models.store import ModelStore

    store = ModelStore(home)
    if not store.exists(name):
        return None
    found = store.load(name)
    if same(found.card):
        return from_card(name, kind, found.path, found.card, seed)
    store.remove(name)
    return None


def member_names(card) -> list[str]:
    """An ensemble's members, in order, as its card names them."""
    return [m["name"] for m in card.members or []]


def load(model, home: Path | None = None):
    """A Classifier on the CPU: `model` is a store name, a model folder or 'pretrained'."""
    from namelang.inference import Classifier

    return Classifier.load(model, home=home, device="cpu")


def scored(clf, names: list[str], labels: list[str], source: str):
    """`clf`'s probabilities on (name, label) rows as `namelang evaluate` computes them (a Scored)."""
    from namelang.evaluation import score

    return score(clf, names, labels, source=source)


def report(clf, rows, mean_recall: bool = True) -> dict:
    """`namelang evaluate`'s metrics of a Scored, with the mean recall per language unless told not."""
    from namelang.evaluation import mean_language_recall, metrics

    figures = metrics(rows)
    if mean_recall:
        figures["mean_recall"] = mean_language_recall(rows.y_true, rows.y_pred, clf.labels)
    return figures


def with_prior(clf, probs: np.ndarray, prior: str, sources: dict | None = None) -> np.ndarray:
    """`probs` of `clf` re-weighted as `--prior PRIOR` does (a training source's name, uniform,
    estimate: EM over these rows …), in their dtype; `sources` ({source: {label: share}}) stands for
    the card's source priors."""
    from namelang.scoring.adjust import Adjustment
    from namelang.scoring.options import ScoreOptions
    from namelang.uncertainty import ModelUncertainty

    model = ModelUncertainty.of(clf)
    if sources is not None:
        model = dataclasses.replace(model, sources=sources)
    adjustment = Adjustment.of_model(model, ScoreOptions(prior=prior)).settled(probs)
    return adjustment.probabilities(probs).astype(probs.dtype, copy=False)


def source_priors(home: Path, labels: list[str]) -> dict[str, dict[str, float]] | None:
    """Each training source's label shares on `home`'s prepared train split (what `--prior SOURCE` uses)."""
    from namelang.training import train_source_priors

    return train_source_priors(home, labels)


def fold_prior(home: Path, model: Trained, name: str, kind: str, shares: dict, note: dict) -> Trained:
    """A copy of `model` stored in `home` as `name`, whose output bias carries the prior `shares`
    ({label: share}) by Bayes' rule (logit + T·log(target/own)), so that every engine and path applies
    it; its prior and conformal thresholds refitted on validation, its lexicon's beta chosen again with
    the folded network; `note` is added to the card's extras."""
    from namelang.data.split import read_split
    from namelang.models.store import ModelStore
    from namelang.training import attach_lexicon
    from namelang.uncertainty import model_prior, uncertainty_fields

    store = ModelStore(home)
    source = store.load(model.path)
    card = copy.deepcopy(source.card)
    card.name, card.extras = name, {**card.extras, **note}
    state = source.tensors()
    wanted = np.array([shares[lb] for lb in card.labels])
    shift = card.temperature * np.log(wanted / model_prior(card, card.labels))
    state["head.bias"] = (state["head.bias"] + shift).astype(state["head.bias"].dtype)
    folded = source.copied(store.path_of(name), card=card, state=state)
    names, labels, _ = read_split(home, "val")
    y = np.array([card.labels.index(lb) for lb in labels])
    card = folded.card
    card.prior, card.conformal = uncertainty_fields(card, load(folded.path).predict_proba(names), y)
    folded.write_card(card)
    folded = attach_lexicon(folded.path, home, device="cpu")
    return from_card(name, kind, folded.path, folded.card, model.seed)


def publish(model: Trained, home: Path, target: Path, name: str) -> dict:
    """Copy the files of `model`'s folder into `target` (made if need be) as the model `name`, with each
    source's train-split prior from `home` on its card if it lacks them; returns the card as a dict."""
    from namelang.models.store import ModelStore

    found = ModelStore(home).load(model.path)
    card = copy.deepcopy(found.card)
    card.name = name
    card.source_priors = card.source_priors or source_priors(home, card.labels)
    found.export(target, card)
    return card.to_dict()


def tag_table(source: Path, output: Path, model: str, cache_size: int | None = None) -> None:
    """`namelang.tag_file` on the column `surname` (`cache_size`: None keeps its default cache)."""
    from namelang import tag_file
    from namelang.scoring.options import TableOptions

    table = None if cache_size is None else TableOptions(cache_size=cache_size)
    tag_file(source, output, column="surname", model=model, table=table)


def dask_tagger(model: str, scheduler: str) -> Callable[[Path, Path, int], None]:
    """(source, target, blocksize) -> None: tags the column `surname` of a table on the Dask cluster at
    `scheduler` with `model`, loaded here once and sent to the workers as data."""
    from namelang.distributed import DaskOptions, ModelPayload, tag_dataset

    payload = ModelPayload.load(model)

    def tag(source: Path, target: Path, blocksize: int) -> None:
        cluster = DaskOptions(scheduler=scheduler, blocksize=blocksize)
        tag_dataset(source, target, column="surname", model=payload, cluster=cluster)

    return tag


# --- the names archive ------------------------------------------------------------------------------


def archive_at(given: str | Path | None) -> Path:
    """The names archive: `given`, else the file $NAMELANG_ARCHIVE names. A NamelangError (one line) when
    neither names one, or it is not a zip file that can be read."""
    value = given or os.environ.get(ARCHIVE_VARIABLE)
    if not value:
        raise NamelangError(f"no archive given: use {{archive=PATH}} (names.zip) or set {ARCHIVE_VARIABLE}")
    path = Path(value)
    try:
        with zipfile.ZipFile(path) as zf:
            zf.namelist()
    except OSError as exc:
        raise NamelangError(
            f"cannot read the archive {literal(path)}: {literal(exc.strerror or exc)}"
        ) from None
    except zipfile.BadZipFile:
        raise NamelangError(f"{literal(path)} is not a zip archive") from None
    return path


def archive_option(parser, text: str = ARCHIVE_HELP) -> None:
    """A tool's `--archive PATH` option (argparse), `text` its help."""
    parser.add_argument("--archive", type=Path, metavar="PATH", help=text)


def archive_or_exit(parser, given: str | Path | None, needed: bool = True) -> Path | None:
    """`archive_at(given)` for a tool's `parser`, or None when it is not `needed`: an archive that cannot
    be had ends the tool through its parser (exit 1) with one line, in the tool's flags (`--archive PATH`)."""
    if not needed:
        return None
    try:
        return archive_at(given)
    except NamelangError as err:
        from namelang.cli.options import flag_words

        parser.exit(1, f"error: {err.worded(flag_words)}\n")


def archive_names(archive: Path, distinct: bool = True) -> list[str]:
    """The surnames of the archive's .txt members: sorted and distinct, or as listed (`distinct=False`:
    repeats kept, so that a name drawn at random comes as often as the archive holds it)."""
    names = []
    with zipfile.ZipFile(archive) as zf:
        for member in zf.namelist():
            if member.endswith(".txt"):
                names += [n.strip() for n in zf.read(member).decode("utf-8").splitlines() if n.strip()]
    return sorted(set(names)) if distinct else names


# --- prepared splits --------------------------------------------------------------------------------


@dataclasses.dataclass
class Split:
    """A prepared split's rows: names, labels and each row's sources (`archive;mimesis`)."""

    names: list[str]
    labels: list[str]
    sources: list[str]

    def where(self, keep) -> Split:
        rows = [r for r in zip(self.names, self.labels, self.sources) if keep(*r)]
        return Split(*(list(c) for c in zip(*rows))) if rows else Split([], [], [])


def read(home: Path, split: str) -> Split:
    from namelang.data.split import prepared_dir, read_split, read_split_sources

    names, labels, _ = read_split(home, split)
    return Split(names, labels, read_split_sources(prepared_dir(home) / f"{split}.csv"))


def derive(union: Path, target: Path, keep) -> None:
    """A prepared folder holding the union's rows that `keep` accepts (same groups, same test rows)."""
    from collections import Counter

    from namelang.data.alphabet import Alphabet
    from namelang.data.split import SPLITS, Row, read_manifest, rows_to_csv
    from namelang.workspace import write_json, write_text

    manifest = read_manifest(union)
    splits = {s: read(union, s).where(keep) for s in SPLITS}
    labels = sorted({lb for s in splits.values() for lb in s.labels})
    for s, data in splits.items():
        rows = [
            Row(n, lb, tuple(src.split(";"))) for n, lb, src in zip(data.names, data.labels, data.sources)
        ]
        write_text(target / "prepared" / f"{s}.csv", rows_to_csv(rows))
    counts = {s: Counter(d.labels) for s, d in splits.items()}
    derived = dataclasses.replace(
        manifest,
        labels=labels,
        alphabet=Alphabet.from_names(splits["train"].names).chars,
        counts={s: {lb: counts[s][lb] for lb in labels} for s in SPLITS},
        totals={s: len(d.names) for s, d in splits.items()},
    )
    write_json(target / "prepared" / "manifest.json", derived.to_json())


def score_split(home: Path, model: Trained, split: str = "test") -> dict:
    """The tool's own evaluation (`namelang evaluate`) of one model on a prepared split."""
    from namelang.data.split import read_split

    clf = load(model.path, home)
    names, labels, _ = read_split(home, split)
    return report(clf, scored(clf, names, labels, split), mean_recall=False)


def native_names(test: Split) -> dict[str, tuple[list[str], list[str]]]:
    """{script: (names in their own script, labels)} for the split's in-scope rows from Mimesis."""
    from namelang.data.normalize import normalize_name
    from namelang.data.scripts import script_of
    from namelang.data.sources import OUT_OF_SCOPE, read_mimesis

    mimesis = read_mimesis()
    original: dict[tuple[str, str], str] = {}
    for raw, label in zip(mimesis.names, mimesis.labels):
        original.setdefault((normalize_name(raw), label), normalize_name(raw, transliterate=False))
    by_script: dict[str, tuple[list, list]] = {}
    for name, label, source in zip(test.names, test.labels, test.sources):
        if "mimesis" not in source.split(";") or label == OUT_OF_SCOPE:
            continue
        raw = original.get((name, label), name)
        script = script_of(raw)
        if script != "Latin":
            by_script.setdefault(script, ([], []))
            by_script[script][0].append(raw)
            by_script[script][1].append(label)
    return dict(sorted(by_script.items()))


# --- scores of probabilities ------------------------------------------------------------------------


def accuracy_and_recall(labels: list[str], probs: np.ndarray, truth: list[str]) -> dict:
    from namelang.evaluation import mean_language_recall

    index = {lb: i for i, lb in enumerate(labels)}
    y = np.array([index.get(lb, -1) for lb in truth])
    p = probs.argmax(axis=1)
    per_label = {lb: float(np.mean(p[y == i] == i)) for lb, i in index.items() if (y == i).any()}
    return {
        "n": len(truth),
        "accuracy": float(np.mean(p == y)) if len(y) else float("nan"),
        "mean_recall": mean_language_recall(y, p, labels) if len(y) else float("nan"),
        "per_label": per_label,
    }


def in_scope_mask(labels: list[str]) -> np.ndarray:
    from namelang.data.sources import OUT_OF_SCOPE

    return np.array([lb != OUT_OF_SCOPE for lb in labels])


def oos_curve(labels, probs: np.ndarray, truth: list[str]) -> list[dict]:
    """Share of out-of-scope names flagged vs in-scope accuracy lost, per threshold on the top score.

    A name is flagged when the model says `unknown` or its top in-scope score is under the threshold;
    the loss is measured against the same model with no flag at all (its `unknown` column ignored).
    """
    from namelang.data.sources import OUT_OF_SCOPE

    scope = in_scope_mask(labels)
    oos_rows = np.array([t == OUT_OF_SCOPE for t in truth])
    index = {lb: i for i, lb in enumerate(labels)}
    y = np.array([index.get(t, -1) for t in truth])
    in_scope_probs = np.where(scope, probs, -1.0)
    plain = in_scope_probs.argmax(axis=1)
    said_unknown = probs.argmax(axis=1) != plain
    reference = float(np.mean(plain[~oos_rows] == y[~oos_rows]))
    curve = []
    for threshold in THRESHOLDS:
        flagged = said_unknown | (in_scope_probs.max(axis=1) < threshold)
        kept_right = (plain == y) & ~flagged
        curve.append(
            {
                "threshold": threshold,
                "oos_flagged": float(np.mean(flagged[oos_rows])) if oos_rows.any() else float("nan"),
                "in_scope_accuracy": float(np.mean(kept_right[~oos_rows])),
                "accuracy_lost": reference - float(np.mean(kept_right[~oos_rows])),
            }
        )
    return curve
