"""Distillation data (`TrainConfig.teacher`): the training names and perturbed copies of them, each
with the teacher's probabilities softened by the distillation temperature."""

from __future__ import annotations

from namelang.config import TrainConfig
from namelang.data.alphabet import Alphabet
from namelang.errors import NamelangError, literal
from namelang.training.loop import Encoded
from namelang.training.splits import Prepared, encode

PERTURBED = "\ufffd"  # a character no alphabet holds: every model reads it as unknown


def perturb(names: list[str], rate: float, rng) -> list[str]:
    """Each character hidden (as an unknown one) with probability `rate`: character dropout as text."""
    return ["".join(PERTURBED if rng.random() < rate else c for c in name) for name in names]


def distillation_set(prepared: Prepared, config: TrainConfig, alphabet: Alphabet) -> Encoded:
    """The train split plus `config.teacher_copies` perturbed copies, with the teacher's soft targets."""
    import numpy as np

    from namelang.inference import Classifier
    from namelang.models.forward import softmax

    labels_list = prepared.labels
    teacher = Classifier.load(config.teacher, home=prepared.workspace)
    if teacher.labels != list(labels_list):
        raise NamelangError(f"the teacher {literal(config.teacher)!r} does not predict this data's labels")
    names, labels = prepared.split("train")
    rng = np.random.default_rng(config.seed)
    inputs, targets = list(names), list(labels)
    for _ in range(config.teacher_copies):
        inputs += perturb(names, max(config.char_dropout, 0.1), rng)
        targets += labels
    probs = np.nan_to_num(teacher.predict_proba(inputs), nan=1.0 / len(labels_list))
    data = encode(inputs, targets, alphabet, labels_list)
    data.soft = softmax(np.log(np.clip(probs, 1e-12, None)) / config.distill_temperature)
    return data
