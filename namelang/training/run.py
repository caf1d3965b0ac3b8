"""A training run: prepared splits in, a stored model out. The store's rules live here, in one place each:

- a name that exists is refused unless `force`; a forced run replaces the old model only once it has
  finished and been written (until then the old one stays intact and loadable);
- interrupted before an epoch finished (or a forced run interrupted at all): nothing is saved
  (`NothingSaved`); interrupted after one or more: the best epoch is saved with `interrupted: true`
  and does not become the default;
- a resumed run continues with its stored architecture and options; only the epoch budget, the
  patience and the device may change (`resume_conflicts` lists any other option that differs).

How a model is fitted is its registry spec's `kind` (`FIT_PATHS`): a network trains in epochs and can
be resumed, the n-gram table is fitted in one step. Every path ends the same way (`_store`): the card
built once, the uncertainty fields and the lexicon fitted on the splits, the folder written by the store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any

from namelang.config import TrainConfig
from namelang.errors import NamelangError, literal
from namelang.models.card import ModelCard
from namelang.models.registry import ARCHITECTURES, Spec
from namelang.models.store import PRETRAINED, ModelStore, StoredModel, check_name
from namelang.training import calibration
from namelang.training.cards import Fitted, history_csv, model_card
from namelang.training.loop import Callbacks, EarlyStopping, EpochReport, FitResult
from namelang.training.splits import Prepared
from namelang.workspace import Workspace

# What a resumed run may change; everything else is the stored run's.
RESUME_MAY_CHANGE = ("epochs", "patience", "device")


class NothingSaved(KeyboardInterrupt):
    """Ctrl-C left nothing worth keeping (or nothing it may replace): the store is as it was.

    Its message names options as a NamelangError's does: `str()` words them for Python, `error.worded`
    as the caller's interface does."""

    def __init__(self, message: str):
        self.error = NamelangError(message)
        super().__init__(str(self.error))


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
class Plan:
    """What one run trains: afresh, or continuing the stored run `resumed`."""

    name: str
    spec: Spec
    config: TrainConfig
    prepared: Prepared
    replaces: bool = False  # a forced run over an existing model
    resumed: StoredModel | None = None


@dataclass
class How:
    """How a run goes: the torch device (None: the CPU), progress callbacks, and whether the model it
    stores becomes the default (an interrupted run's never does)."""

    device: Any = None
    callbacks: Callbacks | None = None
    make_default: bool = True


def default_run_name(arch: str) -> str:
    return f"{arch}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"


def start_run(
    workspace: Workspace | Path | str | None,
    spec: Spec,
    config: TrainConfig,
    name: str | None = None,
    device=None,
    callbacks: Callbacks | None = None,
    make_default: bool = True,
    force: bool = False,
) -> RunResult:
    """Fit a new model on `<home>/prepared/` and store it (a network's best epoch) as `name`."""
    workspace = Workspace.resolve(workspace)
    store = ModelStore(workspace)
    name = check_name(name or default_run_name(spec.arch))
    exists = store.path_of(name).exists()  # a model, or any folder of that name: never replaced unasked
    if exists and not force:
        raise NamelangError(
            f"a model named {literal(name)!r} exists already; continue it with {{resume={literal(name)}}}, "
            "or replace it with {force}"
        )
    plan = Plan(name, spec, config, Prepared.read(workspace), replaces=exists)
    return _run(store, plan, How(device, callbacks, make_default))


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

    `given`: the options the caller gave, by name; any that differs from the stored run is refused,
    all at once (`ResumeConflicts`).
    """
    workspace = Workspace.resolve(workspace)
    store = ModelStore(workspace)
    if name == PRETRAINED or not store.exists(check_name(name)):
        raise NamelangError(
            f"{{resume}} takes a model in the store; there is no {literal(name)!r} in {literal(store.folder)}"
        )
    previous = store.load(name)
    card, spec = previous.card, previous.spec()  # an architecture the registry does not know is refused
    if not spec.resumable:
        raise NamelangError(
            f"{{resume}} continues a network's training; {literal(name)!r} is an {card.arch} model"
        )
    conflicts = resume_conflicts(card, given or {}, name)
    if conflicts:
        raise ResumeConflicts(name, conflicts)
    prepared = Prepared.read(workspace)
    if card.data.manifest_sha256 != prepared.sha256:
        raise NamelangError(
            f"cannot resume {literal(name)!r}: the prepared data changed since it was trained"
        )
    config = _continued(name, card, epochs, patience)
    plan = Plan(name, spec, config, prepared, resumed=previous)
    return _run(store, plan, How(device, callbacks, make_default))


def _continued(name: str, card: ModelCard, epochs, patience) -> TrainConfig:
    """The stored run's settings with the allowed changes; refused if it cannot go on."""
    stored = {k: v for k, v in card.training.items() if k in {f.name for f in fields(TrainConfig)}}
    changes = {k: v for k, v in (("epochs", epochs), ("patience", patience)) if v is not None}
    config = TrainConfig(**{**stored, **changes})
    history = [EpochReport(**h) for h in card.history]
    if len(history) >= config.epochs:
        raise NamelangError(
            f"{literal(name)!r} already ran {len(history)} epochs; pass a larger {{epochs}} to continue"
        )
    if EarlyStopping.from_history(history, config.patience, config.select).exhausted:
        raise NamelangError(
            f"{literal(name)!r} stopped early (no better epoch in {config.patience}); pass a larger {{patience}}"
        )
    return config


