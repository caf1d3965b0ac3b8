"""The one record encoder: scored rows as JSON records and CSV cells, column by column.

Every writer of predictions uses it: `tag_file`'s sinks (files, stdout), names on the command line and
the server, so a record has one shape everywhere:

    {<the row's own columns>..., "predictions": [{"label": …, "probability": …}, …],
     "prediction_set": [labels…] (with coverage), "script_path": "…" (with explain)}

`predictions` is empty for a blank name and starts with {"label": null, "probability": null} for a name
below `min_prob`; probabilities have six decimals. In CSV a prediction set is one cell, its labels
joined by '|'. Work is done once per distinct value of a column (names and their probabilities repeat),
and rows are put together by numpy over whole columns, not a dict per row.
"""

from __future__ import annotations

import json

import numpy as np

from namelang.scoring.adjust import SET_SEPARATOR
from namelang.scoring.cells import Cells, factorize, missing
from namelang.scoring.columns import PREDICTIONS, SET, PredictionColumns

NULL_PAIR = '{"label": null, "probability": null}'  # the first prediction of a name below min_prob


def json_texts(named: list[tuple[str, object]], columns: PredictionColumns) -> list[str]:
    """One JSON object (text) per row of `named`, the (column, values) of a scored chunk in order:
    its own columns as they are, the added ones (recognised by name) in the record's shape."""
    kinds = columns.kinds()
    if not named or len(named[0][1]) == 0:
        return []
    added = {name: values for name, values in named if name in kinds}
    out = np.full(len(named[0][1]), "{", dtype=object)
    for name, values in named:
        if name not in kinds:
            out = out + (_json(name) + ": ") + _fragments(values, _json, "null") + ", "
    out = out + f"{_json(PREDICTIONS)}: [" + _predictions(added, columns) + "]"
    for name in columns.extra:
        encode = _json_set if kinds[name] == SET else _json
        out = (
            out
            + f", {_json(name)}: "
            + _fragments(added[name], encode, "[]" if kinds[name] == SET else "null")
        )
    return (out + "}").tolist()


def _predictions(added: dict, columns: PredictionColumns) -> np.ndarray:
    """Per row, the items of `predictions` joined: every rank's pair, or none for a blank name."""
    joined = None
    for rank, (label_column, probability_column) in enumerate(columns.pairs):
        # A missing label is a name below min_prob on the first rank, and no pair on the others.
        labels = _fragments(added[label_column], _label_head, NULL_PAIR if rank == 0 else "")
        probabilities = _fragments(np.asarray(added[probability_column], dtype=np.float64), _probability, "")
        whole = (labels != "") & (labels != NULL_PAIR) & (probabilities != "")
        pairs = np.where(whole, labels + probabilities, np.where(labels == NULL_PAIR, NULL_PAIR, ""))
        if joined is None:
            joined = pairs
        else:
            joined = joined + np.where((joined != "") & (pairs != ""), ", ", "").astype(object) + pairs
    return joined


def _label_head(label) -> str:
    return f'{{"label": {_json(label)}, "probability": ' if isinstance(label, str) and label else ""


def _probability(value: float) -> str:
    return f"{round(value, 6)!r}}}"


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _json_set(cell) -> str:
    """A prediction set's cell ('English|Irish', '') as a JSON list."""
    return _json(cell.split(SET_SEPARATOR) if isinstance(cell, str) and cell else [])


def _fragments(values, encode, missing: str) -> np.ndarray:
    """`encode(value)` for every value, worked out once per distinct one; `missing` for None, NaN, NaT."""
    codes, distinct = factorize(values)
    return np.array([*map(encode, distinct), missing], dtype=object)[codes]


# --- CSV ------------------------------------------------------------------------------------------


def csv_cells(values) -> list | None:
    """A column's CSV cells: strings as they are, floats `%.6f`, missing values empty; None for other
    types (ints, dates, …), which only pandas writes as it always has."""
    kind = values.dtype.kind if hasattr(values, "dtype") else "O"
    if kind == "f":  # each distinct value formatted once (probabilities repeat with their names)
        return _fragments(values, "{:.6f}".format, "").tolist()
    if kind not in "OU" and str(values.dtype) not in ("str", "string"):
        return None
    if hasattr(values, "hasnans") and not values.hasnans:
        return values.tolist()
    values = values.tolist() if hasattr(values, "tolist") else values
    return ["" if missing(v) else v for v in values]


def names_json(classifier, names: list, probs, options, adjustment=None) -> list[str]:
    """The JSON record of each name scored on its own (`{"name": …, "predictions": …}`, the server's
    answer and `namelang predict --format json`'s for names): `probs` are the names' model
    probabilities, `options` a ScoreOptions, `adjustment` (settled) what to apply to them."""
    columns = PredictionColumns.of(options, classifier.labels)
    cells = Cells.of(classifier, names, probs, columns, options.min_prob, adjustment)
    return json_texts([("name", names), *cells.named()], columns)
