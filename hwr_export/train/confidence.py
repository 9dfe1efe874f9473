"""A confidence penalty: reward spread in the per-frame output distributions.

CTC networks grow peaky, putting nearly all of each frame's mass on one symbol; on writers unlike
the training ones that certainty is often misplaced, and a language model cannot overrule a
distribution with no second choice. Subtracting ``weight * entropy`` from the loss (Pereyra et al.,
2017, "Regularizing neural networks by penalizing confident output distributions") keeps some
mass on the alternatives. Every frame counts, padding included, as in the CTC loss itself.
"""

from __future__ import annotations

import torch


def frame_entropy(logits: torch.Tensor) -> torch.Tensor:
    """Mean entropy (nats) of the per-frame distributions of (batch, time, classes) logits."""
    log_p = logits.float().log_softmax(-1)
    return -(log_p.exp() * log_p).sum(-1).mean()
