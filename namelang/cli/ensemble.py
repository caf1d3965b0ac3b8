"""`namelang ensemble A B C --name E`: store several models as one, weighted on the validation split."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import typer

from namelang.cli import options, render


@dataclass(frozen=True)
class EnsembleArgs(options.CommonArgs):
    members: Annotated[list[str], typer.Argument(help="Two or more models (store names or folders).")] = ...
    name: Annotated[str, typer.Option("--name", help="Name of the new ensemble model.")] = ...
    force: Annotated[bool, typer.Option("--force", help="Replace a model of that name.")] = False
    make_default: Annotated[
        bool, typer.Option("--default/--no-default", help="Make the ensemble the store's default.")
    ] = False
    device: options.Device = "auto"


@options.takes(EnsembleArgs)
def ensemble_cmd(args: EnsembleArgs) -> None:
    """Combine models by a weighted mean of their log-probabilities (weights and temperature fitted on
    the validation split) and store the result, members included, as one model."""
    from namelang.models.store import ModelStore
    from namelang.training.ensemble import create

    workspace = args.start()
    built = create(workspace, args.members, args.name, force=args.force, device=args.device)
    if args.make_default:
        ModelStore(workspace).set_default(built.name)
    card = built.card
    weights = ", ".join(f"{m['name']} {m['weight']:.3f}" for m in card.members)
    render.info(
        f"saved ensemble {built.name!r} to {built.path}: weights {weights}; temperature "
        f"{card.temperature:.3f}; val accuracy {card.best.val_accuracy:.4f}, "
        f"val macro-F1 {card.best.val_macro_f1:.4f}"
    )


def register(app: typer.Typer) -> None:
    app.command("ensemble")(ensemble_cmd)
