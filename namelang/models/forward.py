"""Running a model over many encoded names: length-sorted batches, results in the input's order.

A "runner" maps one batch (ids [B, T], lengths [B], both numpy, sorted by decreasing length) to logits
[B, labels]. Two kinds exist: the torch module itself (training, GPUs) and the numpy engine
(`numpy_engine.py`, CPU inference without importing torch).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Runner = Callable[[np.ndarray, np.ndarray], np.ndarray]


def batched_logits(
    run: Runner, ids: np.ndarray, lengths: np.ndarray, batch_size: int = 2048, threads: int = 1
) -> np.ndarray:
    """Logits [N, labels] for encoded names, in input order; rows of length 0 are left as zeros.

    `threads` > 1 runs batches side by side: numpy and torch release the GIL inside their kernels, so
    two threads on two cores score nearly twice the names (the runner must keep no state between calls).
    """
    n = len(lengths)
    # Sorting by length makes each batch nearly padding-free, and lets runners skip finished rows.
    order = np.argsort(-lengths, kind="stable")
    order = order[lengths[order] > 0]
    batches = [order[start : start + batch_size] for start in range(0, len(order), batch_size)]

    def one(rows: np.ndarray) -> np.ndarray:
        width = int(lengths[rows[0]])
        return run(np.ascontiguousarray(ids[rows, :width]), lengths[rows])

    out: np.ndarray | None = None
    if threads > 1 and len(batches) > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(min(threads, len(batches))) as pool:
            results = list(pool.map(one, batches))
    else:
        results = map(one, batches)
    for rows, logits in zip(batches, results):
        if out is None:
            out = np.zeros((n, logits.shape[1]), dtype=np.float32)
        out[rows] = logits
    return out if out is not None else np.zeros((n, 0), dtype=np.float32)


def torch_runner(model, device) -> Runner:
    """A runner for a torch module on `device` (evaluation mode, no autograd)."""
    import torch

    model.eval()

    def run(ids: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            logits = model(torch.from_numpy(ids).to(device), torch.from_numpy(lengths))
        return logits.float().cpu().numpy()

    return run


def softmax(logits: np.ndarray) -> np.ndarray:
    # float64, so that every row sums to 1 within scikit-learn's tolerance.
    logits = logits.astype(np.float64)
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)
