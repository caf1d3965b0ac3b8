"""The numpy engine (CPU inference without torch) must give the torch modules' logits."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from namelang.errors import NamelangError
from namelang.models.forward import batched_logits, torch_runner
from namelang.models.registry import ARCHITECTURES, spec_from

SHAPES = [
    {"layers": 1, "bidirectional": False},
    {"layers": 1, "bidirectional": True},
    {"layers": 2, "bidirectional": True},
    {"layers": 3, "bidirectional": False},
]


def _cases():
    for arch in ARCHITECTURES:
        if arch == "ngram":  # no torch module to compare with: tests/test_ngram.py holds it to scikit-learn
            continue
        if arch == "rnn-classic":
            yield arch, {"hidden": 12}
        else:
            for shape in SHAPES:
                yield arch, {"hidden": 12, "embedding_dim": 5, "dropout": 0.3, **shape}


@pytest.mark.parametrize(("arch", "options"), list(_cases()))
def test_numpy_engine_matches_torch(arch, options):
    torch.manual_seed(1)
    spec = spec_from(arch, **options)
    n_chars, n_labels = 9, 4
    module = spec.build(n_chars, n_labels).eval()
    with torch.no_grad():  # larger weights than the default init, so that gates saturate somewhere
        for p in module.parameters():
            p.mul_(3.0)
    state = {k: v.numpy().copy() for k, v in module.state_dict().items()}
    engine = spec.numpy_engine(state, n_chars, n_labels)
    rng = np.random.default_rng(0)
    lengths = rng.integers(0, 9, size=37)
    ids = np.zeros((37, 8), dtype=np.int64)
    for row, length in enumerate(lengths):
        ids[row, :length] = rng.integers(1, n_chars, size=length)
    expected = batched_logits(torch_runner(module, torch.device("cpu")), ids, lengths, batch_size=10)
    got = batched_logits(engine, ids, lengths, batch_size=10)
    assert np.allclose(got, expected, atol=1e-4), np.abs(got - expected).max()
    assert np.all(got[lengths == 0] == 0)


def test_numpy_engine_refuses_mismatched_weights():
    spec = spec_from("gru", hidden=8, embedding_dim=4)
    state = {k: v.numpy() for k, v in spec.build(6, 3).state_dict().items()}
    with pytest.raises(NamelangError, match="disagree"):
        spec_from("gru", hidden=16, embedding_dim=4).numpy_engine(state, 6, 3)
    with pytest.raises(NamelangError, match="disagree"):
        spec.numpy_engine({k: v for k, v in state.items() if k != "head.bias"}, 6, 3)
