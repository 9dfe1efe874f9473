"""Measure one model file through the common Recognizer: transcripts, latency, throughput,
cold start and memory. Accuracy is scored later, against the original's transcripts.

Everything is timed end to end through ``Recognizer.transcribe`` (preprocess, inference,
greedy decode), because that is what a user of any runtime waits for.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from PIL import Image
from tqdm import tqdm

from hwr_export.bench.timing import (
    LatencySummary,
    PeakRss,
    cuda_synchronizer,
    summarize_latency,
    time_each,
    timed,
    warm_up,
)
from runtimes.errors import RuntimeUnavailableError, first_line
from runtimes.threads import ThreadPlan


@dataclass
class Measurement:
    """What one format did on the benchmark lines (``error`` set when it could not run)."""

    format: str
    runtime: str
    path: Path
    texts: list[str] = field(default_factory=list)
    confidences: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)  # batch-1 latency of each line
    latency: LatencySummary | None = None
    throughput: dict[str, float] = field(default_factory=dict)  # batch size -> lines/s
    cold_start_ms: float | None = None
    peak_rss_delta_mib: float | None = None
    threads: ThreadPlan | None = None  # how the runtime used the CPU (runtimes.threads)
    error: str | None = None


def _one_line(exc: BaseException) -> str:
    text = first_line(exc)
    return type(exc).__name__ if text == type(exc).__name__ else f"{type(exc).__name__}: {text}"


def _measure(
    m: Measurement,
    images: Sequence[Image.Image],
    batch_sizes: Sequence[int],
    device: str,
    threads: int | None,
    warmup: int,
    progress: bool,
) -> None:
    from runtimes.recognizer import Recognizer

    sync = cuda_synchronizer(device)
    gc.collect()  # garbage of the previous format must not count toward this one's memory
    with PeakRss() as rss:
        start = time.perf_counter()
        recognizer = Recognizer.load(m.path, runtime=m.runtime, device=device, threads=threads)
        m.threads = recognizer.threads
        recognizer.transcribe([images[0]], batch_size=1)
        sync()
        m.cold_start_ms = 1000.0 * (time.perf_counter() - start)

        def one(image: Image.Image) -> Any:
            return recognizer.transcribe([image], batch_size=1)[0]

        warm_up(images, one, warmup)
        bar = tqdm(images, desc=f"{m.format} b1", unit="line", leave=False, disable=not progress)
        predictions, m.seconds = time_each(bar, one, sync)
        m.texts = [p.text for p in predictions]
        m.confidences = [float(p.confidence) for p in predictions]
        m.latency = summarize_latency(m.seconds)
        for batch in batch_sizes:
            if batch == 1:  # the latency pass already ran every line at batch 1
                m.throughput["1"] = len(images) / sum(m.seconds)
                continue
            _, elapsed = timed(partial(recognizer.transcribe, list(images), batch_size=batch), sync)
            m.throughput[str(batch)] = len(images) / elapsed
    m.peak_rss_delta_mib = rss.delta_mib


def measure_format(
    name: str,
    runtime: str,
    path: Path,
    images: Sequence[Image.Image],
    batch_sizes: Sequence[int],
    device: str = "cpu",
    threads: int | None = None,
    warmup: int = 3,
    progress: bool = True,
) -> Measurement:
    """Load ``path`` with ``runtime`` and measure it on ``images``.

    A file that fails to load or run is recorded with its error (the parity gate then fails it)
    instead of aborting the benchmark; a device that is not available aborts it, because no
    other number from this run would be on the device it claims.
    """
    m = Measurement(format=name, runtime=runtime, path=Path(path))
    try:
        _measure(m, images, batch_sizes, device, threads, warmup, progress)
    except RuntimeUnavailableError:
        raise
    except Exception as exc:  # a broken export is a result, not a crash
        m.error = _one_line(exc)
        m.texts, m.confidences, m.seconds, m.latency = [], [], [], None
    return m
