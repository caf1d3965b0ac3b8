"""namelang — guess which language a surname comes from.

The public API: `Classifier` (names in, probabilities and top-k labels out), `tag_file` (a whole table,
streamed), and the records a scoring run is described by, `ScoreOptions`, `TableOptions` and
`MixOptions`. They are imported lazily so that `import namelang` (and `namelang --help`) pays for
neither numpy, pandas nor torch.
"""

__version__ = "0.1.0"
__all__ = [
    "Classifier",
    "MixOptions",
    "NamelangError",
    "ScoreOptions",
    "TableOptions",
    "tag_file",
    "__version__",
]

from namelang.errors import NamelangError

_LAZY = {
    "Classifier": "namelang.inference",
    "tag_file": "namelang.tagging",
    "ScoreOptions": "namelang.scoring.options",
    "TableOptions": "namelang.scoring.options",
    "MixOptions": "namelang.scoring.options",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'namelang' has no attribute {name!r}")
