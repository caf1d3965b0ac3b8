"""The `namelang` Typer app: registers the commands and turns user errors into one line and exit 1."""

from __future__ import annotations

import contextlib
import traceback
from typing import Annotated

import typer
from typer.core import TyperGroup

from namelang import __version__
from namelang.cli import options, render
from namelang.errors import NamelangError


class NamelangGroup(TyperGroup):
    """Maps what goes wrong to one red line on stderr: the package's own errors and the system's (a
    missing folder, permission denied, a full disk) exit 1, Ctrl-C exits 130, usage stays Click's (2);
    anything else is a bug: "unexpected ..., report it". Parsing (where --version prints) and the
    command itself are both covered."""

    def make_context(self, *args, **kwargs):
        render.reset()
        with one_line_errors():
            return super().make_context(*args, **kwargs)

    def get_params(self, ctx):
        return _tidy_params(super().get_params(ctx))

    def get_command(self, ctx, cmd_name):
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            _tidy_command(command, ctx)
        return command

    def invoke(self, ctx):
        with one_line_errors():
            result = super().invoke(ctx)
            render.out.flush()  # a full disk behind stdout is reported here, not at interpreter exit
            return result


def _tidy_params(params: list) -> list:
    """Help that reads at 80 columns: a flag takes no value, so no `<bool>` beside it; a number shows
    `<int>`, or its range as `<0.0-1.0>` when it has two bounds."""
    for param in params:
        if param.param_type_name != "option":
            continue
        if param.is_flag:
            param.metavar = "" if param.metavar is None else param.metavar
            continue
        low, high = getattr(param, "min", None), getattr(param, "max", None)
        if param.metavar is None and low is not None and high is not None:
            param.metavar = f"<{low}-{high}>"
        elif param.metavar is None:
            with contextlib.suppress(Exception):  # a shorter label is a nicety, never an error
                param.metavar = param.display_type_rich(None).replace(" range", "")
        # Typer writes the range beside the metavar too ([0.0<=x<=1.0]), widening that column on every
        # row; a lower bound alone (>= 0, >= 1) goes without saying, and a wrong value still says it.
        param._get_number_range_help_str = lambda: None
    return params


def _tidy_command(command, ctx) -> None:
    """`_tidy_params` for a command, its help option and, for a group (`models`), its commands."""
    help_option = command.get_help_option(ctx)
    _tidy_params([*command.params, *([help_option] if help_option is not None else [])])
    for sub in getattr(command, "commands", {}).values():
        _tidy_command(sub, ctx)


@contextlib.contextmanager
def one_line_errors():
    try:
        yield
    except NamelangError as exc:
        _fail(exc.worded(options.flag_words))
    except BrokenPipeError:
        # `namelang predict ... | head`: the reader left; that is not an error.
        render.out.discard_stdout()
        raise typer.Exit(0) from None
    except KeyboardInterrupt:
        _fail("interrupted", code=130)
    except OSError as exc:
        if exc.errno is None:  # not the system's answer about a file: a bug
            _unexpected(exc)
        _fail(os_error_line(exc))
    except typer.BadParameter as exc:
        suggestion = did_you_mean(exc)
        if suggestion is None:
            raise
        _fail(suggestion, code=2)
    except Exception as exc:
        # Exit, Abort and usage errors belong to Typer/Click (vendored in newer Typer): let them through.
        if type(exc).__module__.split(".")[0] in ("typer", "click"):
            raise
        _unexpected(exc)


# What a wrong value of a choice option is called in its one-line error (else the option's name).
_CHOICE_NOUNS = {"--arch": "architecture", "--select": "score", "--format": "format", "--engine": "engine"}


def did_you_mean(exc) -> str | None:
    """A wrong value of a choice option (`--arch gur`) as one line with the nearest choice, or None when
    `exc` is another kind of bad value (then Typer's own message stands)."""
    import difflib

    param = getattr(exc, "param", None)
    choices = getattr(getattr(param, "type_descriptor", None), "choices", None)
    errors = getattr(exc.__cause__, "errors", None)  # the validation error Typer raised it from
    if not choices or errors is None or not errors() or "input" not in errors()[0]:
        return None
    value = str(errors()[0]["input"])
    names = [str(getattr(choice, "value", choice)) for choice in choices]
    option = max(param.opts, key=len)
    close = difflib.get_close_matches(value.lower(), names, n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown {_CHOICE_NOUNS.get(option, option)} {value!r}{hint} (choices: {', '.join(names)})"


def os_error_line(exc: OSError) -> str:
    """The path(s) and the system's reason: `data/models: Permission denied`."""
    reason = exc.strerror or str(exc)
    paths = [str(p) for p in (exc.filename, exc.filename2) if p not in (None, "")]
    return f"{' -> '.join(paths)}: {reason}" if paths else reason


def _fail(message: str, code: int = 1):
    if render.state.verbose:
        render.stderr().print(traceback.format_exc(), markup=False, highlight=False)
    render.error(message)
    raise typer.Exit(code) from None


def _unexpected(exc: Exception):
    if render.state.verbose:
        raise exc
    render.error(
        f"unexpected {type(exc).__name__}: {exc} (rerun with --verbose for the traceback, and report it)"
    )
    raise typer.Exit(1) from None


app = typer.Typer(
    name="namelang",
    cls=NamelangGroup,
    help="Guess which language a surname comes from, with character-level recurrent networks.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion for bash, zsh, fish, PowerShell
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
