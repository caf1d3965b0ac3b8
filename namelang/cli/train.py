"""`namelang train`: train an architecture from the registry on the prepared splits."""

from __future__ import annotations

import enum
from dataclasses import fields
from typing import Annotated

import typer

from namelang.cli import options, render
from namelang.config import SELECT_BY, TrainConfig
from namelang.models.registry import ARCHITECTURES, DEFAULT_ARCH

Arch = enum.Enum("Arch", {name: name for name in ARCHITECTURES}, type=str)
Select = enum.Enum("Select", {name: name for name in SELECT_BY}, type=str)
_DEFAULTS = TrainConfig()
_ARCH_HELP = "; ".join(f"{name}: {cls.summary}" for name, cls in ARCHITECTURES.items())


class _Progress:
    """Rich epoch and batch bars on stderr, and one line per finished epoch."""

    def __init__(self, progress, device: str):
        self.progress = progress
        self.device = device
        self.epochs = progress.add_task("epochs", total=None, status="")
        self.batches = progress.add_task("batches", total=None, status="")
        self.started = False

    def on_epoch_start(self, epoch: int, epochs: int, batches: int) -> None:
        if not self.started:  # once, as training begins: a log then shows where a run started
            self.started = True
            self.progress.console.print(
                f"training on {self.device}: epochs {epoch} to {epochs}, {batches:,} batch{'es' if batches != 1 else ''} each",
                highlight=False,
            )
        self.progress.update(self.epochs, total=epochs, completed=epoch - 1, description=f"epoch {epoch}")
        self.progress.reset(self.batches, total=batches, description="batches", status="")

    def on_batch(self, batch: int, loss: float) -> None:
        self.progress.update(self.batches, completed=batch, status=f"loss {loss:.3f}")

    def on_epoch_end(self, r) -> None:
        self.progress.update(self.epochs, completed=r.epoch)
        # soft_wrap off: on a narrow terminal Rich breaks the line between fields, never inside a number.
        self.progress.console.print(epoch_line(r), highlight=False, soft_wrap=False)


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


def train_cmd(
    ctx: typer.Context,
    arch: Annotated[
        Arch, typer.Option("--arch", case_sensitive=False, help=f"Architecture. {_ARCH_HELP}.")
    ] = Arch(DEFAULT_ARCH),
    name: Annotated[str | None, typer.Option("--name", help="Run name \\[default: <arch>-<time>].")] = None,
    epochs: Annotated[int, typer.Option("--epochs", min=1, help="Most epochs to train.")] = _DEFAULTS.epochs,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1)] = _DEFAULTS.batch_size,
    lr: Annotated[float, typer.Option("--lr", min=0.0, help="Peak learning rate (AdamW).")] = _DEFAULTS.lr,
    weight_decay: Annotated[float, typer.Option("--weight-decay", min=0.0)] = _DEFAULTS.weight_decay,
    patience: Annotated[
        int,
        typer.Option(
            "--patience", min=1, help="Stop after this many epochs without a better --select score."
        ),
    ] = _DEFAULTS.patience,
    select: Annotated[
        Select,
        typer.Option(
            "--select",
            case_sensitive=False,
            help="Validation score that picks the kept epoch and stops early (accuracy or loss: "
            "steadier than macro-F1 when small labels have few validation names).",
        ),
    ] = Select(_DEFAULTS.select),
    balance: Annotated[
        bool, typer.Option("--balance/--no-balance", help="Class-balanced (inverse-frequency) loss.")
    ] = _DEFAULTS.balance,
    char_dropout: Annotated[
        float,
        typer.Option(
            "--char-dropout", min=0.0, max=0.9, help="Share of training characters hidden as unknown."
        ),
    ] = _DEFAULTS.char_dropout,
    hidden: Annotated[
        int | None, typer.Option("--hidden", min=1, help="Hidden size \\[arch default].")
    ] = None,
    layers: Annotated[
        int | None, typer.Option("--layers", min=1, help="Recurrent layers \\[arch default].")
    ] = None,
    bidirectional: Annotated[
        bool | None,
        typer.Option("--bidirectional/--no-bidirectional", help="\\[arch default]", show_default=False),
    ] = None,
    dropout: Annotated[float | None, typer.Option("--dropout", help="Dropout \\[arch default].")] = None,
    embedding_dim: Annotated[
        int | None, typer.Option("--embedding-dim", min=1, help="Character embedding size \\[arch default].")
    ] = None,
    make_default: Annotated[
        bool, typer.Option("--default/--no-default", help="Make the new model the store's default.")
    ] = True,
    resume: Annotated[
        str | None,
        typer.Option(
            "--resume",
            help="Continue a stored run (by name) with its stored options; only --epochs, --patience "
            "and --device may be given.",
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Replace a model of the same name, once the new run has finished."),
    ] = False,
    teacher: Annotated[
        str | None,
        typer.Option(
            "--teacher",
            help="Distil this model (e.g. an ensemble): learn its softened probabilities beside the labels.",
        ),
    ] = None,
    seed: options.Seed = _DEFAULTS.seed,
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
    from namelang.workspace import Workspace

    workspace = Workspace(workspace_home)
    try:  # Ctrl-C anywhere in the command: exit 130 with one line saying what was kept
        if resume is None:  # the options as the user gave them (None: the architecture's default)
            spec = spec_from(arch.value, **{k: ctx.params[k] for k in _ARCH_OPTIONS})
            config = TrainConfig(
                **{f.name: _plain(ctx.params[f.name]) for f in fields(TrainConfig) if f.name in ctx.params}
            )
        torch_device = resolve_device(device)
        with render.count_progress() as progress:
            common = dict(
                device=torch_device,
                callbacks=_Progress(progress, describe(torch_device)),
                make_default=make_default,
            )
            if resume is None:
                result = runs.start_run(workspace, spec, config, name=name, force=force, **common)
            else:
                given = _given(ctx)
                result = runs.resume_run(
                    workspace, resume, given.get("epochs"), given.get("patience"), given=given, **common
                )
    except KeyboardInterrupt as exc:
        render.warn(str(exc) if isinstance(exc, runs.NothingSaved) else "interrupted: nothing was saved")
        raise typer.Exit(130) from None
    _report(result)


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


def register(app: typer.Typer) -> None:
    app.command("train")(train_cmd)
