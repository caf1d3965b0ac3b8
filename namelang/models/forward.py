"""Running a model over many encoded names: length-sorted batches, results in the input's order.

A "runner" maps one batch (ids [B, T], lengths [B], both numpy, sorted by decreasing length) to logits
[B, labels]. Two kinds exist: the torch module itself (training, GPUs) and the numpy engine
(`numpy_engine.py`, CPU inference without importing torch).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Runner = Callable[[np.ndarray, np.ndarray], np.ndarray]


# Names per call of a runner that steps shared prefixes once (`prefix_sharing.py`): the more names at
# once, the more prefixes they share; its memory is about two states per name.
SHARED_GROUP = 65536


def active_rows(lengths: np.ndarray, width: int) -> np.ndarray:
    """How many rows (a prefix, lengths being sorted descending) are still inside their name at each step."""
    return (lengths[None, :] > np.arange(width)[:, None]).sum(axis=1)


def batched_logits(
    run: Runner, ids: np.ndarray, lengths: np.ndarray, batch_size: int = 2048, threads: int = 1
) -> np.ndarray:
    """Logits [N, labels] for encoded names, in input order; rows of length 0 are left as zeros.

    `threads` > 1 runs batches (or, for a runner that shares prefixes, the blocks of each step) side by
    side: numpy and torch release the GIL inside their kernels, so two threads on two cores score nearly
    twice the names. A runner keeps no state between calls.
    """
    n = len(lengths)
    # Sorting by length makes each batch nearly padding-free, and lets runners skip finished rows.
    order = np.argsort(-lengths, kind="stable")
    order = order[lengths[order] > 0]
    shared = getattr(run, "shares_prefixes", False)
    size = SHARED_GROUP if shared else batch_size
    batches = [order[start : start + size] for start in range(0, len(order), size)]

    def inputs(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.ascontiguousarray(ids[rows, : int(lengths[rows[0]])]), lengths[rows]

    pool = None
    if threads > 1 and (shared or len(batches) > 1):
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(threads)
    try:
        if shared:
            results = (run.shared_logits(*inputs(rows), pool.map if pool else map) for rows in batches)
        else:
            results = (pool.map if pool else map)(lambda rows: run(*inputs(rows)), batches)
        out = np.zeros((n, 0), dtype=np.float32)
        for rows, logits in zip(batches, results):
            if out.shape[1] == 0:
                out = np.zeros((n, logits.shape[1]), dtype=np.float32)
            out[rows] = logits
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return out


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
    if logits.shape[1] == 0:  # no name had a character to score: nothing to normalise
        return logits
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)
