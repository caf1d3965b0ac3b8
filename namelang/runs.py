"""A training run: prepared splits in, a stored model out. Ties data, registry, trainer and store.

The store's rules live here, in one place each:
- a name that exists is refused unless `force`; a forced run replaces the old model only once it has
  finished and been written (until then the old one stays intact and loadable);
- interrupted before an epoch finished (or a forced run interrupted at all): nothing is saved
  (`NothingSaved`); interrupted after one or more: the best epoch is saved with `interrupted: true`
  and does not become the default;
- a resumed run continues with its stored architecture and options; only the epoch budget, the
  patience and the device may change (`resume_conflicts` lists any other option that differs).
"""

from __future__ import annotations

import csv
import io
import platform
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from namelang import __version__
from namelang.config import TrainConfig
from namelang.data.alphabet import MAX_LENGTH, Alphabet
from namelang.data.split import (
    load_manifest,
    manifest_sha256,
    read_split,
    read_split_sources,
)
from namelang.errors import NamelangError
from namelang.models.card import Best, DataInfo, ModelCard, Normalization
from namelang.models.registry import ARCHITECTURES, ArchSpec, flag, spec_from
from namelang.models.store import PRETRAINED, ModelStore, StoredModel, check_name
from namelang.training import Callbacks, EarlyStopping, Encoded, EpochReport, FitResult, fit
from namelang.workspace import Workspace

# What `--resume` lets a user change; everything else is the stored run's.
RESUME_MAY_CHANGE = ("epochs", "patience", "device")


class NothingSaved(KeyboardInterrupt):
    """Ctrl-C left nothing worth keeping (or nothing it may replace): the store is as it was."""


@dataclass
class RunResult:
    stored: StoredModel
    fit: FitResult

    @property
    def name(self) -> str:
        return self.stored.name

    @property
    def path(self):
        return self.stored.path

    @property
    def card(self) -> ModelCard:
        return self.stored.card


@dataclass
class _Run:
    """Everything one run trains with, whether it starts afresh or resumes a stored run."""

    name: str
    spec: ArchSpec
    config: TrainConfig
    alphabet: Alphabet
    module: Any
    manifest: dict
    manifest_sha256: str
    history: list[EpochReport]
    best_state: dict | None = None
    replaces: bool = False  # a forced run over an existing model


def encode(names: list[str], labels: list[str], alphabet: Alphabet, label_index: dict[str, int]) -> Encoded:
    import numpy as np

    ids, lengths = alphabet.encode(names, MAX_LENGTH)
    return Encoded(ids, lengths, np.array([label_index[lb] for lb in labels], dtype=np.int64))


def history_csv(history: list[EpochReport]) -> str:
    buffer = io.StringIO()
    fields_ = list(asdict(history[0]).keys()) if history else ["epoch"]
    writer = csv.DictWriter(buffer, fieldnames=fields_, lineterminator="\n")
    writer.writeheader()
    writer.writerows(asdict(r) for r in history)
    return buffer.getvalue()


def default_run_name(arch: str) -> str:
    return f"{arch}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"


def _manifest(workspace: Workspace) -> tuple[dict, str]:
    return load_manifest(workspace.home), manifest_sha256(workspace.home)


def start_run(
    workspace: Workspace | Path | str | None,
    spec: ArchSpec,
    config: TrainConfig,
    name: str | None = None,
    device=None,
    callbacks: Callbacks | None = None,
    make_default: bool = True,
    force: bool = False,
) -> RunResult:
    """Train a new model on `<home>/prepared/` and store its best epoch as `name`."""
    import torch

    workspace = Workspace.resolve(workspace)
    store = ModelStore(workspace)
    name = check_name(name or default_run_name(spec.arch))
    exists = store.path_of(name).exists()  # a model, or any folder of that name: never replaced unasked
    if exists and not force:
        raise NamelangError(
            f"a model named {name!r} exists already; continue it with `--resume {name}`, "
            "or replace it with `--force`"
        )
    manifest, manifest_sha256 = _manifest(workspace)
    if getattr(spec, "kind", None) == "ngram":
        return fit_ngram_run(store, name, spec, manifest, manifest_sha256, make_default)
    torch.manual_seed(config.seed)
    alphabet = Alphabet(manifest["alphabet"])
    module = spec.build(alphabet.size, len(manifest["labels"]))
    run = _Run(name, spec, config, alphabet, module, manifest, manifest_sha256, [], replaces=exists)
    return _train_and_store(store, run, device, callbacks, make_default)


