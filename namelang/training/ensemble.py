"""Fitting an ensemble of stored models (`namelang ensemble A B C --name E`).

The members' weights and the temperature are fitted together on the workspace's validation split by
minimising log-loss (`models/ensemble.py` holds the combination itself); members must have been trained
on that same prepared split, so that none of them saw the names it is fitted on. The store saves the
result as one model, members included.
"""

from __future__ import annotations

import numpy as np

from namelang.errors import NamelangError, literal
from namelang.models.ensemble import FLOOR, combine, log_probs
from namelang.training.cards import Combined, ensemble_card


def _loss_and_grad(raw: np.ndarray, member_log_probs: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean log-loss of softmax(sum_i raw_i * log_probs_i) and its gradient in raw."""
    from namelang.models.forward import softmax

    probs = softmax(np.tensordot(raw, member_log_probs, axes=1))
    rows = np.arange(len(y))
    loss = -np.mean(np.log(np.clip(probs[rows, y], FLOOR, None)))
    # d loss / d raw_i = -mean(log_probs_i[y] - sum_k probs_k log_probs_i[k])
    expected = np.einsum("mnk,nk->mn", member_log_probs, probs)
    grad = -np.mean(member_log_probs[:, rows, y] - expected, axis=1)
    return float(loss), grad


def fit_weights(member_log_probs: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Non-negative weights summing to 1, and the temperature, that minimise validation log-loss."""
    from namelang.extras import require

    require("scipy", "fitting an ensemble's weights needs scipy")
    from scipy.optimize import minimize

    m = member_log_probs.shape[0]
    keep = ~np.isnan(member_log_probs[0, :, 0])
    lp, y = member_log_probs[:, keep], y[keep]
    start = np.full(m, 1.0 / m)
    result = minimize(
        _loss_and_grad, start, args=(lp, y), jac=True, method="L-BFGS-B", bounds=[(0.0, None)] * m
    )
    # L-BFGS-B often ends with "ABNORMAL" (its line search cannot improve within float precision)
    # after it has found a better point: keep any point with a lower loss than the start.
    better = result.x.sum() > 0 and np.isfinite(result.fun) and result.fun < _loss_and_grad(start, lp, y)[0]
    raw = result.x if better else start
    # sum_i raw_i * lp_i == sum_i w_i * lp_i / T with w = raw / sum(raw), T = 1 / sum(raw).
    return raw / raw.sum(), float(1.0 / raw.sum())


def check_members(found: list, manifest_sha256: str | None) -> list[str]:
    """Members must agree on their labels and have been trained on the prepared split fitted on."""
    if len(found) < 2:
        raise NamelangError("an ensemble needs at least two members")
    names = [m.name for m in found]
    if len(set(names)) != len(names):
        raise NamelangError(f"a model is named twice among the members: {literal(', '.join(names))}")
    labels = list(found[0].card.labels)
    for member in found[1:]:
        if list(member.card.labels) != labels:
            raise NamelangError(
                f"{literal(member.name)!r} and {literal(found[0].name)!r} do not predict the same labels"
            )
    for member in found:
        if manifest_sha256 is not None and member.card.data.manifest_sha256 != manifest_sha256:
            raise NamelangError(
                f"{literal(member.name)!r} was not trained on the prepared split in this workspace, "
                "so its validation names may be its training names; ensemble models trained here"
            )
    return labels


def create(home, refs: list[str], name: str, force: bool = False, device: str = "auto"):
    """Fit the members' weights and temperature on the workspace's validation split; store the ensemble.

    Returns the stored ensemble (a StoredModel), which holds copies of its members.
    """
    from namelang.data.split import manifest_sha256, prepared_dir, read_split
    from namelang.inference import Classifier
    from namelang.models.store import ModelStore

    store = ModelStore(home)
    if store.exists(name) and not force:
        raise NamelangError(f"a model named {literal(name)!r} exists already; pass {{force}} to replace it")
    found = [store.load(ref) for ref in refs]
    split_sha256 = manifest_sha256(store.workspace.home)
    if split_sha256 is None:
        raise NamelangError(
            f"no prepared data in {literal(prepared_dir(store.workspace.home))}; run `namelang prepare` first"
        )
    labels = check_members(found, split_sha256)
    val_names, val_labels, _ = read_split(store.workspace.home, "val")
    index = {label: i for i, label in enumerate(labels)}
    if any(lb not in index for lb in val_labels):
        raise NamelangError("the validation split has labels the members do not know")
    y = np.array([index[lb] for lb in val_labels])
    members = [Classifier.from_stored(m, device) for m in found]
    member_log_probs = np.stack([log_probs(c.predict_proba(val_names)) for c in members])
    weights, temperature = fit_weights(member_log_probs, y)
    probs = combine(member_log_probs, weights, temperature)
    return store.save_ensemble(
        name, ensemble_card(name, found, Combined(weights, temperature, probs, y)), found
    )
