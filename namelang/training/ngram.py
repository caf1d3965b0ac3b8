"""The n-gram model's fit path: scikit-learn fits it in one step (C chosen on validation), then its
temperature is fitted on the validation split's logits."""

from __future__ import annotations

from namelang.models.card import Best
from namelang.models.ngram import NgramSpec
from namelang.training.cards import Fitted
from namelang.training.loop import FitResult
from namelang.training.splits import Prepared


def fitted_ngram(spec: NgramSpec, prepared: Prepared) -> Fitted:
    """Fit `spec` on the train split; `spec.c` becomes the C chosen (None: fitted by SGD)."""
    import json

    import numpy as np
    import sklearn

    from namelang.models.forward import softmax
    from namelang.models.ngram import VOCABULARY, fit_ngram, n_parameters
    from namelang.training.calibration import fit_temperature

    labels = prepared.labels
    train_split, val_split = prepared.split("train"), prepared.split("val")
    fitted = fit_ngram(spec, train_split, val_split, labels)
    spec.c = fitted.c
    y_val = np.array([labels.index(lb) for lb in val_split[1]])
    temperature = fit_temperature(fitted.val_logits, y_val)
    return Fitted(
        fit=FitResult({}, 1, [], False, fitted.seconds),
        state=fitted.state,
        alphabet=prepared.manifest["alphabet"],
        temperature=temperature,
        val_probs=softmax(fitted.val_logits / temperature),
        y_val=y_val,
        rows=(len(train_split[0]), len(val_split[0])),
        parameters=n_parameters(fitted.state),
        best=Best(1, fitted.val_accuracy, fitted.val_macro_f1),
        library=("sklearn", sklearn.__version__),
        epochs_run=1,
        seconds=fitted.seconds,
        extras={"c_grid": fitted.grid},
        files={VOCABULARY: json.dumps(fitted.vocabulary, ensure_ascii=False) + "\n"},
    )
