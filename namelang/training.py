"""fit(): mini-batch training with early stopping on validation macro-F1.

The trainer knows nothing of the architecture (any module mapping (ids, lengths) to logits will do)
and prints nothing: it reports through callbacks, and the caller saves what it returns.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from namelang.config import TrainConfig
from namelang.data.alphabet import UNKNOWN
from namelang.models.forward import batched_logits, torch_runner


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
    from sklearn.metrics import accuracy_score, f1_score

    logits = batched_logits(torch_runner(model, device), data.ids, data.lengths)
    loss = float(loss_fn(torch.from_numpy(logits), torch.from_numpy(data.labels)).item())
    predicted = logits.argmax(axis=1)
    return loss, accuracy_score(data.labels, predicted), f1_score(data.labels, predicted, average="macro")


def fit(
    model: nn.Module,
    train: Encoded,
    val: Encoded,
    n_labels: int,
    config: TrainConfig,
    device=None,
    callbacks: Callbacks | None = None,
    history: list[EpochReport] | None = None,
    best_state: dict | None = None,
) -> FitResult:
    """Train `model` in place; return the best state (by validation macro-F1) and the history.

    `history` and `best_state` continue an earlier run: training resumes at the next epoch, with
    the learning-rate schedule where it was. Ctrl-C stops after the current batch and returns the best
    state so far with `interrupted=True`.
    """
    device = device or torch.device("cpu")
    callbacks = callbacks or Callbacks()
    history = list(history or [])
    torch.manual_seed(config.seed + len(history))
    generator = np.random.default_rng(config.seed + len(history))
    model.to(device)

    weight = None
    if config.balance:
        weight = torch.tensor(class_weights(train.labels, n_labels), dtype=torch.float32)
    train_loss_fn = nn.CrossEntropyLoss(weight=weight.to(device) if weight is not None else None)
    val_loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    batches = _Batches(train.lengths, config.batch_size, generator)
    steps_per_epoch = batches.count()
    total = max(1, config.epochs * steps_per_epoch)
    warmup = max(1, int(config.warmup * total))

    offset = len(history) * steps_per_epoch  # a resumed run picks the schedule up where it was

    def schedule(step: int) -> float:
        # Linear warm-up, then cosine decay to 5% of the peak.
        step += offset
        if step < warmup:
            return (step + 1) / warmup
        progress = min(1.0, (step - warmup) / max(1, total - warmup))
        return 0.05 + 0.95 * 0.5 * (1.0 + math.cos(math.pi * progress))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)

    best_f1 = max((r.val_macro_f1 for r in history), default=-1.0)
    best_epoch = max(history, key=lambda r: r.val_macro_f1).epoch if history else 0
    best_state = best_state or _snapshot(model)
    stale = sum(1 for r in history if r.epoch > best_epoch)  # epochs without improvement so far
    interrupted = stopped_early = False
    started = time.perf_counter()
    ids_all = torch.from_numpy(train.ids)
    lengths_all = torch.from_numpy(train.lengths)
    labels_all = torch.from_numpy(train.labels)
    soft_all = None if train.soft is None else torch.from_numpy(train.soft.astype(np.float32))
    try:
        for epoch in range(len(history) + 1, config.epochs + 1):
            if stale >= config.patience:
                stopped_early = True
                break
            epoch_start = time.perf_counter()
            callbacks.on_epoch_start(epoch, config.epochs, steps_per_epoch)
            model.train()
            running, seen = 0.0, 0
            for index, rows in enumerate(batches.epoch(), start=1):
                rows_t = torch.from_numpy(rows)
                lengths = lengths_all[rows_t]
                width = int(lengths.max())
                ids = ids_all[rows_t, :width]
                if config.char_dropout > 0:
                    # Hide random characters behind the unknown index: names in use are new names,
                    # and this keeps the model from leaning on any single character.
                    hide = (torch.rand(ids.shape) < config.char_dropout) & (ids > UNKNOWN)
                    ids = ids.masked_fill(hide, UNKNOWN)
                ids = ids.to(device)
                labels = labels_all[rows_t].to(device)
                optimizer.zero_grad(set_to_none=True)
                logits = model(ids, lengths)
                loss = train_loss_fn(logits, labels)
                if soft_all is not None:
                    loss = distill_loss(loss, logits, soft_all[rows_t].to(device), config)
                loss.backward()
                nn.utils.clip_grad_norm_(model.parameters(), config.clip)
                optimizer.step()
                scheduler.step()
                running += loss.item() * len(rows)
                seen += len(rows)
                callbacks.on_batch(index, loss.item())
            val_loss, val_acc, val_f1 = evaluate_split(model, val, device, val_loss_fn)
            improved = val_f1 > best_f1
            if improved:
                best_f1, best_epoch, best_state, stale = val_f1, epoch, _snapshot(model), 0
            else:
                stale += 1
            report = EpochReport(
                epoch,
                running / max(seen, 1),
                val_loss,
                float(val_acc),
                float(val_f1),
                scheduler.get_last_lr()[0],
                time.perf_counter() - epoch_start,
                improved,
            )
            history.append(report)
            callbacks.on_epoch_end(report)
    except KeyboardInterrupt:
        interrupted = True
    model.load_state_dict(best_state)
    return FitResult(
        best_state, best_epoch, history, interrupted, time.perf_counter() - started, stopped_early
    )


def distill_loss(hard_loss, logits, soft, config: TrainConfig):
    """(1 - w) * the true labels' loss + w * tau^2 * KL(teacher || student), both softened by tau."""
    tau, w = config.distill_temperature, config.distill_weight
    student = torch.log_softmax(logits / tau, dim=1)
    kd = torch.nn.functional.kl_div(student, soft, reduction="batchmean") * tau * tau
    return (1.0 - w) * hard_loss + w * kd


def _snapshot(model: nn.Module) -> dict:
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
