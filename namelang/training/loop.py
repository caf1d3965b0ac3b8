"""fit(): mini-batch training with early stopping on a validation score (macro-F1 by default).

The trainer knows nothing of the architecture (any module mapping (ids, lengths) to logits will do)
and prints nothing: it reports through callbacks, and the caller saves what it returns. torch is
imported by the functions that use it, so the package imports without it.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from namelang.config import TrainConfig
from namelang.data.alphabet import UNKNOWN

if TYPE_CHECKING:
    import torch
    from torch import nn


@dataclass
class Encoded:
    """One split, encoded: ids [N, T], lengths [N], label indices [N]."""

    ids: np.ndarray
    lengths: np.ndarray
    labels: np.ndarray
    soft: np.ndarray | None = None  # a teacher's softened probabilities [N, labels], for distillation

    def __len__(self) -> int:
        return len(self.labels)


@dataclass
class EpochReport:
    epoch: int
    train_loss: float
    val_loss: float
    val_accuracy: float
    val_macro_f1: float
    lr: float
    seconds: float
    improved: bool = False


@dataclass
class FitResult:
    best_state: dict
    best_epoch: int
    history: list[EpochReport]
    interrupted: bool
    seconds: float
    stopped_early: bool = False

    @property
    def best(self) -> EpochReport | None:
        return next((r for r in self.history if r.epoch == self.best_epoch), None)


@dataclass
class Resumed:
    """Where a resumed run picks up: its epochs so far and the best weights among them."""

    history: list[EpochReport]
    best_state: dict


class Callbacks:
    """Override what you need; every hook is optional."""

    def on_epoch_start(self, epoch: int, epochs: int, batches: int) -> None: ...

    def on_batch(self, batch: int, loss: float) -> None: ...

    def on_epoch_end(self, report: EpochReport) -> None: ...


@dataclass
class _Batches:
    """Bucketed batches: shuffle, sort each window of 50 batches by length, shuffle the batch order."""

    lengths: np.ndarray
    batch_size: int
    generator: np.random.Generator
    window: int = 50

    def epoch(self) -> list[np.ndarray]:
        order = self.generator.permutation(len(self.lengths))
        size = self.batch_size * self.window
        batches = []
        for start in range(0, len(order), size):
            chunk = order[start : start + size]
            chunk = chunk[np.argsort(self.lengths[chunk], kind="stable")]
            batches.extend(chunk[i : i + self.batch_size] for i in range(0, len(chunk), self.batch_size))
        return [batches[i] for i in self.generator.permutation(len(batches))]

    def count(self) -> int:
        return math.ceil(len(self.lengths) / self.batch_size)


def class_weights(labels: np.ndarray, n_labels: int) -> np.ndarray:
    """Inverse-frequency weights, averaging 1 over the training rows."""
    counts = np.bincount(labels, minlength=n_labels).astype(np.float64)
    weights = np.where(counts > 0, len(labels) / (n_labels * np.maximum(counts, 1)), 0.0)
    return weights / (weights[labels].mean())


def evaluate_split(model, data: Encoded, device, loss_fn) -> tuple[float, float, float]:
    """(loss, accuracy, macro-F1) of `model` on `data`."""
    import torch
    from sklearn.metrics import accuracy_score, f1_score

    from namelang.models.forward import batched_logits, torch_runner

    logits = batched_logits(torch_runner(model, device), data.ids, data.lengths)
    loss = float(loss_fn(torch.from_numpy(logits), torch.from_numpy(data.labels)).item())
    predicted = logits.argmax(axis=1)
    return loss, accuracy_score(data.labels, predicted), f1_score(data.labels, predicted, average="macro")


def make_schedule(optimizer, config: TrainConfig, steps_per_epoch: int, epochs_done: int):
    """Linear warm-up, then cosine decay to 5% of the peak; a resumed run picks it up where it was."""
    import torch

    total = max(1, config.epochs * steps_per_epoch)
    warmup = max(1, int(config.warmup * total))
    offset = epochs_done * steps_per_epoch

    def factor(step: int) -> float:
        step += offset
        if step < warmup:
            return (step + 1) / warmup
        progress = min(1.0, (step - warmup) / max(1, total - warmup))
        return 0.05 + 0.95 * 0.5 * (1.0 + math.cos(math.pi * progress))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def selection_score(report: EpochReport, select: str) -> float:
    """The validation score `select` names (config.SELECT_BY), higher is better."""
    if select == "accuracy":
        return report.val_accuracy
    if select == "loss":
        return -report.val_loss
    return report.val_macro_f1


@dataclass
class EarlyStopping:
    """Tracks the best validation score (`select`) and the epochs since it improved."""

    patience: int
    select: str = "macro-f1"
    best_score: float = -math.inf
    best_epoch: int = 0
    stale: int = 0

    @classmethod
    def from_history(
        cls, history: list[EpochReport], patience: int, select: str = "macro-f1"
    ) -> EarlyStopping:
        if not history:
            return cls(patience, select)
        best = max(history, key=lambda r: selection_score(r, select))
        stale = sum(1 for r in history if r.epoch > best.epoch)
        return cls(patience, select, selection_score(best, select), best.epoch, stale)

    @property
    def exhausted(self) -> bool:
        return self.stale >= self.patience

    def update(self, report: EpochReport) -> bool:
        """Record an epoch's score; True when it is the best so far."""
        score = selection_score(report, self.select)
        if score > self.best_score:
            self.best_score, self.best_epoch, self.stale = score, report.epoch, 0
            return True
        self.stale += 1
        return False


