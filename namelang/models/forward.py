"""Running a model over many encoded names: length-sorted batches, results in the input's order."""

from __future__ import annotations

import numpy as np
import torch


def batched_logits(model, ids: np.ndarray, lengths: np.ndarray, device, batch_size: int = 2048) -> np.ndarray:
    """Logits [N, labels] for encoded names, in input order; rows of length 0 are left as zeros."""
    model.eval()
    n = len(lengths)
    out: np.ndarray | None = None
    # Sorting by length makes each batch nearly padding-free.
    order = np.argsort(-lengths, kind="stable")
    order = order[lengths[order] > 0]
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            width = int(lengths[rows].max())
            batch_ids = torch.from_numpy(ids[rows, :width]).to(device)
            batch_len = torch.from_numpy(lengths[rows])
            logits = model(batch_ids, batch_len).float().cpu().numpy()
            if out is None:
                out = np.zeros((n, logits.shape[1]), dtype=np.float32)
            out[rows] = logits
    return out if out is not None else np.zeros((n, 0), dtype=np.float32)


def softmax(logits: np.ndarray) -> np.ndarray:
    # float64, so that every row sums to 1 within scikit-learn's tolerance.
    logits = logits.astype(np.float64)
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)
