"""The package's own error type: a user's mistake, reported as one line and exit code 1.

A message names the option of a call that the user can change as `{name}` or `{name=value}`, in the
Python parameter's name (`{device=cpu}`, `{prefix}`). `str(error)` words it for a Python caller
(`device='cpu'`); the CLI words the same error in its flags (`--device cpu`), so no library message
speaks a CLI flag and no CLI message speaks Python.

A user's own text in a message (a path, a column, a model's name, an exception's words) is inserted as
`literal(text)`, its braces doubled as in `str.format`: a path `{model}.csv` then reads as itself, never
as the option `{model}`."""

from __future__ import annotations

import re
from collections.abc import Callable

# `{{` or `}}`: one brace of a user's text (see `literal`). Else an option, `{device}` or `{device=cpu}`:
# a lower-case identifier (so a JSON object in a message never matches), its value a user's text too.
_TOKEN = re.compile(r"\{\{|\}\}|\{([a-z][a-z0-9_]*)(?:=((?:[^{}]|\{\{|\}\})*))?\}")
_BRACE = re.compile(r"\{\{|\}\}")

# The options a message may name: the parameters a user can change. A `{word}` that is none of them
# stays as written: a second guard, behind `literal`, for a user's text inserted as it is (an exception's
# words, a message not yet escaped), so a path `{in}.csv` is never worded `--in.csv`. The records that
# define options add theirs (config.TrainConfig's fields, each model kind's options); `arch` and `name`
# are named by a resumed run's conflicts (training/run.py).
OPTION_NAMES: set[str] = {
    "archive", "arch", "blocksize", "coverage", "device", "encoding", "fmt", "force", "min_prob", "name",
    "normalize", "output", "prefix", "prior", "resume", "sha256", "split", "test", "top_k", "url", "val",
}  # fmt: skip


def add_option_names(names) -> None:
    """Let messages name these options too (a record of options calls it for its fields)."""
    OPTION_NAMES.update(names)


def literal(value) -> str:
    """`value` (a user's path, column, model name, prior, URL, an exception's words) as a message's text:
    `str(value)` with each brace doubled, so that `worded` gives it back as written, never as an option."""
    return str(value).replace("{", "{{").replace("}", "}}")


def _unescaped(text: str) -> str:
    return _BRACE.sub(lambda m: m.group(0)[0], text)


def _python_words(name: str, value: str | None) -> str:
    if value is None:
        return name
    return f"{name}={value}" if value.replace(".", "", 1).isdigit() else f"{name}={value!r}"


class NamelangError(Exception):
    """Something the user can fix: a missing file, an unknown model, a bad column, an absent device."""

    def __init__(self, message: str = "", *args):
        super().__init__(message, *args)
        self.template = message

    def worded(self, words: Callable[[str, str | None], str]) -> str:
        """The message with each `{name}` / `{name=value}` as `words(name, value)` says it, and each
        `{{` / `}}` (a user's brace) as one brace."""

        def word(match: re.Match) -> str:
            name, value = match.group(1), match.group(2)
            if name is None:
                return match.group(0)[0]
            value = None if value is None else _unescaped(value)
            if name in OPTION_NAMES:
                return words(name, value)
            return "{" + name + ("" if value is None else "=" + value) + "}"

        return _TOKEN.sub(word, self.template)

    def __str__(self) -> str:
        return self.worded(_python_words)
