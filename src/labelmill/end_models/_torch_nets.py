"""The torch modules of ``SoftMLPClassifier``. Imports torch: only import it after a check.

Module-level classes (not closures) so that fitted models pickle.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class FirstLayer(nn.Module):
    """``x @ W + b`` for a dense (B, d) tensor, or for a CSR minibatch given as
    ``(indices, offsets, values)`` via an EmbeddingBag in sum mode (never densified). The
    bag's gradient is sparse (only the rows of W the minibatch touches), so a step costs
    what the minibatch holds, not d x width."""

    def __init__(self, n_features: int, width: int, sparse_input: bool):
        super().__init__()
        self.sparse_input = sparse_input
        if sparse_input:
            bound = 1.0 / math.sqrt(n_features)
            self.bag = nn.EmbeddingBag(n_features, width, mode="sum", sparse=True)
            nn.init.uniform_(self.bag.weight, -bound, bound)
            self.bias = nn.Parameter(torch.empty(width).uniform_(-bound, bound))
        else:
            self.linear = nn.Linear(n_features, width)

    def forward(self, batch):
        if self.sparse_input:
            indices, offsets, values = batch
            return self.bag(indices, offsets, per_sample_weights=values) + self.bias
        return self.linear(batch)


class SoftMLP(nn.Module):
    """first layer -> [ReLU -> Dropout -> Linear] per further layer; outputs (B, k) logits."""

    def __init__(self, n_features: int, hidden: tuple, n_classes: int, dropout: float, sparse_input: bool):
        super().__init__()
        sizes = list(hidden) + [n_classes]
        self.first = FirstLayer(n_features, sizes[0], sparse_input)
        rest = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            rest += [nn.ReLU(), nn.Dropout(dropout), nn.Linear(a, b)]
        self.rest = nn.Sequential(*rest)

    def forward(self, batch):
        return self.rest(self.first(batch))
