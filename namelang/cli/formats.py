"""Output formats: a table for people on a terminal, machine formats when piped or asked."""

from __future__ import annotations

import enum

from namelang.cli import render


class TableOrJson(str, enum.Enum):
    table = "table"
    json = "json"

    @classmethod
    def resolve(cls, value):
        if value is not None:
            return value
        return cls.table if render.stdout_is_terminal() else cls.json