def resume_run(
    workspace: Workspace | Path | str | None,
    name: str,
    epochs: int | None = None,
    patience: int | None = None,
    device=None,
    callbacks: Callbacks | None = None,
    make_default: bool = True,
    given: dict[str, Any] | None = None,
) -> RunResult:
    """Continue the stored run `name` from its best weights, history and place in the schedule.

    `given`: the options the user gave; any that differs from the stored run is refused, all at once.
    """
    workspace = Workspace.resolve(workspace)
    store = ModelStore(workspace)
    if name == PRETRAINED or not store.exists(check_name(name)):
        raise NamelangError(f"--resume takes a model in the store; there is no {name!r} in {store.folder}")
    previous = store.load(name)
    if previous.card.arch in ("ngram", "ensemble"):
        raise NamelangError(
            f"--resume continues a network's training; {name!r} is an {previous.card.arch} model"
        )
    card = previous.card
    conflicts = resume_conflicts(card, given or {}, name)
    if conflicts:
        raise NamelangError(
            f"--resume {name} continues the stored run, but these options differ from it: "
            f"{', '.join(conflicts)}; only --epochs, --patience and --device may change"
        )
    manifest, manifest_sha256 = _manifest(workspace)
    if card.data.manifest_sha256 != manifest_sha256:
        raise NamelangError(f"cannot resume {name!r}: the prepared data changed since it was trained")
    config, history = _continued(name, card, epochs, patience)
    module = previous.torch_module()
    best_state = {k: v.detach().clone() for k, v in module.state_dict().items()}
    spec = spec_from(card.arch, **card.arch_options)
    alphabet = Alphabet(card.alphabet)
    run = _Run(name, spec, config, alphabet, module, manifest, manifest_sha256, history, best_state)
    return _train_and_store(store, run, device, callbacks, make_default)


def _continued(name: str, card: ModelCard, epochs, patience) -> tuple[TrainConfig, list[EpochReport]]:
    """The stored run's settings with the allowed changes, and its history; refused if it cannot go on."""
    stored = {k: v for k, v in card.training.items() if k in {f.name for f in fields(TrainConfig)}}
    changes = {k: v for k, v in (("epochs", epochs), ("patience", patience)) if v is not None}
    config = TrainConfig(**{**stored, **changes})
    history = [EpochReport(**h) for h in card.history]
    if len(history) >= config.epochs:
        raise NamelangError(f"{name!r} already ran {len(history)} epochs; pass a larger --epochs to continue")
    if EarlyStopping.from_history(history, config.patience, config.select).exhausted:
        raise NamelangError(
            f"{name!r} stopped early (no better epoch in {config.patience}); pass a larger --patience"
        )
    return config, history


def resume_conflicts(card: ModelCard, given: dict[str, Any], name: str) -> list[str]:
    """Each option given with `--resume` that differs from the stored run, as `--flag value (stored: x)`."""
    # A card from before an option existed ran with that option's default (e.g. --select macro-f1).
    training = {**asdict(TrainConfig()), **card.training}
    stored: dict[str, Any] = {"arch": card.arch, "name": name, **card.arch_options, **training}
    conflicts = []
    for option, value in given.items():
        if option in RESUME_MAY_CHANGE:
            continue
        if option not in stored:
            used_by_some = any(option in spec.options() for spec in ARCHITECTURES.values())
            why = f"{card.arch} does not use it" if used_by_some else "not with --resume"
            conflicts.append(f"{flag(option)} ({why})")
        elif value != stored[option]:
            conflicts.append(f"{flag(option)} {_show(value)} (stored: {_show(stored[option])})")
    return conflicts


