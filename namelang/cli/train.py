"""`namelang train`: train an architecture from the registry on the prepared splits."""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass, fields
from typing import Annotated

import typer

from namelang.cli import options, render
from namelang.config import SELECT_BY, TrainConfig
from namelang.models.registry import ARCHITECTURES, DEFAULT_ARCH

# The architectures a training run fits (the registry's; an ensemble is built by `ensemble`).
_TRAINED = ARCHITECTURES
Arch = enum.Enum("Arch", {name: name for name in _TRAINED}, type=str)
Select = enum.Enum("Select", {name: name for name in SELECT_BY}, type=str)
_DEFAULTS = TrainConfig()
# The epilog of `train --help`: one line per architecture (its options would not fit beside them).
_ARCH_HELP = "\n".join(
    ["--arch (unset sizes take the architecture's own):"]
    + [f"  {name}: {cls.summary}" for name, cls in _TRAINED.items()]
)


class _Progress:
    """Rich epoch and batch bars on stderr, and one line per finished epoch.

    `run`: the run's name and its ModelStore, to say as training starts where the run will be saved.
    """

    def __init__(self, progress, device: str, run: tuple[str, object] | None = None):
        self.progress = progress
        self.device = device
        self.run = run
        self.epochs = progress.add_task("epochs", total=None, status="", eta=None)
        self.batches = progress.add_task("batches", total=None, status="")
        self.started = False
        self.first = self.epoch = self.last = self.per_epoch = 0  # for the whole run's ETA
        self.clock = 0.0

    def on_epoch_start(self, epoch: int, epochs: int, batches: int) -> None:
        if not self.started:  # once, as training begins: a log then shows where a run started
            self.started = True
            self.first, self.last, self.per_epoch, self.clock = epoch, epochs, batches, time.perf_counter()
            if self.run is not None:
                self.progress.console.print(
                    f"run {self.run[0]!r}, to be saved in {self.run[1].path_of(self.run[0])}",
                    highlight=False,
                    soft_wrap=True,
                )
            self.progress.console.print(
                f"training on {self.device}: epochs {epoch} to {epochs}, {batches:,} batch{'es' if batches != 1 else ''} each",
                highlight=False,
            )
        self.epoch = epoch
        self.progress.update(self.epochs, total=epochs, completed=epoch - 1, description=f"epoch {epoch}")
        self.progress.reset(self.batches, total=batches, description="batches", status="")

    def on_batch(self, batch: int, loss: float) -> None:
        self.progress.update(self.batches, completed=batch, status=f"loss {loss:.3f}")
        done = (self.epoch - self.first) * self.per_epoch + batch
        total = (self.last - self.first + 1) * self.per_epoch
        self.progress.update(self.epochs, eta=eta_seconds(time.perf_counter() - self.clock, done, total))

    def on_epoch_end(self, r) -> None:
        self.progress.update(self.epochs, completed=r.epoch)
        # soft_wrap off: on a narrow terminal Rich breaks the line between fields, never inside a number.
        self.progress.console.print(epoch_line(r), highlight=False, soft_wrap=False)


def eta_seconds(elapsed: float, done: int, total: int) -> float | None:
    """Seconds left for all `total` batches at the pace of the `done` so far (validation passes included
    in `elapsed`); None before the first batch. Early stopping can only make it shorter."""
    if done <= 0:
        return None
    return elapsed / done * max(total - done, 0)


def epoch_line(r) -> str:
    """One finished epoch in under 80 columns (a '*' marks the best so far)."""
    return (
        f"epoch {r.epoch:3d}  train loss {r.train_loss:.3f}  val loss {r.val_loss:.3f}  "
        f"acc {r.val_accuracy:.3f}  macro-F1 {r.val_macro_f1:.3f}  {r.seconds:.1f}s"
        + (" *" if r.improved else "")
    )


_ARCH_OPTIONS = ("hidden", "layers", "bidirectional", "dropout", "embedding_dim")
# What `--resume` may be given besides the allowed changes: the place and the output, not the run.
_NOT_RUN_OPTIONS = {"resume", "home", "quiet", "verbose", "make_default"}