# --- resuming: the options given that differ from the stored run -------------------------------------


@dataclass(frozen=True)
class Conflict:
    """An option given with a resumed run that the stored run settles: `value` differs from `stored`,
    or (`reason`) the option has no place in it."""

    option: str  # the parameter's name: "lr", "embedding_dim"
    value: Any
    stored: Any = None
    reason: str | None = None  # "gru does not use it", "not with {resume}"

    def template(self) -> str:
        """As a NamelangError names it: `{lr=0.1} (stored: 0.008)`, `{force} (not with {resume})`."""
        if self.reason is not None:
            return f"{{{self.option}}} ({self.reason})"
        return f"{{{self.option}={literal(_show(self.value))}}} (stored: {literal(_show(self.stored))})"


class ResumeConflicts(NamelangError):
    """A resumed run given options that differ from the stored run's; `conflicts` lists them."""

    def __init__(self, name: str, conflicts: list[Conflict]):
        super().__init__(
            f"{{resume={literal(name)}}} continues the stored run, but these options differ from it: "
            f"{', '.join(c.template() for c in conflicts)}; only {{epochs}}, {{patience}} and {{device}} may change"
        )
        self.name, self.conflicts = name, conflicts

    def __reduce__(self):
        return type(self), (self.name, self.conflicts)


def resume_conflicts(card: ModelCard, given: dict[str, Any], name: str) -> list[Conflict]:
    """Each option in `given` (by parameter name) that differs from the stored run `card` describes."""
    # A card from before an option existed ran with that option's default (e.g. select macro-f1).
    training = {**asdict(TrainConfig()), **card.training}
    stored: dict[str, Any] = {"arch": card.arch, "name": name, **card.arch_options, **training}
    conflicts = []
    for option, value in given.items():
        if option in RESUME_MAY_CHANGE:
            continue
        if option not in stored:
            used_by_some = any(option in spec.options() for spec in ARCHITECTURES.values())
            why = f"{card.arch} does not use it" if used_by_some else "not with {resume}"
            conflicts.append(Conflict(option, value, reason=why))
        elif value != stored[option]:
            conflicts.append(Conflict(option, value, stored[option]))
    return conflicts


def _show(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return f"{value:g}" if isinstance(value, float) else str(value)


# --- the fit paths, and the end every run shares -----------------------------------------------------


def _network_path(plan: Plan, how: How) -> Fitted:
    from namelang.training import network

    if plan.resumed is not None:
        net = network.Network.stored(plan.resumed)
    else:
        net = network.Network.fresh(plan.spec, plan.config, plan.prepared)
    trained = network.train(net, plan.config, plan.prepared, how.device, how.callbacks)
    result = trained.result
    if result.interrupted and len(result.history) == net.epochs_done:
        kept = f"; {literal(plan.name)!r} is as it was" if net.epochs_done else ""
        raise NothingSaved(f"interrupted before an epoch finished: nothing was saved{kept}")
    if result.interrupted and plan.replaces:
        raise NothingSaved(
            f"interrupted: {literal(plan.name)!r} was left as it was ({{force}} replaces a model only with a finished run)"
        )
    return network.calibrated(trained, how.device)


def _ngram_path(plan: Plan, how: How) -> Fitted:
    from namelang.training.ngram import fitted_ngram

    return fitted_ngram(plan.spec, plan.prepared)


# The fit path of each kind of model the registry knows (`Spec.fit_path`).
FIT_PATHS: dict[str, Callable[[Plan, How], Fitted]] = {"network": _network_path, "ngram": _ngram_path}


def _run(store: ModelStore, plan: Plan, how: How) -> RunResult:
    path = FIT_PATHS.get(plan.spec.fit_path)
    if path is None:
        raise NamelangError(f"{plan.spec.arch} models are not fitted by a training run")
    return _store(store, plan, path(plan, how), how.make_default)


def _store(store: ModelStore, plan: Plan, fitted: Fitted, make_default: bool) -> RunResult:
    """The card (built once), the uncertainty fields and the lexicon fitted on the splits, the folder."""
    home, result = plan.prepared.home, fitted.fit
    card = model_card(plan.spec, plan.prepared, fitted)
    calibration.fit_uncertainty(card, home, fitted.val_probs, fitted.y_val)
    stored = store.save(
        plan.name,
        fitted.state,
        card,
        history_csv(result.history),
        plot=_loss_curve(plan, result) if result.history else None,
        files=fitted.files or None,
        lexicon=calibration.split_lexicon(home, plan.prepared.labels, fitted.val_probs),
    )
    if make_default and not result.interrupted:
        store.set_default(plan.name)
        stored.is_default = True
    return RunResult(stored, result)


def _loss_curve(plan: Plan, result: FitResult) -> Callable[[Path], None]:
    from namelang import plots  # matplotlib: imported once there is something to draw

    rows = [asdict(r) for r in result.history]
    return lambda path: plots.loss_curve(rows, path, f"{plan.name} ({plan.spec.arch})", result.best_epoch)
