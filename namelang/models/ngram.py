"""The character n-gram baseline as a model: TF-IDF over char_wb n-grams + multinomial logistic regression.

scikit-learn fits it (`fit_ngram`); the model folder then holds plain tensors (idf, coefficients,
intercept in safetensors) and the n-gram vocabulary as JSON, and `NgramEngine` scores names with numpy
alone: the same analyzer (lower-case, words padded with a space, n-grams of min_n..max_n characters),
sublinear tf times idf, L2 norm, a linear layer. A test holds its probabilities to scikit-learn's.

Nothing heavy is imported at module level: the registry lists this spec in `--help`.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import ClassVar

from namelang.errors import NamelangError, literal
from namelang.models.spec import Spec, register

VOCABULARY = "vocabulary.json"
# C (inverse regularisation) candidates; the one with the best validation macro-F1 is kept.
C_GRID = (1.0, 10.0, 100.0)
# Above this many training names the exact solver is too slow on 2 cores (the union of ~200,000 surnames
# had not finished one C after 39 minutes, where one SGD pass over the same features took 39 s): a
# linear model fitted by stochastic gradient descent, its L2 penalty chosen on validation like C.
SGD_ABOVE = 60_000
ALPHA_GRID = (1e-6, 3e-6, 1e-5)
_SPACES = re.compile(r"\s\s+")


@register("ngram")
@dataclass
class NgramSpec(Spec):
    """Options of the n-gram model; `c=None` picks C on the validation split from C_GRID (or, above
    SGD_ABOVE training names, an SGD fit whose penalty is picked from ALPHA_GRID)."""

    summary: ClassVar[str] = "character n-gram TF-IDF + logistic regression (the baseline, no network)"
    min_n: int = 1
    max_n: int = 5
    c: float | None = None

    fit_path: ClassVar[str | None] = "ngram"  # not a torch network: fitted with scikit-learn, in one pass
    own_files: ClassVar[tuple[str, ...]] = (VOCABULARY,)

    def check(self) -> None:
        if not 1 <= self.min_n <= self.max_n:
            raise NamelangError(
                f"n-gram sizes must satisfy 1 <= min_n <= max_n, got {self.min_n}..{self.max_n}"
            )
        if self.c is not None and self.c <= 0:
            raise NamelangError(f"C must be positive, got {self.c:g}")

    def build(self, n_chars: int, n_labels: int):
        raise NamelangError("ngram is not a torch network: it runs on the numpy engine only")

    def numpy_engine(self, state: dict, n_chars: int, n_labels: int):
        raise NamelangError("an ngram model needs its vocabulary: load it with Classifier.load")

    def runner(self, found, device: str = "auto", members: list = ()):
        """The numpy engine, on any device (its weights checked against the card's checksum)."""
        import json

        try:
            vocabulary = json.loads(found.read_text(VOCABULARY))
        except json.JSONDecodeError as exc:
            raise NamelangError(
                f"{literal(found.path)}: {VOCABULARY} is not valid JSON ({literal(exc)})"
            ) from exc
        try:
            return NgramEngine(
                self, found.tensors(), vocabulary, found.card.alphabet, len(found.card.labels)
            ), "cpu"
        except NamelangError as exc:
            raise NamelangError(f"{literal(found.path)}: {exc.template}") from exc


def analyze(name: str, min_n: int, max_n: int) -> list[str]:
    """scikit-learn's `char_wb` analyzer with its default lower-casing, as a plain function."""
    grams = []
    for word in _SPACES.sub(" ", name.lower()).split():
        word = f" {word} "
        for n in range(min_n, max_n + 1):
            grams.extend(word[i : i + n] for i in range(max(1, len(word) - n + 1)))
            if len(word) <= n:  # a word shorter than n counts once, as a whole
                break
    return grams


@dataclass
class FittedNgram:
    state: dict  # numpy arrays: idf [V], coef [L, V], intercept [L]
    vocabulary: list[str]
    c: float | None  # None: fitted by SGD (`grid` holds the alphas tried)
    val_accuracy: float
    val_macro_f1: float
    val_logits: object  # numpy [N_val, L], for temperature scaling
    seconds: float
    grid: list[dict]


def _vectorizer(spec: NgramSpec):
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(analyzer="char_wb", ngram_range=(spec.min_n, spec.max_n), sublinear_tf=True)


def _candidates(spec: NgramSpec, rows: int) -> list[tuple[str, float]]:
    """(solver, penalty) pairs to try: C for logistic regression, alpha for SGD on large unions."""
    if spec.c is not None:
        return [("lbfgs", spec.c)]
    if rows > SGD_ABOVE:
        return [("sgd", alpha) for alpha in ALPHA_GRID]
    return [("lbfgs", c) for c in C_GRID]


def _fit_one(solver: str, penalty: float, x, y):
    if solver == "sgd":
        from sklearn.linear_model import SGDClassifier

        # One-vs-rest logistic losses; the exported scores go through a softmax whose temperature is
        # fitted on validation, like every model's.
        return SGDClassifier(loss="log_loss", alpha=penalty, max_iter=30, tol=1e-4, random_state=0).fit(x, y)
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=penalty, max_iter=3000).fit(x, y)


