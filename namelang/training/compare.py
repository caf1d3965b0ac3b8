"""A new model against the one it replaces as the default, on validation names neither trained on."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from namelang.data.split import read_split
from namelang.errors import NamelangError
from namelang.models.store import PRETRAINED, ModelStore
from namelang.workspace import Workspace


@dataclass
class Comparison:
    """A new model against the one it replaces as the default, on validation names neither trained on."""

    new: str
    old: str
    names: int  # the validation rows scored
    new_accuracy: float
    old_accuracy: float
    left_out: int  # validation rows whose name the old model trained on (not scored)
    old_has_lexicon: bool  # False: the old model may have trained on some of the scored names


def replaced_default(workspace: Workspace | Path | str | None) -> str:
    """The model a new default replaces: the store's default, else the pretrained model."""
    return ModelStore(workspace).default() or PRETRAINED


def compare_with(
    workspace: Workspace | Path | str | None, new: str, old: str, device: str = "auto"
) -> Comparison | None:
    """`new` against `old` on the prepared val split's names that neither model's lexicon holds
    (accuracy, as the models answer); None when `old` cannot be loaded or is `new` itself."""
    import numpy as np

    from namelang.inference import Classifier

    workspace = Workspace.resolve(workspace)
    if old == new:
        return None
    try:
        models = [Classifier.load(ref, workspace, device) for ref in (new, old)]
        names, labels, _ = read_split(workspace.home, "val")
        unseen = np.ones(len(names), dtype=bool)
        for clf in models:
            known = clf.known(names)
            unseen &= True if known is None else ~known
    except NamelangError:  # a package without its pretrained model, an old model's damaged lexicon …
        return None  # the new model is saved already: no comparison is no failure
    names = [n for n, keep in zip(names, unseen) if keep]
    truth = np.array([lb for lb, keep in zip(labels, unseen) if keep], dtype=object)
    accuracy = []
    for clf in models:
        predicted = np.array(clf.labels, dtype=object)[clf.predict_proba(names).argmax(axis=1)]
        accuracy.append(float(np.mean(predicted == truth)) if len(names) else float("nan"))
    left_out = int((~unseen).sum())
    return Comparison(new, old, len(names), accuracy[0], accuracy[1], left_out, models[1].lexicon is not None)
