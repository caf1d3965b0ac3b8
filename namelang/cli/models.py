"""`namelang models`: list, show, remove and choose the default of the stored models."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from namelang.cli import options, render
from namelang.cli.formats import TableOrJson

models_app = typer.Typer(help="List and manage trained models.", invoke_without_command=True)


def _row(name: str, meta: dict, default: bool) -> dict:
    best = meta.get("best", {})
    return {
        "name": name,
        "default": default,
        "arch": meta.get("arch"),
        "parameters": meta.get("parameters"),
        "val_accuracy": best.get("val_accuracy"),
        "val_macro_f1": best.get("val_macro_f1"),
        "created": meta.get("created"),
    }


def _fmt(value, digits: int = 4) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


@models_app.callback()
def list_cmd(
    ctx: typer.Context,
    fmt: Annotated[
        TableOrJson | None, typer.Option("--format", help="\\[default: table on a terminal]")
    ] = None,
    home: options.Home = None,
    quiet: options.Quiet = False,
    verbose: options.Verbose = False,
) -> None:
    """List the stored models (the default marked), then the pretrained model."""
    if ctx.invoked_subcommand is not None:
        return
    from namelang.models import store

    home = options.start(home, quiet, verbose)
    default = store.get_default(home) or store.PRETRAINED
    rows = [_row(m.name, m.meta, m.name == default) for m in store.list_models(home)]
    if (store.PRETRAINED_DIR / store.META).is_file():
        rows.append(
            _row(store.PRETRAINED, store.read_meta(store.PRETRAINED_DIR), default == store.PRETRAINED)
        )
    if TableOrJson.resolve(fmt) is TableOrJson.json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = render.table(
        f"models in {store.models_dir(home)}",
        [
            (h, j)
            for h, j in [
                ("", "left"),
                ("name", "left"),
                ("arch", "left"),
                ("params", "right"),
                ("val acc", "right"),
                ("val macro-F1", "right"),
                ("created", "left"),
            ]
        ],
        [
            (
                "*" if r["default"] else "",
                r["name"],
                r["arch"],
                f"{r['parameters']:,}",
                _fmt(r["val_accuracy"]),
                _fmt(r["val_macro_f1"]),
                (r["created"] or "")[:19],
            )
            for r in rows
        ],
    )
    render.stdout().print(table)


@models_app.command("show")
def show_cmd(
    name: Annotated[str, typer.Argument(help="Model name, path or 'pretrained'.")],
    home: options.Home = None,
    quiet: options.Quiet = False,
    verbose: options.Verbose = False,
) -> None:
    """Print a model's model.json (without its per-epoch history) as JSON."""
    from namelang.models import store

    found = store.locate(options.start(home, quiet, verbose), name)
    meta = {k: v for k, v in found.meta.items() if k != "history"}
    meta["path"] = str(found.path)
    typer.echo(json.dumps(meta, indent=2, ensure_ascii=False))


@models_app.command("rm")
def rm_cmd(
    name: Annotated[str, typer.Argument(help="Model name in the store.")],
    home: options.Home = None,
    quiet: options.Quiet = False,
    verbose: options.Verbose = False,
) -> None:
    """Delete a stored model."""
    from namelang.models import store

    store.remove(options.start(home, quiet, verbose), name)
    render.info(f"removed {name!r}")


@models_app.command("default")
def default_cmd(
    name: Annotated[str, typer.Argument(help="Model name in the store, or 'pretrained'.")],
    home: options.Home = None,
    quiet: options.Quiet = False,
    verbose: options.Verbose = False,
) -> None:
    """Make a model the default for evaluate, confusion and predict."""
    from namelang.models import store

    store.set_default(options.start(home, quiet, verbose), name)
    render.info(f"default model: {name}")


def register(app: typer.Typer) -> None:
    app.add_typer(models_app, name="models")
