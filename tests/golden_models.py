"""Models for the golden summaries that neither the spec language nor torchvision builds.

``neuralab summary golden_models:row_lstm --input 1x28x28`` imports this module (the tests
folder is on ``sys.path`` under pytest)."""

from __future__ import annotations

import torch
from torch import nn


class RowLSTM(nn.Module):
    """An LSTM reading an image row by row (28 steps of 28 pixels), classifying from the last step."""

    def __init__(self, rows: int = 28, hidden: int = 64, classes: int = 10) -> None:
        super().__init__()
        self.lstm = nn.LSTM(rows, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        sequence, _ = self.lstm(x.squeeze(1))  # (B, 1, H, W) -> (B, H steps, W features)
        return self.fc(sequence[:, -1])


def row_lstm() -> nn.Module:
    """Return the row-by-row LSTM classifier for 1x28x28 images."""
    return RowLSTM()
