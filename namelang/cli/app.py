"""The `namelang` Typer app: registers the commands and turns user errors into one line and exit 1."""

from __future__ import annotations

import traceback
from typing import Annotated

import typer
from typer.core import TyperGroup

from namelang import __version__
from namelang.cli import render
from namelang.errors import NamelangError


class NamelangGroup(TyperGroup):
    """Maps the package's own errors to one red line on stderr and exit code 1 (2 stays Click's)."""

    def invoke(self, ctx):
        render.reset()
        try:
            return super().invoke(ctx)
        except NamelangError as exc:
            if render.state.verbose:
                render.stderr().print(traceback.format_exc(), markup=False, highlight=False)
            render.error(str(exc))
            raise typer.Exit(1) from None
        except BrokenPipeError:
            # `namelang predict ... | head`: the reader left; that is not an error.
            raise typer.Exit(0) from None
        except Exception as exc:
            # Exit, Abort and usage errors belong to Typer/Click (vendored in newer Typer): let them through.
            if render.state.verbose or type(exc).__module__.split(".")[0] in ("typer", "click"):
                raise
            render.error(
                f"unexpected {type(exc).__name__}: {exc} (rerun with --verbose for the traceback, and report it)"
            )
            raise typer.Exit(1) from None


app = typer.Typer(
    name="namelang",
    cls=NamelangGroup,
    help="Guess which language a surname comes from, with character-level recurrent networks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        render.out.line(f"namelang {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Guess which language a surname comes from.

    The pipeline: download → prepare → train → evaluate / confusion → predict.
    """


from namelang.cli import confusion as _confusion  # noqa: E402
from namelang.cli import download as _download  # noqa: E402
from namelang.cli import ensemble as _ensemble  # noqa: E402
from namelang.cli import evaluate as _evaluate  # noqa: E402
from namelang.cli import models as _models  # noqa: E402
from namelang.cli import predict as _predict  # noqa: E402
from namelang.cli import prepare as _prepare  # noqa: E402
from namelang.cli import serve as _serve  # noqa: E402
from namelang.cli import train as _train  # noqa: E402

for _command in (_download, _prepare, _train, _evaluate, _confusion, _predict, _models, _serve, _ensemble):
    _command.register(app)


def main() -> None:
    app(prog_name="namelang")
