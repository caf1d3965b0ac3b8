"""One registry of the kinds of model, shared by train, evaluate, confusion, predict and the store.

A kind is one dataclass decorated with `@register(name)` (`models/spec.py`): a network's spec holds its
hyper-parameters and `build()` returns the torch module. The specs import nothing heavy, so the CLI can
list them in `--help` without importing torch; adding an architecture is one decorated class here (plus
its module, if it is a new kind of network), or in its own module imported at the end of this one (the
n-gram baseline, ensembles). A network's `numpy_engine()` is optional: without one, CPU inference runs
the torch module instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from namelang.errors import NamelangError, literal
from namelang.models.spec import ARCHITECTURES, KINDS, Spec, register

__all__ = ["ARCHITECTURES", "DEFAULT_ARCH", "KINDS", "ArchSpec", "Spec", "kind_of", "register", "spec_from"]


@dataclass
class ArchSpec(Spec):
    """Hyper-parameters of one architecture; field defaults are that architecture's defaults.

    A spec holds only the options its architecture uses: any other option is refused for it.
    """

    fit_path: ClassVar[str | None] = "network"
    resumable: ClassVar[bool] = True
    hidden: int = 128

    def build(self, n_chars: int, n_labels: int):
        """The torch module (training, GPUs)."""
        raise NotImplementedError

    def numpy_engine(self, state: dict, n_chars: int, n_labels: int):
        """The same network for CPU inference without torch (`numpy_engine.py`)."""
        raise NotImplementedError

    def check(self) -> None:
        if self.hidden < 1:
            raise NamelangError("{hidden} must be positive")

    def runner(self, found, device: str = "auto", members: list = ()):
        """On the CPU the numpy engine (no torch import), else the torch module on the accelerator."""
        from namelang.device import inference_device
        from namelang.models.forward import torch_runner

        accelerator = inference_device(device)
        if accelerator is None:
            try:
                return found.numpy_engine(), "cpu"
            except NotImplementedError:  # an architecture without a numpy engine runs on torch's CPU
                from namelang.extras import import_torch

                torch = import_torch(f"the {self.arch} model has no numpy engine and needs PyTorch")
                accelerator = torch.device("cpu")
        return torch_runner(found.torch_module(accelerator), accelerator), str(accelerator)


@dataclass
class _RecurrentSpec(ArchSpec):
    cell: ClassVar[str] = ""
    layers: int = 1
    bidirectional: bool = True
    dropout: float = 0.2
    embedding_dim: int = 64

    def build(self, n_chars: int, n_labels: int):
        from namelang.models.recurrent import RecurrentClassifier

        return RecurrentClassifier(self.cell, n_chars, n_labels, **self.to_dict())

    def numpy_engine(self, state: dict, n_chars: int, n_labels: int):
        from namelang.models.numpy_engine import NumpyRecurrent

        return NumpyRecurrent(self.cell, state, n_chars, n_labels, self)

    def check(self) -> None:
        super().check()
        if self.layers < 1 or self.embedding_dim < 1:
            raise NamelangError("{layers} and {embedding_dim} must be positive")
        if not 0.0 <= self.dropout < 1.0:
            raise NamelangError(f"{{dropout}} must be in [0, 1), got {self.dropout:g}")


@register("rnn-classic")
@dataclass
class ClassicSpec(ArchSpec):
    summary: ClassVar[str] = "the article's i2h/i2o cell over one-hot characters, batched (only --hidden)"
    hidden: int = 128

    def build(self, n_chars: int, n_labels: int):
        from namelang.models.classic import ClassicRNN

        return ClassicRNN(n_chars, n_labels, hidden=self.hidden)

    def numpy_engine(self, state: dict, n_chars: int, n_labels: int):
        from namelang.models.numpy_engine import NumpyClassic

        return NumpyClassic(state, n_chars, n_labels, self)


@register("rnn")
@dataclass
class RNNSpec(_RecurrentSpec):
    summary: ClassVar[str] = "nn.RNN (tanh) over learned character embeddings"
    cell: ClassVar[str] = "RNN"


@register("lstm")
@dataclass
class LSTMSpec(_RecurrentSpec):
    summary: ClassVar[str] = "nn.LSTM over learned character embeddings"
    cell: ClassVar[str] = "LSTM"


@register("gru")
@dataclass
class GRUSpec(_RecurrentSpec):
    summary: ClassVar[str] = "nn.GRU over learned character embeddings (the default)"
    cell: ClassVar[str] = "GRU"


DEFAULT_ARCH = "gru"


def kind_of(arch: str) -> type[Spec]:
    """The registered class of `arch` (any case): what to ask of a kind before making a spec of it."""
    key = arch.lower() if isinstance(arch, str) else arch
    if key not in KINDS:
        raise NamelangError(f"unknown architecture {literal(arch)!r}; choose one of: {', '.join(KINDS)}")
    return KINDS[key]


def spec_from(arch: str, **options) -> Spec:
    """The spec of `arch` (any case) with the given options; None leaves an option at its default.

    An option the architecture does not use is refused, not stored and ignored.
    """
    cls = kind_of(arch)
    given = {k: v for k, v in options.items() if v is not None}
    unused = sorted(set(given) - set(cls.options()))
    if unused:
        raise NamelangError(f"{cls.arch} does not use {', '.join('{' + k + '}' for k in unused)}")
    spec = cls(**given)
    spec.check()
    return spec


# The kinds with modules of their own register themselves when imported (after the networks, so that
# `train --help` lists the networks first).
from namelang.models import ensemble as _ensemble  # noqa: E402, F401
from namelang.models import ngram as _ngram  # noqa: E402, F401
