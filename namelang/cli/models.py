"""`namelang models` (or `models list`): list, show, remove and choose the default of the stored models.

The group's options (`--home`, `-q`, `-v`) work before or after the subcommand:
`namelang models --home X rm NAME` and `namelang models rm NAME --home X` are the same.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from namelang.cli import options, render
from namelang.cli.render import Format, out
from namelang.errors import NamelangError, literal

ModelsFormat = options.output_format(Format.json)
models_app = typer.Typer(help="List and manage trained models.", invoke_without_command=True)


@dataclass(frozen=True)
class _ListArgs(options.CommonArgs):
    """The group's options (`namelang models` lists), which its subcommands take too (`ctx.obj`)."""

    fmt: ModelsFormat = Format.auto


@dataclass(frozen=True)
class _StoreArgs(options.CommonArgs):
    """The options of a subcommand that names a model: given after it, or before it to the group."""


@dataclass(frozen=True)
class _ShowArgs(_StoreArgs):
    name: Annotated[str, typer.Argument(help="Model name, path or 'pretrained'.")] = ...


@dataclass(frozen=True)
class _DefaultArgs(_StoreArgs):
    name: Annotated[str, typer.Argument(help="Model name in the store, or 'pretrained'.")] = ...


def _store(ctx: typer.Context, home: Path | None, quiet: bool, verbose: bool):
    """The store of the workspace named by the subcommand's options, else by the group's."""
    from namelang.models.store import ModelStore

    group = ctx.obj if isinstance(ctx.obj, _ListArgs) else _ListArgs()
    home = home if home is not None else group.home
    return ModelStore(options.workspace(home, quiet or group.quiet, verbose or group.verbose))


def _row(stored, default: bool, split_sha256: str | None = None) -> dict:
    """`split_sha256`: the workspace's prepared manifest, to say whether the val figures are on its split."""
    card = stored.card
    return {
        "name": stored.name,
        "default": default,
        "arch": card.arch,
        "parameters": card.parameters,
        "val_accuracy": card.best.val_accuracy,
        "val_macro_f1": card.best.val_macro_f1,
        # Figures on different validation names do not compare: say whose split each is on.
        # None: the workspace has no prepared split to compare with.
        "val_on": None
        if split_sha256 is None
        else ("this split" if card.data.manifest_sha256 == split_sha256 else "another split"),
        "val_sources": sorted(card.source_priors or {}),
        "trained_names": (card.lexicon or {}).get("names"),
        "interrupted": card.interrupted,
        "created": card.created,
    }


def _split_sha256(store) -> str | None:
    from namelang.data.split import manifest_sha256

    return manifest_sha256(store.workspace.home)


def _fmt(value, digits: int = 4) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _table(rows: list[dict], title: str):
    columns = [
        ("", "left"),
        ("name", "left"),
        ("arch", "left"),
        ("params", "right"),
        ("val acc", "right"),
        ("val macro-F1", "right"),
        ("created", "left"),
    ]
    # † marks validation figures on another split than this workspace's: other names, not comparable.
    mark = {True: "", False: "†"}
    cells = [
        (
            "*" if r["default"] else "",
            r["name"] + (" (interrupted)" if r["interrupted"] else ""),
            r["arch"],
            f"{r['parameters']:,}",
            _fmt(r["val_accuracy"]) + mark[r["val_on"] != "another split"],
            _fmt(r["val_macro_f1"]) + mark[r["val_on"] != "another split"],
            (r["created"] or "")[:10],
        )
        for r in rows
    ]
    return render.table(title, columns, cells)


@models_app.callback()
@options.takes(_ListArgs)
def list_cmd(args: _ListArgs, ctx: typer.Context) -> None:
    """List the stored models (the default marked with *), then the pretrained model."""
    if ctx.invoked_subcommand is not None:
        ctx.obj = args
        return
    _list(_store(ctx, args.home, args.quiet, args.verbose), args.fmt)


@models_app.command("list")
@options.takes(_ListArgs)
def list_alias_cmd(args: _ListArgs, ctx: typer.Context) -> None:
    """The same as `namelang models`: the stored models, then the pretrained model."""
    group = ctx.obj if isinstance(ctx.obj, _ListArgs) else _ListArgs()
    _list(
        _store(ctx, args.home, args.quiet, args.verbose), group.fmt if args.fmt is Format.auto else args.fmt
    )


def _list(store, fmt: Format) -> None:
    default = store.default()
    split = _split_sha256(store)
    rows = [_row(m, m.name == default, split) for m in store.list()]
    try:
        pretrained = store.pretrained()
        rows.append(_row(pretrained, default is None, split))
    except NamelangError:  # a package without its pretrained model still lists the store
        pass
    fmt = out.resolve(fmt, Format.json)
    if fmt is Format.json:
        out.json(rows)
    elif fmt is Format.table:
        out.show(_table(rows, f"models in {store.folder}"))
        elsewhere = [
            f"{r['name']} ({'+'.join(r['val_sources']) or '?'})"
            for r in rows
            if r["val_on"] == "another split"
        ]
        if elsewhere:
            render.info(
                f"† on another split than this workspace's: {', '.join(elsewhere)}; "
                "`namelang evaluate -m A -m B` compares models on one split"
            )
    else:
        out.records(rows, fmt)


@models_app.command("show")
@options.takes(_ShowArgs)
def show_cmd(args: _ShowArgs, ctx: typer.Context) -> None:
    """Print a model's card (model.json without its per-epoch history) as JSON."""
    found = _store(ctx, args.home, args.quiet, args.verbose).load(args.name)
    shown = {**found.card.without_history(), "path": str(found.path), "default": found.is_default}
    out.json(shown)


def _stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


@models_app.command("rm")
def rm_cmd(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Model name in the store.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    home: options.Home = None,
    quiet: options.Quiet = False,
    verbose: options.Verbose = False,
) -> None:
    """Delete a stored model (asks first on a terminal; --yes skips the question)."""
    store = _store(ctx, home, quiet, verbose)
    stored = store.load(name) if store.exists(name) else None
    if stored is None:
        raise NamelangError(f"no model named {literal(name)!r} in {literal(store.folder)}")
    if not yes:
        if not _stdin_is_terminal():
            raise NamelangError(
                f"not removing {literal(name)!r} without confirmation: pass --yes (no terminal to ask)"
            )
        what = f"{name!r}" + (" (the default model)" if stored.is_default else "")
        if not typer.confirm(f"remove {what} from {store.folder}?", default=False, err=True):
            render.info(f"kept {name!r}")
            raise typer.Exit(1)
    was_default = store.remove(name)
    render.info(f"removed {name!r}")
    if was_default:
        render.info("it was the default: the pretrained model serves again (`namelang models default NAME`)")


@models_app.command("default")
@options.takes(_DefaultArgs)
def default_cmd(args: _DefaultArgs, ctx: typer.Context) -> None:
    """Make a model the default for evaluate, confusion and predict."""
    name, store = args.name, _store(ctx, args.home, args.quiet, args.verbose)
    stored = store.load(name) if name != "pretrained" else None
    if stored is not None and stored.card.interrupted:
        render.warn(f"{name!r} is an interrupted run; `namelang train --resume {name}` finishes it")
    store.set_default(name)
    render.info(f"default model: {name}")


def register(app: typer.Typer) -> None:
    app.add_typer(models_app, name="models")
