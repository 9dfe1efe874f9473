"""Clocks and memory meters for the benchmark: warm-up, synchronized timing, peak RSS.

Memory is the process's resident set (Linux /proc), not tracemalloc: ONNX Runtime and torch
allocate natively, which Python's allocator tracing never sees.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")
STATUS = Path("/proc/self/status")
CLEAR_REFS = Path("/proc/self/clear_refs")


def cuda_synchronizer(device: str) -> Callable[[], None]:
    """A barrier for CUDA timings. torch launches kernels asynchronously, so the clock must wait
    for them; ONNX Runtime's ``run`` already returns only when its outputs are ready."""
    if device != "cuda":
        return lambda: None
    import torch

    return torch.cuda.synchronize


def timed(fn: Callable[[], T], sync: Callable[[], None] = lambda: None) -> tuple[T, float]:
    """Run ``fn`` once; return its result and the elapsed seconds (synchronized before and after)."""
    sync()
    start = time.perf_counter()
    result = fn()
    sync()
    return result, time.perf_counter() - start


def time_each(
    items: Iterable[Any],
    fn: Callable[[Any], T],
    sync: Callable[[], None] = lambda: None,
) -> tuple[list[T], list[float]]:
    """Call ``fn`` on every item separately; the results and the seconds each call took."""
    results: list[T] = []
    seconds: list[float] = []
    for item in items:
        result, elapsed = timed(partial(fn, item), sync)
        results.append(result)
        seconds.append(elapsed)
    return results, seconds


def warm_up(items: Sequence[Any], fn: Callable[[Any], Any], rounds: int = 3) -> None:
    """A few untimed calls so lazy initialisation, allocator growth and caches are out of the way."""
    for i in range(min(rounds, len(items))):
        fn(items[i])


@dataclass(frozen=True)
class LatencySummary:
    p50_ms: float
    p95_ms: float
    mean_ms: float
    count: int

    def to_dict(self) -> dict[str, float | int]:
        return {
            "p50": self.p50_ms,
            "p95": self.p95_ms,
            "mean": self.mean_ms,
            "count": self.count,
        }


def summarize_latency(seconds: Sequence[float]) -> LatencySummary:
    ms = np.asarray(seconds, dtype=np.float64) * 1000.0
    if ms.size == 0:
        raise ValueError("no latencies to summarize")
    return LatencySummary(
        p50_ms=float(np.percentile(ms, 50)),
        p95_ms=float(np.percentile(ms, 95)),
        mean_ms=float(ms.mean()),
        count=int(ms.size),
    )


def _status_kib(field: str) -> int | None:
    try:
        text = STATUS.read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    match = re.search(rf"^{field}:\s+(\d+) kB", text, re.MULTILINE)
    return int(match.group(1)) if match else None


class PeakRss:
    """Peak resident-set growth of this process while a block runs, in MiB.

    Linux keeps the high-water mark in VmHWM; writing "5" to /proc/self/clear_refs resets it
    to the current RSS, so the peak of each format is measured on its own. Memory that an
    earlier format freed but the allocator kept counts toward the baseline, not the delta.
    ``delta_mib`` stays None where /proc is missing or the reset is not allowed.
    """

    def __init__(self) -> None:
        self.delta_mib: float | None = None
        self._baseline: int | None = None

    def __enter__(self) -> PeakRss:
        try:
            CLEAR_REFS.write_text("5", encoding="ascii")
        except OSError:
            self._baseline = None
            return self
        self._baseline = _status_kib("VmRSS")
        return self

    def __exit__(self, *exc: object) -> None:
        peak = _status_kib("VmHWM")
        if self._baseline is not None and peak is not None:
            self.delta_mib = max(peak - self._baseline, 0) / 1024.0
