"""Classifier: names in, top-k (label, probability) out; also whole pandas frames, chunk by chunk.

The CLI's `predict` uses exactly these methods, so the API and the command agree.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from namelang.data.alphabet import Alphabet
from namelang.data.normalize import normalize_name
from namelang.data.scripts import path_of, rule_probabilities, script_masks, transliterate
from namelang.data.sources import OUT_OF_SCOPE
from namelang.errors import NamelangError, literal
from namelang.models.card import ModelCard
from namelang.models.forward import batched_logits, softmax
from namelang.models.store import ModelStore
from namelang.workspace import Workspace

# The model's own out-of-scope label (a language outside the 18). `min_prob` never writes it: a name
# below the threshold gets no prediction (null), so the two cannot be confused.
UNKNOWN_LABEL = OUT_OF_SCOPE


def cased_as_trained(names: list[str]) -> list[str]:
    """Names written all in capitals or all in small letters (SMITH, o'brien: registers often are), as the
    networks were trained on them: capitalised (Smith, O'Brien). A network reads SILVA as letters it
    rarely saw (Korean 0.36) where it reads Silva as Portuguese; mixed case (McDonald) stays as written."""
    return [n.title() if len(n) > 1 and (n.isupper() or n.islower()) else n for n in names]


class _SharedWithMembers:
    """An attribute an ensemble's members share with it: setting it on the ensemble sets it on each."""

    def __set_name__(self, owner, name: str) -> None:
        self.name, self.key = name, f"_{name}"

    def __get__(self, obj, owner=None):
        return self if obj is None else getattr(obj, self.key)

    def __set__(self, obj, value) -> None:
        setattr(obj, self.key, value)
        for member in obj.members:
            setattr(member, self.name, value)


class Classifier:
    """A loaded model: `Classifier.load()` takes the store's default, else the pretrained model.

    Every kind of model is one: its kind's spec in the registry makes its `run` (models/registry.py). An
    ensemble's `members` are Classifiers too; its `run` combines their probabilities (models/ensemble.py).
    """

    # Batches scored side by side, and whether training names answer from the lexicon (see __init__).
    threads = _SharedWithMembers()
    use_lexicon = _SharedWithMembers()

    def __init__(self, run, card: ModelCard, name: str, path: Path, device: str, members: list | None = None):
        # A single model's: a batch of ids and lengths -> logits (numpy engine or torch module);
        # an ensemble's: its members' probabilities -> its own.
        self.run = run
        self.card = card
        self.name = name
        self.path = path
        self.device = device
        self.members: list[Classifier] = list(members or [])
        self.labels: list[str] = list(card.labels)
        self.alphabet = Alphabet(card.alphabet)
        self.max_length = card.max_length
        self.ascii_only = card.normalization.ascii
        # Fitted on the validation split at training time (calibration.py); 1 leaves logits as they are.
        self.temperature = float(card.temperature)
        # Batches scored side by side (`forward.batched_logits`): 1 where processes already share the
        # cores (Dask workers, the server's pool); `namelang predict` sets it to the cores it may use.
        self.threads = 1
        # Training names answer from their label counts (models/lexicon.py); False: the network alone.
        self.use_lexicon = True
        self._lexicon_blob: bytes | None = None  # decoded on first use: most commands load, few look up
        self._lexicon = None

    def __repr__(self) -> str:
        return (
            f"Classifier(name={self.name!r}, arch={self.card.arch!r}, labels={len(self.labels)}, "
            f"device={self.device!r}, path={str(self.path)!r})"
        )

    @classmethod
    def load(
        cls,
        model: str | Path | None = None,
        home: Workspace | str | Path | None = None,
        device: str = "auto",
        lexicon: bool = True,
    ):
        """`model`: a store name, a model folder, 'pretrained', or None for the default.

        On the CPU the model runs on the numpy engine (no torch import); on cuda/mps, on torch.
        `lexicon=False`: training names are answered by the network too (to measure the network alone).
        """
        return cls.from_stored(ModelStore(home).load(model), device, lexicon)

    @classmethod
    def from_stored(cls, found, device: str = "auto", lexicon: bool = True):
        """The Classifier of a model the store found (`ModelStore.load`), of any kind the registry knows."""
        members = [cls.from_stored(member, device, lexicon) for member in found.members()]
        run, on = found.spec().runner(found, device, members)
        clf = cls(run, found.card, found.name, found.path, on, members)
        clf._lexicon_blob = found.lexicon_bytes()
        clf.use_lexicon = lexicon
        return clf

    def normalize(self, names) -> list[str]:
        """Each name's key: NFC, stripped, inner whitespace collapsed, in its own script (the script is
        evidence: `distinct_proba` reads it); None, NaN and blanks become ''."""
        return [normalize_name(n, transliterate=False) if isinstance(n, str) else "" for n in names]

    def spelled_for_model(self, keys: list[str]) -> list[str]:
        """Keys spelled as the model was trained: Cyrillic and Greek in Latin, and with `ascii_only` the
        tutorial's ASCII folding (`normalize_name` in full)."""
        if self.ascii_only:
            return [normalize_name(n, True) for n in keys]
        return [n if n.isascii() else transliterate(n) for n in keys]

    @property
    def lexicon(self):
        """The lexicon of the training names (models/lexicon.py), or None for a model without one. An
        ensemble's is its first member's (members share one prepared split: `training.ensemble.check_members`)."""
        if self.members:
            return self.members[0].lexicon
        if self._lexicon is None and self._lexicon_blob is not None:
            from namelang.models.lexicon import Lexicon

            lexicon = Lexicon.from_bytes(self._lexicon_blob, f"{self.path}: lexicon")
            if lexicon.labels != self.labels:
                raise NamelangError(f"{literal(self.path)}: the lexicon's labels are not the model's")
            self._lexicon, self._lexicon_blob = lexicon, None
        return self._lexicon

    def known(self, names) -> np.ndarray | None:
        """For each name, whether it is a training name (in the lexicon); None without a lexicon."""
        lexicon = self.lexicon
        if lexicon is None:
            return None
        return lexicon.rows(self.spelled_for_model(self.normalize(names))) >= 0

    # Names per forward pass: of 256, 512, 1024 and 2048, 512 ran fastest on 2 CPU cores.
    BATCH = 512

    def predict_proba(self, names, batch_size: int = BATCH) -> np.ndarray:
        """Probabilities [N, labels] (softmax, rows sum to 1); rows of blank names are NaN."""
        normalized = self.normalize(names)
        if not normalized:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        # Real files repeat surnames a lot: score each distinct name once.
        unique, inverse = np.unique(np.array(normalized, dtype=object), return_inverse=True)
        return self.distinct_proba(list(unique), batch_size)[inverse.reshape(-1)]

    def distinct_proba(self, normalized: list[str], batch_size: int = BATCH) -> np.ndarray:
        """`predict_proba` of names already through `normalize`, each once (what a cache of names calls)."""
        if self.members:
            return self.run(
                np.stack([member.distinct_proba(normalized, batch_size) for member in self.members])
            )
        spelled = self.spelled_for_model(normalized)
        ids, lengths = self.alphabet.encode(cased_as_trained(spelled), self.max_length)
        logits = batched_logits(self.run, ids, lengths, batch_size, self.threads)
        probs = softmax(logits / self.temperature)
        if probs.shape[1] == 0:
            probs = np.zeros((len(normalized), len(self.labels)), dtype=np.float32)
        # A training name answers from its sources' label counts, the network as the prior (beta chosen
        # on validation, models/lexicon.py); the script rules below still bound it.
        if self.use_lexicon and self.lexicon is not None:
            probs = self.lexicon.blend(probs, spelled, float(self.card.lexicon["beta"]))
        # Cyrillic and Greek keep to their script's language; Han, Kana, Hangul and Arabic script take a
        # rule (data/scripts.py); an ASCII name does neither.
        others = np.array([i for i, name in enumerate(normalized) if not name.isascii()], dtype=np.int64)
        if len(others):
            native = [normalized[i] for i in others]
            kept, masks = script_masks(native, self.labels, OUT_OF_SCOPE)
            if len(kept):
                masked = probs[others[kept]] * masks
                total = masked.sum(axis=1, keepdims=True)
                # Both allowed labels can underflow to 0 in float32: then they share the row evenly.
                even = masks / masks.sum(axis=1, keepdims=True)
                probs[others[kept]] = np.where(total > 0, masked / np.where(total > 0, total, 1), even)
            ruled, ruled_probs = rule_probabilities(native, self.labels, OUT_OF_SCOPE)
            probs[others[ruled]] = ruled_probs
        probs[lengths == 0] = np.nan
        return probs

    def script_paths(self, names) -> list[str]:
        """How each name is scored: 'model', 'transliterated', 'lexicon' (a training name) or 'rule: …'
        (for `predict --explain`)."""
        names = list(names)
        known = self.known(names) if self.use_lexicon else None
        paths = [
            path_of(normalize_name(n, transliterate=False), self.labels, OUT_OF_SCOPE)
            if isinstance(n, str) and n.strip()
            else ""
            for n in names
        ]
        if known is None:
            return paths
        return ["lexicon" if k and p in ("model", "transliterated") else p for p, k in zip(paths, known)]

    def rank(self, probs: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(label indices [N, k], probabilities [N, k]), best first."""
        k = max(1, min(k, len(self.labels)))
        order = np.argsort(-np.nan_to_num(probs, nan=-1.0), axis=1, kind="stable")[:, :k]
        return order, np.take_along_axis(probs, order, axis=1)

    def predict(self, names, top_k: int = 3) -> list[list[tuple[str, float]]]:
        """For each name, its top_k (label, probability) pairs; an empty list for a blank name."""
        if isinstance(names, str):
            raise NamelangError("predict() takes a list of names, not one string")
        probs = self.predict_proba(list(names))
        order, top = self.rank(probs, top_k)
        return [
            [] if np.isnan(row_p[0]) else [(self.labels[i], float(p)) for i, p in zip(row_i, row_p)]
            for row_i, row_p in zip(order, top)
        ]

    def predict_frame(self, frame, column: str = "name", options=None, **choices):
        """`frame` with the prediction columns added (empty cells for blank names); rows stay in order.

        `options`: a `ScoreOptions`, or its fields as keywords (`top_k` is 1 here unless given; `prefix`,
        `min_prob`, `prior`, `coverage`, `explain`). Below `min_prob` a name abstains: its `prediction`
        is None and its `probability` NaN (a blank name's `prediction` is ''); `prediction_2` … stay the
        runners-up. A prior `estimate` is estimated over the frame's names.
        """
        from namelang.scoring.adjust import rows_adjustment
        from namelang.scoring.cells import Cells
        from namelang.scoring.columns import PredictionColumns
        from namelang.scoring.options import ScoreOptions

        options = options if options is not None else ScoreOptions(**{"top_k": 1, **choices})
        if column not in frame.columns:
            raise NamelangError(
                f"no column {literal(column)!r}; the columns are: {literal(', '.join(map(str, frame.columns)))}"
            )
        columns = PredictionColumns.of(options, self.labels)
        columns.check_clash(frame.columns)
        names = frame[column].tolist()
        probs = self.predict_proba(names)
        adjustment = rows_adjustment(self, options, probs)
        return Cells.of(self, names, probs, columns, options.min_prob, adjustment).added_to(frame)
