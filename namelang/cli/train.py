"""`namelang train`: train an architecture from the registry on the prepared splits."""

from __future__ import annotations

import enum
from typing import Annotated

import typer

from namelang.cli import options, render
from namelang.config import TrainConfig
from namelang.models.registry import ARCHITECTURES, DEFAULT_ARCH

Arch = enum.Enum("Arch", {name: name for name in ARCHITECTURES}, type=str)
_DEFAULTS = TrainConfig()
_ARCH_HELP = "; ".join(f"{name}: {cls.summary}" for name, cls in ARCHITECTURES.items())


class _Progress:
    """Rich epoch and batch bars on stderr, and one line per finished epoch."""

    def __init__(self, progress):
        self.progress = progress
        self.epochs = progress.add_task("epochs", total=None, status="")
        self.batches = progress.add_task("batches", total=None, status="")

    def on_epoch_start(self, epoch: int, epochs: int, batches: int) -> None:
        self.progress.update(self.epochs, total=epochs, completed=epoch - 1, description=f"epoch {epoch}")
        self.progress.reset(self.batches, total=batches, description="batches", status="")

    def on_batch(self, batch: int, loss: float) -> None:
        self.progress.update(self.batches, completed=batch, status=f"loss {loss:.3f}")

    def on_epoch_end(self, r) -> None:
        self.progress.update(self.epochs, completed=r.epoch)
        mark = " *" if r.improved else ""
        self.progress.console.print(
            f"epoch {r.epoch:3d}  train loss {r.train_loss:.4f}  val loss {r.val_loss:.4f}  "
            f"val acc {r.val_accuracy:.4f}  val macro-F1 {r.val_macro_f1:.4f}  {r.seconds:5.1f} s{mark}",
            highlight=False,
            soft_wrap=True,
        )


def train_cmd(
    arch: Annotated[Arch, typer.Option("--arch", help=f"Architecture. {_ARCH_HELP}.")] = Arch(DEFAULT_ARCH),
    name: Annotated[str | None, typer.Option("--name", help="Run name \\[default: <arch>-<time>].")] = None,
    epochs: Annotated[int, typer.Option("--epochs", min=1, help="Most epochs to train.")] = _DEFAULTS.epochs,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1)] = _DEFAULTS.batch_size,
    lr: Annotated[float, typer.Option("--lr", min=0.0, help="Peak learning rate (AdamW).")] = _DEFAULTS.lr,
    weight_decay: Annotated[float, typer.Option("--weight-decay", min=0.0)] = _DEFAULTS.weight_decay,
    patience: Annotated[
        int,
        typer.Option("--patience", min=1, help="Stop after this many epochs without a better val macro-F1."),
    ] = _DEFAULTS.patience,
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
        str | None, typer.Option("--resume", help="Continue a stopped run (by name) up to --epochs.")
    ] = None,
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
    from namelang import runs
    from namelang.device import describe, resolve_device
    from namelang.models.registry import spec_from

    home = options.start(home, quiet, verbose)
    spec = spec_from(
        arch.value,
        hidden=hidden,
        layers=layers,
        bidirectional=bidirectional,
        dropout=dropout,
        embedding_dim=embedding_dim,
    )
    config = TrainConfig(
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        weight_decay=weight_decay,
        patience=patience,
        balance=balance,
        char_dropout=char_dropout,
        seed=seed,
        teacher=teacher,
    )
    torch_device = resolve_device(device)
    render.info(f"device: {describe(torch_device)}")
    with render.count_progress() as progress:
        result = runs.train(
            home,
            spec,
            config,
            name=name,
            device=torch_device,
            callbacks=_Progress(progress),
            make_default=make_default,
            resume=resume,
        )
    best = result.meta["best"]
    if result.fit.interrupted:
        render.warn(
            f"interrupted: kept the best model so far (epoch {best['epoch']}) as {result.name!r}; "
            f"continue with `namelang train --resume {result.name} --epochs {epochs}`"
        )
    val = (
        f"val accuracy {best['val_accuracy']:.4f}, val macro-F1 {best['val_macro_f1']:.4f}"
        if best["epoch"]
        else ""
    )
    render.info(
        f"saved {result.meta['arch']} model {result.name!r} to {result.path} "
        f"(best epoch {best['epoch']} of {result.meta['epochs_run']}, {val}, "
        f"{result.meta['parameters']:,} parameters, {result.meta['training_seconds']:.1f} s)"
    )


def register(app: typer.Typer) -> None:
    app.command("train")(train_cmd)
