"""The CRNN: convolutional feature extractor, BiLSTM, per-frame class logits for CTC.

Export-aware by construction: ``forward`` returns only logits (batch, time, classes), uses no
packing and no fixed initial states, so the graph that is exported is the graph that is tested.
"""

from __future__ import annotations

import torch
from torch import nn

from hwr_export.model.presets import CRNNConfig


class CRNN(nn.Module):
    def __init__(self, config: CRNNConfig) -> None:
        super().__init__()
        self.config = config
        layers: list[nn.Module] = []
        in_ch = 1
        for block in config.blocks:
            layers += [
                nn.Conv2d(in_ch, block.channels, block.kernel, padding=block.padding),
                nn.BatchNorm2d(block.channels),
                nn.ReLU(inplace=True),
            ]
            if block.pool:
                layers.append(nn.MaxPool2d(block.pool, block.pool))
            in_ch = block.channels
        self.cnn = nn.Sequential(*layers)
        feature_dim = in_ch * config.feature_rows
        self.proj = nn.Linear(feature_dim, config.proj_dim)
        self.rnn = nn.LSTM(
            config.proj_dim,
            config.lstm_hidden,
            num_layers=config.lstm_layers,
            bidirectional=True,
            batch_first=True,
            dropout=config.dropout if config.lstm_layers > 1 else 0.0,
        )
        self.head = nn.Linear(2 * config.lstm_hidden, config.num_classes)
        # A CTC head straight on the CNN features gives the convolutions a short gradient
        # path, which gets training off the all-blank plateau much sooner.
        self.shortcut = (
            nn.Conv1d(config.proj_dim, config.num_classes, 3, padding=1)
            if config.shortcut_head
            else None
        )

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """(batch, 1, height, width) -> (batch, time, proj_dim)."""
        f = self.cnn(images)
        b, c, h, t = f.shape
        f = f.permute(0, 3, 1, 2).reshape(b, t, c * h)
        return self.proj(f)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        seq, _ = self.rnn(self.features(images))
        return self.head(seq)

    def forward_train(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Main logits and, if the preset has one, the shortcut head's logits."""
        feats = self.features(images)
        seq, _ = self.rnn(feats)
        logits = self.head(seq)
        aux = None
        if self.shortcut is not None:
            aux = self.shortcut(feats.transpose(1, 2)).transpose(1, 2)
        return logits, aux


def count_parameters(model: nn.Module, include_shortcut: bool = False) -> int:
    return sum(
        p.numel()
        for name, p in model.named_parameters()
        if include_shortcut or not name.startswith("shortcut.")
    )


def multiply_adds(config: CRNNConfig, width: int = 1000) -> int:
    """Multiply-accumulates of one forward pass on a line ``width`` pixels wide at model height."""
    h, w, c_in, total = config.input_height, width, 1, 0
    for b in config.blocks:
        h = h + 2 * b.padding - b.kernel + 1
        w = w + 2 * b.padding - b.kernel + 1
        total += h * w * b.kernel * b.kernel * c_in * b.channels
        if b.pool:
            h, w = h // b.pool[0], w // b.pool[1]
        c_in = b.channels
    t = w
    total += t * c_in * h * config.proj_dim
    in_dim = config.proj_dim
    for _ in range(config.lstm_layers):
        total += 2 * t * 4 * config.lstm_hidden * (in_dim + config.lstm_hidden)
        in_dim = 2 * config.lstm_hidden
    total += t * in_dim * config.num_classes
    return total
