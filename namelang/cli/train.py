"""`namelang train`: train an architecture from the registry on the prepared splits."""

from __future__ import annotations

import enum
import time
from dataclasses import fields
from typing import Annotated

import typer

from namelang.cli import options, render
from namelang.config import SELECT_BY, TrainConfig
from namelang.models.registry import ARCHITECTURES, DEFAULT_ARCH

Arch = enum.Enum("Arch", {name: name for name in ARCHITECTURES}, type=str)
Select = enum.Enum("Select", {name: name for name in SELECT_BY}, type=str)
_DEFAULTS = TrainConfig()
# The epilog of `train --help`: one line per architecture (its options would not fit beside them).
_ARCH_HELP = "\n".join(
    ["--arch (unset sizes take the architecture's own):"]
    + [f"  {name}: {cls.summary}" for name, cls in ARCHITECTURES.items()]
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


def train_cmd(
    ctx: typer.Context,
    arch: Annotated[
        Arch,
        typer.Option(
            "--arch", case_sensitive=False, metavar="<arch>", rich_help_panel=ARCH, help="See the list below."
        ),
    ] = Arch(DEFAULT_ARCH),
    hidden: Annotated[
        int | None, typer.Option("--hidden", min=1, rich_help_panel=ARCH, help="Hidden size.")
    ] = None,
    layers: Annotated[
        int | None, typer.Option("--layers", min=1, rich_help_panel=ARCH, help="Recurrent layers.")
    ] = None,
    bidirectional: Annotated[
        bool | None,
        typer.Option(
            "--bidirectional/--no-bidirectional",
            rich_help_panel=ARCH,
            show_default=False,
            help="Read both ways.",
        ),
    ] = None,
    dropout: Annotated[
        float | None, typer.Option("--dropout", rich_help_panel=ARCH, help="Between layers.")
    ] = None,
    embedding_dim: Annotated[
        int | None,
        typer.Option("--embedding-dim", min=1, rich_help_panel=ARCH, help="Character embedding size."),
    ] = None,
    epochs: Annotated[
        int, typer.Option("--epochs", min=1, rich_help_panel=TRAINING, help="Most epochs.")
    ] = _DEFAULTS.epochs,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, rich_help_panel=TRAINING)
    ] = _DEFAULTS.batch_size,
    lr: Annotated[
        float, typer.Option("--lr", min=0.0, rich_help_panel=TRAINING, help="Peak, AdamW.")
    ] = _DEFAULTS.lr,
    weight_decay: Annotated[
        float, typer.Option("--weight-decay", min=0.0, rich_help_panel=TRAINING)
    ] = _DEFAULTS.weight_decay,
    patience: Annotated[
        int,
        typer.Option("--patience", min=1, rich_help_panel=TRAINING, help="Epochs with no gain."),
    ] = _DEFAULTS.patience,
    select: Annotated[
        Select,
        typer.Option(
            "--select",
            case_sensitive=False,
            metavar="<score>",
            rich_help_panel=TRAINING,
            help="macro-f1, accuracy or loss.",
        ),
    ] = Select(_DEFAULTS.select),
    balance: Annotated[
        bool,
        typer.Option(
            "--balance/--no-balance",
            rich_help_panel=TRAINING,
            show_default=False,
            help="Class-balanced loss.",
        ),
    ] = _DEFAULTS.balance,
    char_dropout: Annotated[
        float,
        typer.Option(
            "--char-dropout", min=0.0, max=0.9, rich_help_panel=TRAINING, help="Characters hidden as unknown."
        ),
    ] = _DEFAULTS.char_dropout,
    teacher: Annotated[
        str | None,
        typer.Option("--teacher", metavar="<model>", rich_help_panel=TRAINING, help="Distil this model."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", rich_help_panel=TRAINING, help="Same seed, same run.")] = (
        _DEFAULTS.seed
    ),
    name: Annotated[
        str | None,
        typer.Option("--name", metavar="<name>", rich_help_panel=RUN, help="\\[default: <arch>-<time>]"),
    ] = None,
    make_default: Annotated[
        bool,
        typer.Option(
            "--default/--no-default",
            rich_help_panel=RUN,
            show_default=False,
            help="Make it the default model.",
        ),
    ] = True,
    resume: Annotated[
        str | None,
        typer.Option(
            "--resume",
            metavar="<name>",
            rich_help_panel=RUN,
            help="Continue a stored run; only --epochs, --patience, --device may change.",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", rich_help_panel=RUN, help="Replace a model of that name.")
    ] = False,
    device: options.Device = "auto",
    home: options.Home = None,
    quiet: options.Quiet = False,
    verbose: options.Verbose = False,
) -> None:
    """Train a model on <home>/prepared/ and save it to <home>/models/<name>/."""
    from namelang.extras import import_sklearn, import_torch

    workspace_home = options.start(home, quiet, verbose)
    import_torch()  # before `runs` (which imports it): one line saying what to install
    import_sklearn("training needs scikit-learn")
    from namelang import runs
    from namelang.device import describe, resolve_device
    from namelang.models.registry import spec_from
    from namelang.models.store import ModelStore
    from namelang.workspace import Workspace

    workspace = Workspace(workspace_home)
    previous = runs.replaced_default(workspace)  # what the new model is compared with, at the end
    try:  # Ctrl-C anywhere in the command: exit 130 with one line saying what was kept
        if resume is None:  # the options as the user gave them (None: the architecture's default)
            spec = spec_from(arch.value, **{k: ctx.params[k] for k in _ARCH_OPTIONS})
            config = TrainConfig(
                **{f.name: _plain(ctx.params[f.name]) for f in fields(TrainConfig) if f.name in ctx.params}
            )
        torch_device = resolve_device(device)
        run_name = resume or name or runs.default_run_name(arch.value)  # said before the first epoch
        with render.count_progress() as progress:
            run = (run_name, ModelStore(workspace))
            common = dict(
                device=torch_device,
                callbacks=_Progress(progress, describe(torch_device), run),
                make_default=make_default,
            )
            if resume is None:
                result = runs.start_run(workspace, spec, config, name=run_name, force=force, **common)
            else:
                given = _given(ctx)
                result = runs.resume_run(
                    workspace, resume, given.get("epochs"), given.get("patience"), given=given, **common
                )
    except KeyboardInterrupt as exc:
        render.warn(str(exc) if isinstance(exc, runs.NothingSaved) else "interrupted: nothing was saved")
        raise typer.Exit(130) from None
    _report(result)
    _compare(runs.compare_with(workspace, result.name, previous, device), result.stored.is_default)


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
