"""The optional halves of the package, imported where they are used, with one line saying what to install.

`pip install namelang` is what scoring needs (predict, evaluate, confusion, models, serve, the Dask
workers): CPU inference runs on the numpy engine. Training is the `train` extra: torch for the networks,
scikit-learn for the split and the n-gram baseline, matplotlib for the loss curve.
"""

from __future__ import annotations

from namelang.errors import NamelangError

TRAIN_INSTALL = 'pip install "namelang[train]"'
# A bare `torch` requirement takes a CUDA build of several GB where the index serves those by default.
CPU_TORCH = "pip install torch --index-url https://download.pytorch.org/whl/cpu"


def missing(what: str, extra: str = "train") -> NamelangError:
    """The one line for an absent optional package: what needs it and what to install."""
    hint = f'pip install "namelang[{extra}]"'
    if extra == "train":
        hint += f" (for a CPU-only torch first: {CPU_TORCH})"
    return NamelangError(f"{what}: {hint}")


def import_torch(what: str = "training needs PyTorch"):
    """torch, or one line saying how to install it."""
    try:
        import torch
    except ImportError:
        raise missing(what) from None
    return torch


def require(module: str, what: str, extra: str = "train") -> None:
    """Checks that `module` imports (callers import the parts they use), else one line: what to install."""
    import importlib

    try:
        importlib.import_module(module)
    except ImportError:
        raise missing(what, extra) from None


def import_sklearn(what: str = "this needs scikit-learn") -> None:
    require("sklearn", what)


def import_pyplot(what: str = "drawing a figure needs matplotlib"):
    """matplotlib.pyplot on the Agg backend (no display needed), or one line saying how to install it."""
    try:
        import matplotlib
    except ImportError:
        raise missing(what, "plot") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