def _show(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return f"{value:g}" if isinstance(value, float) else str(value)


def _train_and_store(store: ModelStore, run: _Run, device, callbacks, make_default: bool) -> RunResult:
    """The finishing step both kinds of run share: fit, calibrate, then store by the rules above."""
    import torch

    from namelang.calibration import fit_temperature
    from namelang.models.forward import batched_logits, softmax, torch_runner

    labels = run.manifest["labels"]
    train_data, val_data = (_encoded(store.workspace, s, run.alphabet, labels) for s in ("train", "val"))
    if run.config.teacher:
        train_data = distillation_set(store, run.config, *read_split(store.workspace.home, "train")[:2], run)
    done_before = len(run.history)
    result = fit(
        run.module,
        train_data,
        val_data,
        len(labels),
        run.config,
        device,
        callbacks,
        run.history,
        run.best_state,
    )
    if result.interrupted and len(result.history) == done_before:
        kept = f"; {run.name!r} is as it was" if done_before else ""
        raise NothingSaved(f"interrupted before an epoch finished: nothing was saved{kept}")
    if result.interrupted and run.replaces:
        raise NothingSaved(
            f"interrupted: {run.name!r} was left as it was (--force replaces a model only with a finished run)"
        )
    from namelang import plots  # matplotlib: imported once there is something to draw

    runner = torch_runner(run.module, device or torch.device("cpu"))
    val_logits = batched_logits(runner, val_data.ids, val_data.lengths)
    temperature = fit_temperature(val_logits, val_data.labels)
    card = _card(run, result, temperature, str(device or "cpu"), len(train_data), len(val_data))
    val_probs = softmax(val_logits / temperature)
    fit_uncertainty(card, store.workspace.home, val_probs, val_data.labels)
    rows = [asdict(r) for r in result.history]
    stored = store.save(
        run.name,
        result.best_state,
        card,
        history_csv(result.history),
        plot=lambda p: plots.loss_curve(rows, p, f"{run.name} ({run.spec.arch})", result.best_epoch),
        lexicon=split_lexicon(store.workspace.home, labels, val_probs),
    )
    if make_default and not result.interrupted:
        store.set_default(run.name)
        stored.is_default = True
    return RunResult(stored, result)


def fit_uncertainty(card: ModelCard, home: Path, val_probs, y_val) -> None:
    """The card's prior and conformal thresholds (fitted on the validation split's probabilities) and
    each training source's label shares on the train split (`--prior SOURCE`)."""
    from namelang.uncertainty import uncertainty_fields

    card.prior, card.conformal = uncertainty_fields(card, val_probs, y_val)
    card.source_priors = train_source_priors(home, card.labels)


def train_source_priors(home: Path, labels: list[str]) -> dict[str, dict[str, float]] | None:
    """Each source's label shares on the workspace's prepared train split (uncertainty.source_priors)."""
    from namelang.uncertainty import source_priors

    _, split_labels, path = read_split(home, "train")
    return source_priors(split_labels, read_split_sources(path), labels)


def split_lexicon(home: Path, labels: list[str], val_probs) -> tuple[bytes, dict]:
    """The lexicon of the prepared train split (models/lexicon.py) and the card's note of it, with beta
    chosen on the val split from the network's probabilities `val_probs` (one row per val row)."""
    import numpy as np

    from namelang.models.lexicon import Lexicon, choose_beta, held_out_entries

    names, split_labels, path = read_split(home, "train")
    lexicon = Lexicon.from_rows(names, split_labels, read_split_sources(path), labels)
    val_names, val_labels, val_path = read_split(home, "val")
    counts, rows, y, protocol = held_out_entries(val_names, val_labels, read_split_sources(val_path), labels)
    beta, accuracy = choose_beta(counts, np.asarray(val_probs)[rows], y)
    info = {"names": len(lexicon), "beta": beta, "split": "val", "protocol": protocol, "accuracy": accuracy}
    return lexicon.to_bytes(), info


def attach_lexicon(model: str | Path, home: Workspace | Path | str | None = None, device: str = "auto"):
    """(Re)build the lexicon of a trained model from `home`'s prepared train split, beta chosen on its
    val split with the network alone; returns the model as stored. For models trained before lexicons
    (a build script's step); an ensemble answers from its members' lexicons instead."""
    from namelang.inference import Classifier

    store = ModelStore(home)
    found = store.load(model)
    if found.card.arch == "ensemble":
        raise NamelangError(
            f"{found.name!r} is an ensemble: its members carry the lexicons; attach one to each"
        )
    clf = Classifier.load(found.path, device=device, lexicon=False)
    val_names = read_split(store.workspace.home, "val")[0]
    found.attach_lexicon(*split_lexicon(store.workspace.home, clf.labels, clf.predict_proba(val_names)))
    return found


@dataclass
class Comparison:
    """A new model against the one it replaces as the default, on validation names neither trained on."""

    new: str
    old: str
    names: int  # the validation rows scored
    new_accuracy: float
    old_accuracy: float
    left_out: int  # validation rows whose name the old model trained on (not scored)
    old_has_lexicon: bool  # False: the old model may have trained on some of the scored names


def replaced_default(workspace: Workspace | Path | str | None) -> str:
    """The model a new default replaces: the store's default, else the pretrained model."""
    return ModelStore(workspace).default() or PRETRAINED


def compare_with(
    workspace: Workspace | Path | str | None, new: str, old: str, device: str = "auto"
) -> Comparison | None:
    """`new` against `old` on the prepared val split's names that neither model's lexicon holds
    (accuracy, as the models answer); None when `old` cannot be loaded or is `new` itself."""
    import numpy as np

    from namelang.inference import Classifier

    workspace = Workspace.resolve(workspace)
    if old == new:
        return None
    try:
        models = [Classifier.load(ref, workspace, device) for ref in (new, old)]
        names, labels, _ = read_split(workspace.home, "val")
        unseen = np.ones(len(names), dtype=bool)
        for clf in models:
            known = clf.known(names)
            unseen &= True if known is None else ~known
    except NamelangError:  # a package without its pretrained model, an old model's damaged lexicon …
        return None  # the new model is saved already: no comparison is no failure
    names = [n for n, keep in zip(names, unseen) if keep]
    truth = np.array([lb for lb, keep in zip(labels, unseen) if keep], dtype=object)
    accuracy = []
    for clf in models:
        predicted = np.array(clf.labels, dtype=object)[clf.predict_proba(names).argmax(axis=1)]
        accuracy.append(float(np.mean(predicted == truth)) if len(names) else float("nan"))
    left_out = int((~unseen).sum())
    return Comparison(new, old, len(names), accuracy[0], accuracy[1], left_out, models[1].lexicon is not None)


def _encoded(workspace: Workspace, split: str, alphabet: Alphabet, labels: list[str]) -> Encoded:
    names, split_labels, _ = read_split(workspace.home, split)
    if not names:
        raise NamelangError("the train and val splits must both hold names; run `namelang prepare` again")
    return encode(names, split_labels, alphabet, {label: i for i, label in enumerate(labels)})


PERTURBED = "\ufffd"  # a character no alphabet holds: every model reads it as unknown


def perturb(names: list[str], rate: float, rng) -> list[str]:
    """Each character hidden (as an unknown one) with probability `rate`: character dropout as text."""
    return ["".join(PERTURBED if rng.random() < rate else c for c in name) for name in names]


def distillation_set(store: ModelStore, config: TrainConfig, names, labels, run: _Run) -> Encoded:
    """The training names plus perturbed copies, each with the teacher's probabilities softened by tau."""
    import numpy as np

    from namelang.inference import Classifier
    from namelang.models.forward import softmax

    label_list = run.manifest["labels"]
    teacher = Classifier.load(config.teacher, home=store.workspace)
    if teacher.labels != list(label_list):
        raise NamelangError(f"the teacher {config.teacher!r} does not predict this data's labels")
    rng = np.random.default_rng(config.seed)
    inputs, targets = list(names), list(labels)
    for _ in range(config.teacher_copies):
        inputs += perturb(names, max(config.char_dropout, 0.1), rng)
        targets += labels
    probs = np.nan_to_num(teacher.predict_proba(inputs), nan=1.0 / len(label_list))
    data = encode(inputs, targets, run.alphabet, {label: i for i, label in enumerate(label_list)})
    data.soft = softmax(np.log(np.clip(probs, 1e-12, None)) / config.distill_temperature)
    return data


def fit_ngram_run(
    store: ModelStore, name: str, spec, manifest: dict, manifest_sha256: str, make_default: bool
) -> RunResult:
    """Fit the n-gram baseline with scikit-learn (C chosen on validation) and store it like any model."""
    import json

    import numpy as np
    import sklearn

    from namelang.calibration import fit_temperature
    from namelang.models.forward import softmax
    from namelang.models.ngram import VOCABULARY, fit_ngram, n_parameters

    labels = manifest["labels"]
    train_split, val_split = (read_split(store.workspace.home, s)[:2] for s in ("train", "val"))
    if not train_split[0] or not val_split[0]:
        raise NamelangError("the train and val splits must both hold names; run `namelang prepare` again")
    fitted = fit_ngram(spec, train_split, val_split, labels)
    spec.c = fitted.c
    y_val = np.array([labels.index(lb) for lb in val_split[1]])
    counts = manifest["counts"]["train"]
    card = ModelCard(
        arch=spec.arch,
        arch_options=spec.to_dict(),
        labels=labels,
        alphabet=manifest["alphabet"],
        temperature=fit_temperature(fitted.val_logits, y_val),
        normalization=_normalization(manifest),
        data=DataInfo(
            manifest_sha256=manifest_sha256,
            source_sha256=manifest["source"]["sha256"],
            train_rows=len(train_split[0]),
            val_rows=len(val_split[0]),
            train_label_counts={lb: counts[lb] for lb in labels},
        ),
        versions={
            "namelang": __version__,
            "sklearn": sklearn.__version__,
            "python": platform.python_version(),
        },
        parameters=n_parameters(fitted.state),
        best=Best(1, fitted.val_accuracy, fitted.val_macro_f1),
        epochs_run=1,
        training_seconds=round(fitted.seconds, 3),
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        extras={"c_grid": fitted.grid},
    )
    probs = softmax(fitted.val_logits / card.temperature)
    fit_uncertainty(card, store.workspace.home, probs, y_val)
    vocabulary = json.dumps(fitted.vocabulary, ensure_ascii=False) + "\n"
    lexicon = split_lexicon(store.workspace.home, labels, probs)
    stored = store.save(name, fitted.state, card, "epoch\n", files={VOCABULARY: vocabulary}, lexicon=lexicon)
    if make_default:
        store.set_default(name)
        stored.is_default = True
    return RunResult(stored, FitResult({}, 1, [], False, fitted.seconds))


def _normalization(manifest: dict) -> Normalization:
    """The card's normalisation from the manifest's (which may record more, e.g. scripts written in Latin)."""
    known = {f.name for f in fields(Normalization)}
    return Normalization(**{k: v for k, v in manifest.get("normalization", {}).items() if k in known})


def _card(
    run: _Run, result: FitResult, temperature: float, device: str, n_train: int, n_val: int
) -> ModelCard:
    import torch

    best = result.best
    labels = run.manifest["labels"]
    counts = run.manifest["counts"]["train"]
    return ModelCard(
        arch=run.spec.arch,
        arch_options=run.spec.to_dict(),
        labels=labels,
        alphabet=run.alphabet.chars,
        max_length=MAX_LENGTH,
        temperature=temperature,
        normalization=_normalization(run.manifest),
        data=DataInfo(
            manifest_sha256=run.manifest_sha256,
            source_sha256=run.manifest["source"]["sha256"],
            train_rows=n_train,
            val_rows=n_val,
            train_label_counts={lb: counts[lb] for lb in labels},
        ),
        training=asdict(run.config),
        seed=run.config.seed,
        versions={"namelang": __version__, "torch": torch.__version__, "python": platform.python_version()},
        device=device,
        parameters=sum(p.numel() for p in run.module.parameters()),
        best=Best(best.epoch, best.val_accuracy, best.val_macro_f1, best.val_loss) if best else Best(),
        epochs_run=len(result.history),
        training_seconds=round(sum(r.seconds for r in result.history), 3),
        interrupted=result.interrupted,
        stopped_early=result.stopped_early,
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        history=[asdict(r) for r in result.history],
    )
