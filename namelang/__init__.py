"""namelang — guess which language a surname comes from.

The public API is `Classifier`; it is imported lazily so that `import namelang` (and `namelang --help`)
does not pay for torch.
"""

__version__ = "0.1.0"
__all__ = ["Classifier", "NamelangError", "__version__"]

from namelang.errors import NamelangError


def __getattr__(name):
    if name == "Classifier":
        from namelang.inference import Classifier

        return Classifier
    raise AttributeError(f"module 'namelang' has no attribute {name!r}")
