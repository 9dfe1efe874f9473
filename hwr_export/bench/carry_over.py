"""Carry a validation score over to writers we cannot read, through a model read on both.

The anchor is a model whose score on a held-out set of writers is known (someone measured it);
a new model has only been read on the validation writers. Writer by writer on validation, fit
``new = slope * anchor + intercept`` by least squares, each writer weighted by its reference
length (characters for CER, words for WER: weighted like that, per-writer rates average to the
corpus rate). The estimate is ``slope * anchor_heldout + intercept``: it assumes the held-out
writers relate to the anchor as the validation writers do, which is the part no one here can
check. A bootstrap over writers says how far a dozen writers pin the line down. Two simpler
carry-overs come with it for comparison: the same gap in points (additive) and the same ratio
(proportional).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from runtimes.errors import HwrError

MIN_WRITERS = 3  # a line through fewer writers says nothing


@dataclass(frozen=True)
class CarryOver:
    """Rates in percent."""

    model_validation: float
    anchor_validation: float
    anchor_heldout: float
    slope: float
    intercept: float
    estimate: float
    bootstrap: tuple[float, float, float]  # 10th, 50th and 90th percentile of the estimate
    additive: float
    proportional: float


def fit_line(x: np.ndarray, y: np.ndarray, weights: np.ndarray) -> tuple[float, float]:
    """Weighted least-squares slope and intercept of y on x."""
    root = np.sqrt(weights)
    design = np.column_stack([x, np.ones_like(x)]) * root[:, None]
    (slope, intercept), *_ = np.linalg.lstsq(design, y * root, rcond=None)
    return float(slope), float(intercept)


def carry_over(
    anchor: Sequence[float],
    model: Sequence[float],
    weights: Sequence[float],
    anchor_heldout: float,
    draws: int = 4000,
    seed: int = 0,
) -> CarryOver:
    """``anchor`` and ``model``: per-writer rates (%) on the same validation writers, in the same
    order; ``weights``: each writer's reference length."""
    x, y, w = (np.asarray(v, dtype=np.float64) for v in (anchor, model, weights))
    if not len(x) == len(y) == len(w):
        raise HwrError(f"per-writer rates differ in length: {len(x)}, {len(y)}, {len(w)}")
    if len(set(x.tolist())) < MIN_WRITERS:
        raise HwrError(f"need at least {MIN_WRITERS} writers with different anchor rates")
    anchor_val = float((x * w).sum() / w.sum())
    model_val = float((y * w).sum() / w.sum())
    slope, intercept = fit_line(x, y, w)
    rng = np.random.default_rng(seed)
    estimates = []
    for _ in range(draws):
        pick = rng.integers(0, len(x), len(x))
        if len(set(x[pick].tolist())) < MIN_WRITERS:
            continue
        s, i = fit_line(x[pick], y[pick], w[pick])
        estimates.append(s * anchor_heldout + i)
    low, mid, high = np.percentile(estimates, [10, 50, 90])
    return CarryOver(
        model_validation=model_val,
        anchor_validation=anchor_val,
        anchor_heldout=anchor_heldout,
        slope=slope,
        intercept=intercept,
        estimate=slope * anchor_heldout + intercept,
        bootstrap=(float(low), float(mid), float(high)),
        additive=model_val + anchor_heldout - anchor_val,
        proportional=model_val * anchor_heldout / anchor_val if anchor_val else float("nan"),
    )
