"""What a run fits on the splits besides the weights: the temperature, the card's uncertainty fields
(prior, conformal thresholds, source priors) and the lexicon of training names.

Temperature scaling: one number, fitted on the validation split, that makes probabilities honest.

A network trained to low training loss is over-confident; dividing its logits by a temperature T > 1
fitted to minimise validation log-loss fixes most of that without changing any prediction's rank
(Guo et al., 2017). The test split is never used for it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from namelang.data.split import read_split, read_split_sources
from namelang.errors import NamelangError, literal
from namelang.models.forward import softmax
from namelang.workspace import Workspace

GRID = np.exp(np.linspace(np.log(0.25), np.log(8.0), 241))


def nll(logits: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    probs = softmax(logits / temperature)
    return float(-np.mean(np.log(np.clip(probs[np.arange(len(labels)), labels], 1e-12, None))))


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature on a fine log-spaced grid (0.25 to 8) with the lowest log-loss."""
    if len(labels) == 0:
        return 1.0
    losses = [nll(logits, labels, t) for t in GRID]
    return float(GRID[int(np.argmin(losses))])


# --- fitted on the splits after the weights: the card's uncertainty fields and the lexicon ---------------


def fit_uncertainty(card, home: Path, val_probs, y_val) -> None:
    """The card's prior and conformal thresholds (fitted on the validation split's probabilities) and
    each training source's label shares on the train split (the `prior` of a source, by its name)."""
    from namelang.uncertainty import uncertainty_fields

    card.prior, card.conformal = uncertainty_fields(card, val_probs, y_val)
    card.source_priors = train_source_priors(home, card.labels)


def train_source_priors(home: Path, labels: list[str]) -> dict[str, dict[str, float]] | None:
    """Each source's label shares on the workspace's prepared train split (uncertainty.source_priors)."""
    from namelang.uncertainty import source_priors

    _, split_labels, path = read_split(home, "train")
    return source_priors(split_labels, read_split_sources(path), labels)


def split_lexicon(home: Path, labels: list[str], val_probs) -> tuple[bytes, dict]:
    """The lexicon of the prepared train split (models/lexicon.py) and the card's note of it, with beta
    chosen on the val split from the model's probabilities `val_probs` (one row per val row)."""
    from namelang.models.lexicon import Lexicon, choose_beta, held_out_entries

    names, split_labels, path = read_split(home, "train")
    lexicon = Lexicon.from_rows(names, split_labels, read_split_sources(path), labels)
    val_names, val_labels, val_path = read_split(home, "val")
    counts, rows, y, protocol = held_out_entries(val_names, val_labels, read_split_sources(val_path), labels)
    beta, accuracy = choose_beta(counts, np.asarray(val_probs)[rows], y)
    info = {"names": len(lexicon), "beta": beta, "split": "val", "protocol": protocol, "accuracy": accuracy}
    return lexicon.to_bytes(), info


def attach_lexicon(model: str | Path, home: Workspace | Path | str | None = None, device: str = "auto"):
    """(Re)build the lexicon of a trained model from `home`'s prepared train split, beta chosen on its
    val split with the model alone; returns the model as stored. For models trained before lexicons
    (a build script's step); a model not fitted on the splits (an ensemble: its members carry the
    lexicons) is refused."""
    from namelang.inference import Classifier
    from namelang.models.store import ModelStore

    store = ModelStore(home)
    found = store.load(model)
    if found.spec().fit_path is None:  # an architecture the registry does not know is refused
        raise NamelangError(
            f"{literal(found.name)!r} is an {found.card.arch} model, not fitted on the prepared splits: "
            "its members carry the lexicons; attach one to each"
        )
    clf = Classifier.load(found.path, device=device, lexicon=False)
    val_names = read_split(store.workspace.home, "val")[0]
    found.attach_lexicon(*split_lexicon(store.workspace.home, clf.labels, clf.predict_proba(val_names)))
    return found