def fit_ngram(spec: NgramSpec, train: tuple[list, list], val: tuple[list, list], labels: list[str]):
    """Fit on train, choose C (or SGD's alpha) on validation macro-F1 (or take spec.c), return arrays."""
    import time
    import warnings

    import numpy as np
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import accuracy_score, f1_score

    started = time.perf_counter()
    index = {label: i for i, label in enumerate(labels)}
    y_train = np.array([index[lb] for lb in train[1]])
    y_val = np.array([index[lb] for lb in val[1]])
    vectorizer = _vectorizer(spec)
    x_train = vectorizer.fit_transform(train[0])
    x_val = vectorizer.transform(val[0])
    best, grid = None, []
    for solver, penalty in _candidates(spec, len(train[0])):
        with warnings.catch_warnings():  # SGD's capped epochs: the validation score judges the fit
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = _fit_one(solver, penalty, x_train, y_train)
        predicted = model.predict(x_val)
        acc, f1 = accuracy_score(y_val, predicted), f1_score(y_val, predicted, average="macro")
        key = "c" if solver == "lbfgs" else "alpha"
        grid.append({key: penalty, "val_accuracy": float(acc), "val_macro_f1": float(f1)})
        if best is None or f1 > best[1]:
            best = (model, f1, acc, penalty if solver == "lbfgs" else None)
    model, f1, acc, c = best
    state = _export(vectorizer, model, len(labels))
    vocabulary = [g for g, _ in sorted(vectorizer.vocabulary_.items(), key=lambda kv: kv[1])]
    # From the exported arrays, one column per label: scikit-learn's own has one per label seen in train.
    val_logits = np.asarray(x_val @ state["coef"].T) + state["intercept"]
    elapsed = time.perf_counter() - started
    return FittedNgram(state, vocabulary, c, float(acc), float(f1), val_logits, elapsed, grid)


def _export(vectorizer, model, n_labels: int) -> dict:
    """The fitted arrays, one row of coefficients per label (also when some label never occurred)."""
    import numpy as np

    coef = np.zeros((n_labels, model.coef_.shape[1]), dtype=np.float32)
    intercept = np.full(n_labels, -1e4, dtype=np.float32)  # a label absent from train is never chosen
    if len(model.classes_) == 2:  # binary: one row, the second class's logit against the first's 0
        coef[model.classes_[1]], intercept[model.classes_[1]] = model.coef_[0], model.intercept_[0]
        intercept[model.classes_[0]] = 0.0
    else:
        coef[model.classes_] = model.coef_
        intercept[model.classes_] = model.intercept_
    return {"idf": vectorizer.idf_.astype(np.float32), "coef": coef, "intercept": intercept}


class NgramEngine:
    """Scores names with the stored arrays; a runner over encoded ids like the recurrent engines."""

    def __init__(self, spec: NgramSpec, state: dict, vocabulary: list[str], alphabet: str, n_labels: int):
        import numpy as np

        size = len(vocabulary)
        expected = {"idf": (size,), "coef": (n_labels, size), "intercept": (n_labels,)}
        for key, shape in expected.items():
            if key not in state or tuple(state[key].shape) != shape:
                got = tuple(state[key].shape) if key in state else "missing"
                raise NamelangError(
                    f"the n-gram weights and vocabulary disagree: {key} is {got}, expected {shape}"
                )
        self.spec = spec
        self.index = {gram: i for i, gram in enumerate(vocabulary)}
        self.idf = state["idf"].astype(np.float64)
        self.coef_t = np.ascontiguousarray(state["coef"].T.astype(np.float64))  # [V, L]
        self.intercept = state["intercept"].astype(np.float64)
        # Encoded ids back to characters: padding is '', an unknown character one that no n-gram holds.
        self.chars = np.array(["", "\ufffd", *alphabet], dtype=object)

    def logits(self, names: list[str]):
        import numpy as np

        rows, cols, counts = [], [], []
        lookup, low, high = self.index.get, self.spec.min_n, self.spec.max_n
        for row, name in enumerate(names):
            found = Counter([c for c in map(lookup, analyze(name, low, high)) if c is not None])
            rows.extend([row] * len(found))
            cols.extend(found)
            counts.extend(found.values())
        rows, cols = np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64)
        weight = (1.0 + np.log(np.array(counts, dtype=np.float64))) * self.idf[cols]
        norm = np.sqrt(np.bincount(rows, weights=weight**2, minlength=len(names)))
        weight /= np.where(norm > 0, norm, 1.0)[rows]
        out = np.tile(self.intercept, (len(names), 1))
        if len(rows):  # rows are ascending: sum each row's run of contributions at once
            starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
            out[rows[starts]] += np.add.reduceat(self.coef_t[cols] * weight[:, None], starts, axis=0)
        return out

    def __call__(self, ids, lengths):
        names = ["".join(self.chars[row[:length]]) for row, length in zip(ids, lengths)]
        return self.logits(names).astype("float32")


def n_parameters(state: dict) -> int:
    return int(sum(math.prod(v.shape) for k, v in state.items() if k != "idf"))
