"""nn.RNN / nn.LSTM / nn.GRU encoders over learned character embeddings."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence


class RecurrentClassifier(nn.Module):
    def __init__(
        self,
        cell: str,
        n_chars: int,
        n_labels: int,
        hidden: int = 128,
        layers: int = 1,
        bidirectional: bool = True,
        dropout: float = 0.2,
        embedding_dim: int = 64,
    ):
        super().__init__()
        self.embedding = nn.Embedding(n_chars, embedding_dim, padding_idx=0)
        self.rnn = getattr(nn, cell)(
            embedding_dim,
            hidden,
            num_layers=layers,
            batch_first=True,
            bidirectional=bidirectional,
            dropout=dropout if layers > 1 else 0.0,
        )
        self.directions = 2 if bidirectional else 1
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden * self.directions, n_labels)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        packed = pack_padded_sequence(
            self.embedding(ids), lengths.cpu().clamp(min=1), batch_first=True, enforce_sorted=False
        )
        _, state = self.rnn(packed)
        if isinstance(state, tuple):  # LSTM: (h, c)
            state = state[0]
        # The last layer's final state, both directions side by side.
        final = torch.cat(list(state[-self.directions :]), dim=1)
        return self.head(self.dropout(final))
