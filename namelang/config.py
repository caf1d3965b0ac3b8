"""Training settings, kept free of heavy imports so that the CLI can show their defaults in --help."""

from __future__ import annotations

from dataclasses import dataclass


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
