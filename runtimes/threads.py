"""How many CPU threads inference uses: a deliberate default, backed by benchmarks/threads.py.

hwr's models are small and LSTM-heavy. Splitting one batch over several ONNX Runtime intra-op
threads pays for thread synchronisation at every step of the recurrence, and a busy second core
makes it worse (bundled model, batch 1: 11.6 ms a line with one thread, 9.4 to 16.1 ms with two).
So by default an ONNX Runtime session on the CPU gets one intra-op thread, and the cores go to
whole batches run side by side on the same session (ORT sessions may be run from several threads
at once). Each batch is computed exactly as it would be alone, so transcripts do not change.

An explicit thread count keeps its meaning: that many intra-op threads, one batch at a time (for
large models, where splitting operators pays: the 9.1M-parameter replica runs a line in 333 ms
with two threads against 618 ms with one). PyTorch runtimes keep PyTorch's own default.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class ThreadPlan:
    intra_op: int | None  # threads inside one batch; None: the library's own default
    parallel_batches: int  # batches run at the same time
    rule: str  # why, in words (recorded by `hwr bench`)

    def to_json(self) -> dict[str, int | str | None]:
        return asdict(self)


def usable_cpus() -> int:
    """CPUs this process may run on (the affinity mask, which containers often narrow)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def plan_threads(
    runtime: str, device: str, threads: int | None, cpus: int | None = None
) -> ThreadPlan:
    """The thread plan for one model: ``threads`` as asked, else the measured default."""
    if threads is not None:
        return ThreadPlan(threads, 1, f"{threads} intra-op threads as asked, one batch at a time")
    if device != "cpu" or runtime != "onnx":
        return ThreadPlan(None, 1, "the library's default threads, one batch at a time")
    cpus = cpus or usable_cpus()
    return ThreadPlan(1, cpus, f"one intra-op thread a batch, {cpus} batches at a time")
