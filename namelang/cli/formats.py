"""Kept only until `cli/models.py` moves to `render.Format` and `options.output_format`."""

from __future__ import annotations

import enum

from namelang.cli.render import Format, out


class TableOrJson(str, enum.Enum):
    table = "table"
    json = "json"

    @classmethod
    def resolve(cls, value):
        """The sink's one auto rule, with json as the machine format."""
        return cls(out.resolve(Format(value.value) if value else None, Format.json).value)