def _given(ctx: typer.Context) -> dict:
    """The options the user gave (command line or environment), by parameter name."""
    given = {}
    for name, value in ctx.params.items():
        source = ctx.get_parameter_source(name)
        if (
            name not in _NOT_RUN_OPTIONS
            and source is not None
            and source.name in ("COMMANDLINE", "ENVIRONMENT")
        ):
            given[name] = _plain(value)
    return given


def _plain(value):
    return value.value if isinstance(value, enum.Enum) else value


ARCH, TRAINING, RUN = "Architecture", "Training", "The run"


def _option(panel: str, flags: str, help: str | None = None, **more):
    """An option of `train`, shown under `panel` in --help."""
    return typer.Option(flags, rich_help_panel=panel, help=help, **more)


@dataclass(frozen=True)
class TrainArgs(options.CommonArgs):
    """The options of `namelang train`, by the names the library's spec and TrainConfig use."""

    arch: Annotated[
        Arch, _option(ARCH, "--arch", "See the list below.", case_sensitive=False, metavar="<arch>")
    ] = Arch(DEFAULT_ARCH)
    hidden: Annotated[int | None, _option(ARCH, "--hidden", "Hidden size.", min=1)] = None
    layers: Annotated[int | None, _option(ARCH, "--layers", "Recurrent layers.", min=1)] = None
    bidirectional: Annotated[
        bool | None,
        _option(ARCH, "--bidirectional/--no-bidirectional", "Read both ways.", show_default=False),
    ] = None
    dropout: Annotated[float | None, _option(ARCH, "--dropout", "Between layers.")] = None
    embedding_dim: Annotated[
        int | None, _option(ARCH, "--embedding-dim", "Character embedding size.", min=1)
    ] = None
    epochs: Annotated[int, _option(TRAINING, "--epochs", "Most epochs.", min=1)] = _DEFAULTS.epochs
    batch_size: Annotated[int, _option(TRAINING, "--batch-size", min=1)] = _DEFAULTS.batch_size
    lr: Annotated[float, _option(TRAINING, "--lr", "Peak, AdamW.", min=0.0)] = _DEFAULTS.lr
    weight_decay: Annotated[float, _option(TRAINING, "--weight-decay", min=0.0)] = _DEFAULTS.weight_decay
    patience: Annotated[int, _option(TRAINING, "--patience", "Epochs with no gain.", min=1)] = (
        _DEFAULTS.patience
    )
    select: Annotated[
        Select,
        _option(TRAINING, "--select", "macro-f1, accuracy or loss.", case_sensitive=False, metavar="<score>"),
    ] = Select(_DEFAULTS.select)
    balance: Annotated[
        bool, _option(TRAINING, "--balance/--no-balance", "Class-balanced loss.", show_default=False)
    ] = _DEFAULTS.balance
    char_dropout: Annotated[
        float, _option(TRAINING, "--char-dropout", "Characters hidden as unknown.", min=0.0, max=0.9)
    ] = _DEFAULTS.char_dropout
    teacher: Annotated[
        str | None, _option(TRAINING, "--teacher", "Distil this model.", metavar="<model>")
    ] = None
    seed: Annotated[int, _option(TRAINING, "--seed", "Same seed, same run.")] = _DEFAULTS.seed
    name: Annotated[str | None, _option(RUN, "--name", "\\[default: <arch>-<time>]", metavar="<name>")] = None
    make_default: Annotated[
        bool, _option(RUN, "--default/--no-default", "Make it the default model.", show_default=False)
    ] = True
    resume: Annotated[
        str | None,
        _option(
            RUN, "--resume", "Continue a stored run; only --epochs, --patience, --device may change.",
            metavar="<name>",
        ),
    ] = None  # fmt: skip
    force: Annotated[bool, _option(RUN, "--force", "Replace a model of that name.")] = False
    device: options.Device = "auto"

    def spec(self):
        """The architecture's spec with the options as given (None: the architecture's default)."""
        from namelang.models.registry import spec_from

        return spec_from(self.arch.value, **{k: getattr(self, k) for k in _ARCH_OPTIONS})

    def config(self) -> TrainConfig:
        return TrainConfig(
            **{f.name: _plain(getattr(self, f.name)) for f in fields(TrainConfig) if hasattr(self, f.name)}
        )


