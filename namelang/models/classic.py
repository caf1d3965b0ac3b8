"""The article's recurrent cell, batched: one-hot input joined to the hidden state, i2h and i2o."""

from __future__ import annotations

import torch
from torch import nn


class ClassicRNN(nn.Module):
    def __init__(self, n_chars: int, n_labels: int, hidden: int = 128):
        super().__init__()
        self.n_chars = n_chars
        self.hidden_size = hidden
        self.i2h = nn.Linear(n_chars + hidden, hidden)
        self.i2o = nn.Linear(n_chars + hidden, n_labels)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        batch, steps = ids.shape
        # Row 0 (padding) of the identity is zeroed so that padding carries no signal.
        eye = torch.eye(self.n_chars, device=ids.device)
        eye[0] = 0
        onehot = eye[ids]
        hidden = ids.new_zeros((batch, self.hidden_size), dtype=onehot.dtype)
        output = None
        lengths = lengths.to(ids.device)
        for t in range(steps):
            combined = torch.cat([onehot[:, t], hidden], dim=1)
            step_out = self.i2o(combined)
            # The article's cell is linear; the tanh keeps the state bounded on long names.
            step_hidden = torch.tanh(self.i2h(combined))
            active = (t < lengths).unsqueeze(1)
            hidden = torch.where(active, step_hidden, hidden)
            last = (t == lengths - 1).unsqueeze(1)
            output = step_out if output is None else torch.where(last, step_out, output)
        return output
