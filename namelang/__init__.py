"""namelang — guess which language a surname comes from.

The public API is `Classifier` and `tag_file` (a whole table, streamed); both are imported lazily so
that `import namelang` (and `namelang --help`) pays for neither numpy, pandas nor torch.
"""

__version__ = "0.1.0"
__all__ = ["Classifier", "NamelangError", "tag_file", "__version__"]

from namelang.errors import NamelangError


def __getattr__(name):
    if name == "Classifier":
        from namelang.inference import Classifier

        return Classifier
    if name == "tag_file":
        from namelang.tagging import tag_file

        return tag_file
    raise AttributeError(f"module 'namelang' has no attribute {name!r}")
