"""Average the weights of several checkpoints of one network (a "model soup", ``hwr average``).

Runs fine-tuned from the same starting weights with different seeds end in the same basin of
the loss, so their mean is a network too, and usually a better one than any single run
(Wortsman et al., 2022). Runs from different starting points do not average this way: the
mean of two unrelated networks reads nothing, so check the result on validation.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch

from hwr_export.model.checkpoint import load_checkpoint
from hwr_export.model.crnn import CRNN
from runtimes.errors import HwrError


def average_checkpoints(paths: Sequence[Path]) -> CRNN:
    """The network whose every floating-point tensor is the mean over ``paths``.

    All checkpoints must be the same architecture (preset config and charset); integer
    tensors (BatchNorm's step counters) are taken from the first.
    """
    if len(paths) < 2:
        raise HwrError("averaging needs at least two checkpoints")
    first, _ = load_checkpoint(paths[0])
    total = {k: v.double() if v.is_floating_point() else v for k, v in first.state_dict().items()}
    for path in paths[1:]:
        model, _ = load_checkpoint(path)
        if model.config != first.config:
            raise HwrError(
                f"{path}: cannot average preset {model.config.name!r} with "
                f"{first.config.name!r} ({paths[0]}): the architectures differ"
            )
        for name, tensor in model.state_dict().items():
            if tensor.is_floating_point():
                total[name] += tensor.double()
    mean = {
        k: (v / len(paths)).to(torch.float32) if v.is_floating_point() else v
        for k, v in total.items()
    }
    first.load_state_dict(mean)
    return first.eval()
