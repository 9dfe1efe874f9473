"""Group lines of similar width into batches, run them, hand back per-line logits in input order.

Lines are padded on the right to the widest line of their batch; sorting by width and capping
the width ratio inside a batch keeps that padding (wasted compute, and frames a bidirectional
LSTM has to read through) small.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar, cast

import numpy as np

from runtimes.contract import ModelContract
from runtimes.preprocess import make_batch

# Widest / narrowest line in one batch. 1.0: only lines of equal padded width share a batch,
# so no line is padded for its batch mates' sake (see preprocess.WIDTH_BUCKET).
MAX_WIDTH_RATIO = 1.0
MAX_BATCH_PIXELS = 16 * 64 * 2048  # caps memory when a batch holds very wide lines

T = TypeVar("T")


def plan_batches(
    widths: Sequence[int],
    max_batch_size: int,
    max_width_ratio: float = MAX_WIDTH_RATIO,
    max_batch_pixels: int | None = None,
    height: int = 1,
) -> list[list[int]]:
    """Indices into ``widths`` grouped into batches, narrowest first.

    A batch closes when it holds ``max_batch_size`` lines, when the next line is more than
    ``max_width_ratio`` times wider than its narrowest, or when padding every line to the next
    width would exceed ``max_batch_pixels`` (a single line always gets a batch of its own).
    """
    if max_batch_size < 1:
        raise ValueError(f"batch size must be at least 1, got {max_batch_size}")
    order = sorted(range(len(widths)), key=lambda i: widths[i])
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        if current:
            narrowest = max(1, widths[current[0]])
            too_many = len(current) >= max_batch_size
            too_wide = widths[i] > max_width_ratio * narrowest
            pixels = (len(current) + 1) * widths[i] * height
            too_big = max_batch_pixels is not None and pixels > max_batch_pixels
            if too_many or too_wide or too_big:
                batches.append(current)
                current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


def frames_for_width(width: int, batch_width: int, batch_frames: int, stride: int) -> int:
    """Output frames that belong to a line ``width`` px wide inside a batch ``batch_width`` wide.

    Inputs are multiples of ``stride`` (see ``to_model_input``), so every ``stride`` px of
    right padding adds exactly one frame.
    """
    padding_frames = (batch_width - width) // max(1, stride)
    return int(min(batch_frames, max(1, batch_frames - padding_frames)))


def run_batched(
    arrays: Sequence[np.ndarray],
    contract: ModelContract,
    run: Callable[[np.ndarray], np.ndarray],
    batch_size: int,
    parallel_batches: int = 1,
    then: Callable[[np.ndarray], T] | None = None,
) -> list[T]:
    """Per line (T_i, C) logits, trimmed to the line's own frames, in the order of ``arrays``;
    or ``then(logits)`` of each line, computed by the thread that ran its batch (decoding there
    keeps both cores busy instead of decoding every line on one after the last batch).

    A model whose lines depend on their batch mates (``contract.batch_independent`` False, e.g.
    int8 with a dynamically quantized LSTM) runs one line at a time: batch = single, always.
    ``parallel_batches`` > 1 calls ``run`` from that many threads at once (see
    ``runtimes.threads``); batches are formed the same way, so every line's logits are too.
    """

    def finish(logits: np.ndarray) -> T:
        return then(logits) if then is not None else cast(T, logits)

    if not contract.batch_independent:
        batch_size = 1
    widths = [a.shape[1] for a in arrays]
    plan = plan_batches(
        widths, batch_size, MAX_WIDTH_RATIO, MAX_BATCH_PIXELS, contract.input_height
    )

    def run_one(ids: list[int]) -> list[T]:
        batch = make_batch([arrays[i] for i in ids], contract)
        logits = np.asarray(run(batch), dtype=np.float32)
        if logits.ndim != 3 or logits.shape[0] != len(ids):
            raise ValueError(
                f"runtime returned logits of shape {logits.shape} for {len(ids)} lines"
            )
        return [
            finish(
                logits[
                    row,
                    : frames_for_width(w, batch.shape[3], logits.shape[1], contract.width_stride),
                ]
            )
            for row, w in enumerate(widths[i] for i in ids)
        ]

    workers = min(parallel_batches, len(plan))
    if workers > 1:
        # Costliest batches first (lines x width), so the threads finish together instead of
        # one running the widest batch alone at the end.
        plan.sort(key=lambda ids: len(ids) * widths[ids[-1]], reverse=True)
        with ThreadPoolExecutor(workers, thread_name_prefix="hwr-batch") as pool:
            per_batch = list(pool.map(run_one, plan))
    else:
        per_batch = [run_one(ids) for ids in plan]
    results: list[Any] = [None] * len(arrays)
    for ids, lines in zip(plan, per_batch, strict=True):
        for i, line in zip(ids, lines, strict=True):
            results[i] = line
    return cast(list[T], results)