@options.takes(TrainArgs)
def train_cmd(args: TrainArgs, ctx: typer.Context) -> None:
    """Train a model on <home>/prepared/ and save it to <home>/models/<name>/."""
    from namelang.extras import import_sklearn, import_torch

    workspace = args.start()
    import_torch()  # before training starts (it needs torch): one line saying what to install
    import_sklearn("training needs scikit-learn")
    from namelang import training

    previous = training.replaced_default(workspace)  # what the new model is compared with, at the end
    try:  # Ctrl-C anywhere in the command: exit 130 with one line saying what was kept
        result = _run(args, ctx, workspace)
    except KeyboardInterrupt as exc:
        kept = isinstance(exc, training.NothingSaved)
        render.warn(exc.error.worded(options.flag_words) if kept else "interrupted: nothing was saved")
        raise typer.Exit(130) from None
    _report(result)
    _compare(training.compare_with(workspace, result.name, previous, args.device), result.stored.is_default)


def _run(args: TrainArgs, ctx: typer.Context, workspace):
    """Start the run the options describe, or resume the stored one, with progress bars on stderr."""
    from namelang import training
    from namelang.device import describe, resolve_device
    from namelang.models.store import ModelStore

    if args.resume is None:  # checked before the device: a wrong option is the first thing said
        spec, config = args.spec(), args.config()
    device = resolve_device(args.device)
    run_name = args.resume or args.name or training.default_run_name(args.arch.value)  # said first
    with render.count_progress() as progress:
        callbacks = _Progress(progress, describe(device), (run_name, ModelStore(workspace)))
        how = dict(device=device, callbacks=callbacks, make_default=args.make_default)
        if args.resume is None:
            return training.start_run(workspace, spec, config, name=run_name, force=args.force, **how)
        given = _given(ctx)
        epochs, patience = given.get("epochs"), given.get("patience")
        return training.resume_run(workspace, args.resume, epochs, patience, given=given, **how)


def _report(result) -> None:
    card = result.card
    best = card.best
    if result.fit.interrupted:
        render.warn(
            f"interrupted after {card.epochs_run} epoch{'s' if card.epochs_run != 1 else ''}: kept the best so far (epoch {best.epoch}) as "
            f"{result.name!r}, not made the default; continue it with "
            f"`namelang train --resume {result.name} --epochs {card.training['epochs']}`"
        )
    val = (
        f", val accuracy {best.val_accuracy:.4f}, val macro-F1 {best.val_macro_f1:.4f}" if best.epoch else ""
    )
    render.info(
        f"saved {card.arch} model {result.name!r} to {result.path} "
        f"(best epoch {best.epoch} of {card.epochs_run}{val}, "
        f"{card.parameters:,} parameters, {card.training_seconds:.1f} s)"
        + (", now the default" if result.stored.is_default else "")
    )
    if result.fit.interrupted:
        raise typer.Exit(130)


def _compare(comparison, is_default: bool) -> None:
    """The last lines: the new model against the one it replaces as the default, and the way back."""
    if comparison is None:
        return
    c = comparison
    if c.names:
        caveat = (
            f"; {c.old!r} keeps no list of its training names, so some of these may be among them"
            if not c.old_has_lexicon
            else ""
        )
        render.info(
            f"on {c.names:,} validation names neither model trained on: {c.new!r} accuracy {c.new_accuracy:.4f}, "
            f"{c.old!r} {c.old_accuracy:.4f} ({c.new_accuracy - c.old_accuracy:+.4f}){caveat}"
        )
    else:
        render.info(f"{c.old!r} trained on every validation name: the two models cannot be compared here")
    if is_default:
        render.info(f"to go back to {c.old!r} as the default: `namelang models default {c.old}`")
    else:
        render.info(f"{c.old!r} stays the default; `namelang models default {c.new}` makes the new one it")


def register(app: typer.Typer) -> None:
    app.command("train", epilog=_ARCH_HELP)(train_cmd)