@dataclass
class _Step:
    """What one optimisation step needs, built once per fit."""

    model: nn.Module
    loss_fn: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    config: TrainConfig
    device: torch.device


def train_one_epoch(step: _Step, train: Encoded, batches: list[np.ndarray], callbacks: Callbacks) -> float:
    """One pass over the training batches; returns the mean training loss."""
    import torch
    from torch import nn

    ids_all, lengths_all = torch.from_numpy(train.ids), torch.from_numpy(train.lengths)
    labels_all = torch.from_numpy(train.labels)
    soft_all = None if train.soft is None else torch.from_numpy(train.soft.astype(np.float32))
    step.model.train()
    running, seen = 0.0, 0
    for index, rows in enumerate(batches, start=1):
        rows_t = torch.from_numpy(rows)
        lengths = lengths_all[rows_t]
        ids = ids_all[rows_t, : int(lengths.max())]
        if step.config.char_dropout > 0:
            # Hide random characters behind the unknown index: names in use are new names,
            # and this keeps the model from leaning on any single character.
            hide = (torch.rand(ids.shape) < step.config.char_dropout) & (ids > UNKNOWN)
            ids = ids.masked_fill(hide, UNKNOWN)
        labels = labels_all[rows_t].to(step.device)
        step.optimizer.zero_grad(set_to_none=True)
        logits = step.model(ids.to(step.device), lengths)
        loss = step.loss_fn(logits, labels)
        if soft_all is not None:
            loss = distill_loss(loss, logits, soft_all[rows_t].to(step.device), step.config)
        loss.backward()
        nn.utils.clip_grad_norm_(step.model.parameters(), step.config.clip)
        step.optimizer.step()
        step.scheduler.step()
        running += loss.item() * len(rows)
        seen += len(rows)
        callbacks.on_batch(index, loss.item())
    return running / max(seen, 1)


def distill_loss(hard_loss, logits, soft, config: TrainConfig):
    """(1 - w) * the true labels' loss + w * tau^2 * KL(teacher || student), both softened by tau."""
    import torch
    from torch import nn

    tau, w = config.distill_temperature, config.distill_weight
    student = torch.log_softmax(logits / tau, dim=1)
    kd = nn.functional.kl_div(student, soft, reduction="batchmean") * tau * tau
    return (1.0 - w) * hard_loss + w * kd


def _make_step(
    model: nn.Module, train: Encoded, n_labels: int, config: TrainConfig, device, epochs_done: int
):
    """Loss (class-weighted when `config.balance`), AdamW and the schedule."""
    import torch
    from torch import nn

    weight = None
    if config.balance:
        weight = torch.tensor(class_weights(train.labels, n_labels), dtype=torch.float32).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    steps_per_epoch = math.ceil(len(train) / config.batch_size)
    scheduler = make_schedule(optimizer, config, steps_per_epoch, epochs_done)
    return _Step(model, nn.CrossEntropyLoss(weight=weight), optimizer, scheduler, config, device)


def fit(
    model: nn.Module,
    train: Encoded,
    val: Encoded,
    n_labels: int,
    config: TrainConfig,
    device=None,
    callbacks: Callbacks | None = None,
    resumed: Resumed | None = None,
) -> FitResult:
    """Train `model` in place; return the best state (by `config.select` on validation) and the history.

    `resumed` continues an earlier run: training resumes at the next epoch, with the learning-rate
    schedule where it was. Ctrl-C stops after the current batch and returns the best state so far with
    `interrupted=True` (an epoch counts once it is in the history).
    """
    import torch
    from torch import nn

    device = device or torch.device("cpu")
    callbacks = callbacks or Callbacks()
    history = list(resumed.history) if resumed else []
    torch.manual_seed(config.seed + len(history))
    batches = _Batches(train.lengths, config.batch_size, np.random.default_rng(config.seed + len(history)))
    step = _make_step(model.to(device), train, n_labels, config, device, len(history))
    stopping = EarlyStopping.from_history(history, config.patience, config.select)
    best_state = resumed.best_state if resumed else _snapshot(model)
    interrupted = stopped_early = False
    started = time.perf_counter()
    try:
        for epoch in range(len(history) + 1, config.epochs + 1):
            if stopping.exhausted:
                stopped_early = True
                break
            epoch_start = time.perf_counter()
            callbacks.on_epoch_start(epoch, config.epochs, batches.count())
            train_loss = train_one_epoch(step, train, batches.epoch(), callbacks)
            val_loss, val_acc, val_f1 = evaluate_split(model, val, device, nn.CrossEntropyLoss())
            lr, seconds = step.scheduler.get_last_lr()[0], time.perf_counter() - epoch_start
            report = EpochReport(epoch, train_loss, val_loss, float(val_acc), float(val_f1), lr, seconds)
            report.improved = stopping.update(report)
            snapshot = _snapshot(model) if report.improved else best_state
            # One statement, no call inside: Ctrl-C lands before or after it, never between the two.
            history, best_state = [*history, report], snapshot
            callbacks.on_epoch_end(report)
    except KeyboardInterrupt:
        interrupted = True
    model.load_state_dict(best_state)
    best_epoch = stopping.best_epoch
    elapsed = time.perf_counter() - started
    return FitResult(best_state, best_epoch, history, interrupted, elapsed, stopped_early)


def _snapshot(model: nn.Module) -> dict:
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
