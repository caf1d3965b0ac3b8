"""The package's own error type: a user's mistake, reported as one line and exit code 1.

A message names the option of a call that the user can change as `{name}` or `{name=value}`, in the
Python parameter's name (`{device=cpu}`, `{prefix}`). `str(error)` words it for a Python caller
(`device='cpu'`); the CLI words the same error in its flags (`--device cpu`), so no library message
speaks a CLI flag and no CLI message speaks Python."""

from __future__ import annotations

import re
from collections.abc import Callable

# `{device}` or `{device=cpu}`: a lower-case identifier, so a JSON object in a message never matches.
_OPTION = re.compile(r"\{([a-z][a-z0-9_]*)(?:=([^{}]*))?\}")

# The options a message may name: the parameters a user can change. A `{word}` that is none of them —
# a user's own text in a message, such as a path `{in}.csv` or a column `{country}` — stays as written.
# The records that define options add theirs (config.TrainConfig's fields, each model kind's options).
OPTION_NAMES: set[str] = {
    "archive", "arch", "blocksize", "column", "coverage", "device", "encoding", "explain", "fmt",
    "force", "min_prob", "model", "name", "normalize", "output", "prefix", "prior", "resume", "sha256",
    "split", "test", "top_k", "url", "val",
}  # fmt: skip


def add_option_names(names) -> None:
    """Let messages name these options too (a record of options calls it for its fields)."""
    OPTION_NAMES.update(names)


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
        """The message with each `{name}` / `{name=value}` as `words(name, value)` says it."""
        return _OPTION.sub(
            lambda m: words(m.group(1), m.group(2)) if m.group(1) in OPTION_NAMES else m.group(0),
            self.template,
        )

    def options(self) -> list[str]:
        """The names of the options the message speaks of."""
        return [m.group(1) for m in _OPTION.finditer(self.template) if m.group(1) in OPTION_NAMES]

    def __str__(self) -> str:
        return self.worded(_python_words)
