"""Moved to `namelang.training` (run.py, calibration.py, compare.py); these names stay importable from
here for the scripts and benchmarks that still import them. New code imports `namelang.training`."""

from namelang.training import (  # noqa: F401
    NothingSaved,
    RunResult,
    attach_lexicon,
    compare_with,
    replaced_default,
    resume_run,
    start_run,
    train_source_priors,
)
