"""One registry of architectures, shared by train, evaluate, confusion and predict.

An architecture is a small dataclass of hyper-parameters whose `build()` returns the torch module.
The specs import nothing heavy, so the CLI can list them in `--help` without importing torch; adding
an architecture is one decorated class here (plus its module, if it is a new kind of network). Its
`numpy_engine()` is optional: without one, CPU inference runs the torch module instead.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

from namelang.errors import NamelangError

ARCHITECTURES: dict[str, type[ArchSpec]] = {}


def register(name: str):
    def decorate(cls: type[ArchSpec]) -> type[ArchSpec]:
        cls.arch = name
        ARCHITECTURES[name] = cls
        return cls

    return decorate


@dataclass
class Spec:
    """What every registered kind of model shares (a network or the n-gram baseline): its options."""

    arch: ClassVar[str]
    summary: ClassVar[str] = ""
    # How a training run fits it (training/run.py's FIT_PATHS): "network" (torch, epochs, resumable) or
    # "ngram" (scikit-learn, one fit); None: not fitted from the prepared splits (an ensemble).
    kind: ClassVar[str | None] = None

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def options(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]


@dataclass
class ArchSpec(Spec):
    """Hyper-parameters of one architecture; field defaults are that architecture's defaults.

    A spec holds only the options its architecture uses: any other option is refused for it.
    """

    kind: ClassVar[str | None] = "network"
    hidden: int = 128

    def build(self, n_chars: int, n_labels: int):
        """The torch module (training, GPUs)."""
        raise NotImplementedError

    def numpy_engine(self, state: dict, n_chars: int, n_labels: int):
        """The same network for CPU inference without torch (`numpy_engine.py`)."""
        raise NotImplementedError

    def check(self) -> None:
        if self.hidden < 1:
            raise NamelangError("--hidden must be positive")


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
            raise NamelangError("--layers and --embedding-dim must be positive")
        if not 0.0 <= self.dropout < 1.0:
            raise NamelangError(f"--dropout must be in [0, 1), got {self.dropout:g}")


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


def flag(option: str) -> str:
    """The command-line flag of a spec option: embedding_dim -> --embedding-dim."""
    return "--" + option.replace("_", "-")


def spec_from(arch: str, **options) -> ArchSpec:
    """The spec of `arch` (any case) with the given options; None leaves an option at its default.

    An option the architecture does not use is refused, not stored and ignored.
    """
    key = arch.lower() if isinstance(arch, str) else arch
    if key not in ARCHITECTURES:
        raise NamelangError(f"unknown architecture {arch!r}; choose one of: {', '.join(ARCHITECTURES)}")
    cls = ARCHITECTURES[key]
    given = {k: v for k, v in options.items() if v is not None}
    unused = sorted(set(given) - set(cls.options()))
    if unused:
        raise NamelangError(f"{key} does not use {', '.join(flag(k) for k in unused)}")
    spec = cls(**given)
    spec.check()
    return spec


from namelang.models import ngram as _ngram  # noqa: E402, F401  (registers "ngram")
