"""The thread plan: one intra-op thread and parallel batches by default, same transcripts."""

from __future__ import annotations

import threading

import numpy as np

from runtimes.batching import run_batched
from runtimes.contract import IAM_CHARSET, ModelContract
from runtimes.threads import plan_threads


def contract() -> ModelContract:
    return ModelContract(
        preset="t", input_height=8, charset=IAM_CHARSET, min_width=8, width_stride=4
    )


def test_onnx_on_cpu_spends_the_cores_on_batches_not_on_operators() -> None:
    plan = plan_threads("onnx", "cpu", None, cpus=4)
    assert (plan.intra_op, plan.parallel_batches) == (1, 4)
    assert plan.to_json()["parallel_batches"] == 4


def test_an_explicit_thread_count_means_intra_op_threads_one_batch_at_a_time() -> None:
    plan = plan_threads("onnx", "cpu", 3, cpus=4)
    assert (plan.intra_op, plan.parallel_batches) == (3, 1)


def test_torch_and_gpus_keep_the_library_default() -> None:
    assert plan_threads("torch", "cpu", None, cpus=4).intra_op is None
    assert plan_threads("onnx", "cuda", None, cpus=4).parallel_batches == 1


def test_parallel_batches_run_at_once_and_give_the_same_logits() -> None:
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((8, w)).astype(np.float32) for w in (32, 64, 64, 96, 128, 32)]
    seen: set[str] = set()
    calls: list[int] = []
    both_running = threading.Barrier(2, timeout=10)

    def run(batch: np.ndarray) -> np.ndarray:
        seen.add(threading.current_thread().name)
        calls.append(1)
        if threading.current_thread().name.startswith("hwr-batch") and len(calls) <= 2:
            both_running.wait()  # the first two batches pass only if they run at the same time
        frames = batch.shape[3] // 4
        return np.repeat(batch.mean(axis=(1, 2))[:, None, :frames], 3, axis=1).transpose(0, 2, 1)

    alone = run_batched(arrays, contract(), run, batch_size=2)
    seen.clear()
    calls.clear()
    parallel = run_batched(arrays, contract(), run, batch_size=2, parallel_batches=2)
    assert len({name for name in seen if name.startswith("hwr-batch")}) == 2
    assert len(parallel) == len(alone) == len(arrays)
    for a, b in zip(alone, parallel, strict=True):
        np.testing.assert_array_equal(a, b)
