"""Training: prepared splits in, a stored model out.

    run.py          start_run / resume_run: the store's rules (names, force, Ctrl-C, the default), the
                    options a resumed run may change, and the fit path of each kind of model (FIT_PATHS,
                    chosen by the registry spec's `kind`)
    network.py      the torch path: a fresh or resumed module, its epochs, its temperature
    ngram.py        the scikit-learn path: the n-gram table fitted in one step
    loop.py         fit(): epochs, early stopping, callbacks; knows nothing of the architecture
    distill.py      a teacher's softened probabilities on the train names and perturbed copies
    cards.py        the model card, built once from what any path fitted
    calibration.py  what is fitted on the splits besides the weights: temperature, prior, conformal
                    thresholds, source priors, the lexicon
    splits.py       what a run reads from <home>/prepared/
    compare.py      the new model against the default it replaces

Nothing here prints or speaks a command-line flag: errors name options as `{name=value}`
(namelang.errors), progress goes to `Callbacks`. torch is imported by the functions that use it.
"""

from namelang.training.calibration import attach_lexicon, fit_temperature, train_source_priors
from namelang.training.compare import Comparison, compare_with, replaced_default
from namelang.training.loop import (
    Callbacks,
    EarlyStopping,
    Encoded,
    EpochReport,
    FitResult,
    Resumed,
    class_weights,
    fit,
)
from namelang.training.run import (
    Conflict,
    NothingSaved,
    ResumeConflicts,
    RunResult,
    default_run_name,
    resume_conflicts,
    resume_run,
    start_run,
)

__all__ = [
    "Callbacks",
    "Comparison",
    "Conflict",
    "EarlyStopping",
    "Encoded",
    "EpochReport",
    "FitResult",
    "NothingSaved",
    "ResumeConflicts",
    "Resumed",
    "RunResult",
    "attach_lexicon",
    "class_weights",
    "compare_with",
    "default_run_name",
    "fit",
    "fit_temperature",
    "replaced_default",
    "resume_conflicts",
    "resume_run",
    "start_run",
    "train_source_priors",
]
