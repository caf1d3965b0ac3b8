"""Training settings, kept free of heavy imports so that the CLI can show their defaults in its help."""

from __future__ import annotations

from dataclasses import dataclass, fields

from namelang.errors import add_option_names

SELECT_BY = ("macro-f1", "accuracy", "loss")


@dataclass
class TrainConfig:
    epochs: int = 30
    batch_size: int = 256
    lr: float = 8e-3
    weight_decay: float = 1e-2
    patience: int = 10
    balance: bool = False
    clip: float = 1.0
    warmup: float = 0.03
    seed: int = 0
    char_dropout: float = 0.1
    # The validation score that picks the kept epoch and stops early (SELECT_BY). Macro-F1 weighs small
    # labels; on a split with a few names per small label it is noisy, and accuracy or loss is steadier.
    select: str = "macro-f1"
    # Distillation (`teacher`: a model's name or folder): the teacher's probabilities softened by this
    # temperature, this share of the loss, and this many character-dropout-perturbed copies of each name
    # labelled by the teacher.
    teacher: str | None = None
    distill_temperature: float = 2.0
    distill_weight: float = 0.7
    teacher_copies: int = 1


add_option_names(f.name for f in fields(TrainConfig))  # a resumed run's conflicts name them
