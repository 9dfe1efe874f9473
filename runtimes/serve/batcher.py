"""Micro-batching: one worker thread owns the Recognizer; requests queue into it.

The Recognizer (its ONNX session, or a torch module) is created inside the worker thread and
touched by no other thread, so no runtime is ever used from several threads at once. Request
handlers prepare their images elsewhere (numpy, Pillow) and submit model input; the worker takes
the first waiting job, gathers more until ``max_batch_size`` lines are in hand or ``max_wait_s``
has passed, runs them together through ``Recognizer.transcribe_prepared`` (which groups equal
widths, as ``transcribe`` does, so a line reads the same alone or in company) and hands each job
its own predictions. It waits for company only while other requests are still being read: a lone
request runs at once.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from runtimes.contract import ModelContract
from runtimes.decode import Prediction
from runtimes.errors import HwrError, first_line
from runtimes.recognizer import Recognizer

log = logging.getLogger("hwr.serve")

LOADING, READY, FAILED, STOPPED = "loading", "ready", "failed", "stopped"


class ServerBusyError(HwrError):
    """Too many lines already wait for the model."""


class NotReadyError(HwrError):
    """The model is still loading, failed to load, or the server is stopping."""


class ModelFailureError(Exception):
    """The model raised while running a batch (a server fault, not the client's)."""


@dataclass
class Job:
    arrays: Sequence[np.ndarray]
    future: Future[list[Prediction]]


_STOP = object()


class MicroBatcher:
    def __init__(
        self,
        load: Callable[[], Recognizer],
        max_batch_size: int = 16,
        max_wait_s: float = 0.005,
        max_queue_lines: int = 1024,
        on_batch: Callable[[int, int], None] | None = None,
        on_model_batch: Callable[[int], None] | None = None,
        on_load_failed: Callable[[str], None] | None = None,
    ) -> None:
        """``load`` builds the Recognizer (called in the worker thread); ``on_batch(lines,
        requests)`` is told the size of every micro-batch, ``on_model_batch(lines)`` of every
        model call it splits into (one per padded width)."""
        self._load = load
        self.max_batch_size = max_batch_size
        self.max_wait_s = max_wait_s
        self.max_queue_lines = max_queue_lines
        self._on_batch = on_batch
        self._on_model_batch = on_model_batch
        self._on_load_failed = on_load_failed
        self._queue: queue.Queue[Job | object] = queue.Queue()
        self._lock = threading.Lock()
        self._queued_lines = 0
        self._incoming = 0  # requests being read that will submit soon
        self._thread = threading.Thread(target=self._work, name="hwr-model", daemon=True)
        self._ready = threading.Event()
        self.state = LOADING
        self.error: str | None = None
        self.contract: ModelContract | None = None  # frozen: safe to read from any thread

    # --- the request side (event loop and handler threads) -------------------------------------

    def start(self) -> None:
        self._thread.start()

    def wait_ready(self, timeout: float | None = None) -> bool:
        self._ready.wait(timeout)
        return self.state == READY

    @property
    def queued_lines(self) -> int:
        return self._queued_lines

    @contextmanager
    def incoming(self) -> Iterator[None]:
        """Marks a request whose images are being read: the worker may wait a little for it."""
        with self._lock:
            self._incoming += 1
        try:
            yield
        finally:
            with self._lock:
                self._incoming -= 1

    def submit(self, arrays: Sequence[np.ndarray]) -> Future[list[Prediction]]:
        """Queue prepared lines; the future gets their predictions in the same order."""
        if self.state != READY:
            raise NotReadyError(self.not_ready_message())
        with self._lock:
            if self._queued_lines + len(arrays) > self.max_queue_lines:
                raise ServerBusyError(
                    f"server busy: {self._queued_lines} lines wait for the model "
                    f"(limit {self.max_queue_lines}); retry later"
                )
            self._queued_lines += len(arrays)
        job = Job(list(arrays), Future())
        self._queue.put(job)
        return job.future

    def not_ready_message(self) -> str:
        if self.state == LOADING:
            return "the model is still loading; retry when GET /health answers 200"
        if self.state == FAILED:
            return f"the model failed to load: {self.error}"
        return "the server is shutting down"

    def close(self, timeout: float | None = None) -> None:
        """Refuse new lines, run what is queued, then stop the worker."""
        if self.state != FAILED:
            self.state = STOPPED
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join(timeout)
        while True:  # a submit that raced with close: answer it rather than leave it hanging
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                return
            if isinstance(job, Job) and job.future.set_running_or_notify_cancel():
                job.future.set_exception(NotReadyError(self.not_ready_message()))

    # --- the worker thread -----------------------------------------------------------------------

    def _work(self) -> None:
        try:
            recognizer = self._load()
            self.contract = recognizer.contract
        except Exception as exc:  # a one-line reason for /health and the log
            self.error = first_line(exc)
            self.state = FAILED
            self._ready.set()
            if not isinstance(exc, HwrError):
                log.exception("model load failed")
            if self._on_load_failed is not None:
                self._on_load_failed(self.error)
            return
        if self.state == LOADING:  # not if closed meanwhile
            self.state = READY
        self._ready.set()
        while True:
            jobs, stop = self._gather()
            if jobs:
                self._run(recognizer, jobs)
            if stop:
                return

    def _gather(self) -> tuple[list[Job], bool]:
        first = self._queue.get()
        if first is _STOP:
            return [], True
        assert isinstance(first, Job)
        jobs, lines = [first], len(first.arrays)
        deadline = time.monotonic() + self.max_wait_s
        while lines < self.max_batch_size:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._incoming == 0:
                    break
                try:
                    item = self._queue.get(timeout=remaining)
                except queue.Empty:
                    break
            if item is _STOP:
                return jobs, True
            assert isinstance(item, Job)
            jobs.append(item)
            lines += len(item.arrays)
        return jobs, False

    def _run(self, recognizer: Recognizer, jobs: list[Job]) -> None:
        with self._lock:
            self._queued_lines -= sum(len(job.arrays) for job in jobs)
        live = [job for job in jobs if job.future.set_running_or_notify_cancel()]  # not timed out
        if not live:
            return
        arrays = [array for job in live for array in job.arrays]
        if self._on_batch is not None:
            self._on_batch(len(arrays), len(live))
        try:
            predictions = recognizer.transcribe_prepared(
                arrays, self.max_batch_size, self._on_model_batch
            )
        except Exception as exc:
            log.exception("model failure on a batch of %d lines", len(arrays))
            failure = ModelFailureError(f"model failure: {first_line(exc)[:300]}")
            for job in live:
                job.future.set_exception(failure)
            return
        start = 0
        for job in live:
            job.future.set_result(predictions[start : start + len(job.arrays)])
            start += len(job.arrays)
