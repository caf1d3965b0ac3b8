"""What every kind of model shares, and the decorator that registers one (`models/registry.py` lists them).

A kind is one dataclass of its options, decorated with `@register(name)`: `name` is what a model card's
`arch` says. What the code does differently for a kind it asks the kind's class, never its name:

- `runner(found, device, members)`: what scores a stored model of this kind (loading, scoring);
- `fit_path`: how `train` fits it ("network": the torch training loop; "ngram": scikit-learn), or None
  for a kind `train` does not make (an ensemble is made of stored models by `namelang ensemble`);
- `resumable`: whether a stopped run of it can be continued;
- `own_files`: the files of its own a model folder holds and scoring reads (an n-gram's vocabulary).

This module imports no kind, so a kind's own module can import it without a circle.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

from namelang.errors import add_option_names

KINDS: dict[str, type[Spec]] = {}  # every kind a model card may name
ARCHITECTURES: dict[str, type[Spec]] = {}  # the kinds `train` fits (those with a `fit_path`), in `--help`


def register(name: str):
    def decorate(cls: type[Spec]) -> type[Spec]:
        cls.arch = name
        KINDS[name] = cls
        add_option_names(cls.options())  # messages name a kind's options as `{hidden}`
        if cls.fit_path is not None:
            ARCHITECTURES[name] = cls
        return cls

    return decorate


@dataclass
class Spec:
    """What every registered kind of model shares (a network, the n-gram baseline, an ensemble): its options."""

    arch: ClassVar[str]
    summary: ClassVar[str] = ""
    fit_path: ClassVar[str | None] = None
    resumable: ClassVar[bool] = False
    own_files: ClassVar[tuple[str, ...]] = ()  # files of the model folder this kind reads, beside the weights

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def options(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    def check(self) -> None:
        """Refuse option values the kind cannot use (a NamelangError naming the option as `{name}`)."""

    def runner(self, found, device: str, members: list):
        """(what scores the stored model `found`, the device it runs on as a string).

        For a single model: a runner over encoded names (`forward.Runner`: ids, lengths -> logits). For a
        kind made of other models: `members` are their Classifiers, loaded already, and the runner maps
        their probabilities [M, N, labels] to its own [N, labels].
        """
        raise NotImplementedError(f"{self.arch} models cannot be loaded")
