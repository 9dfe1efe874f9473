"""Check an exported model against the PyTorch original before the file is kept.

Two kinds of check:

* exact (fp32 exports): logits within 1e-4 and identical greedy transcripts at several widths
  (40, 700, 2400 px: a frozen time axis or a baked-in width shows up at once) and batch sizes
  1 and 4 (lines of different widths padded together, as a runtime batches them);
* close (int8, fp16): on real or synthetic lines, report the largest logit difference and the
  transcript agreement, and fail only on gross breakage; accuracy proper is `hwr bench --check`.

Every failure is an HwrError, so the caller's atomic write leaves no file behind.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hwr_export.bench.metrics import character_error_rate
from runtimes.contract import ModelContract
from runtimes.decode import greedy_decode
from runtimes.errors import HwrError

RunFn = Callable[[np.ndarray], np.ndarray]  # (B, 1, H, W) float32 -> (B, T, C) logits

VERIFY_WIDTHS = (40, 700, 2400)
VERIFY_BATCH_SIZES = (1, 4)
FP32_TOLERANCE = 1e-4
VERIFY_THREADS = 1  # checks need no speed; spinning thread pools on a busy machine do harm
# Gross breakage for reduced precision. A healthy int8 model is off by ~1% of the logits'
# spread; a broken one by tens of %. Transcripts are a gate only for a decisive model (mean
# top-2 logit gap >= 1): random weights (tests) have gaps of ~0.01, so any rounding flips their
# frames. The gate is the CER of the transcripts against the original's, not exact-line
# agreement: a half-trained `small` (26% CER) gave 56-67% identical lines after int8 with
# the same CER on IAM as fp32 (1.4% CER between the two), so line agreement would cry wolf.
MAX_RELATIVE_ERROR = 0.25
MAX_TRANSCRIPT_CER = 0.2
DECISIVE_MARGIN = 1.0


@dataclass
class CheckResult:
    name: str  # the export checked, e.g. "int8"
    lines: int  # lines compared
    max_abs_diff: float  # largest logit difference to the reference
    relative_error: float  # mean |logit difference| / std of the reference logits
    agreement: float  # share of lines whose greedy transcript equals the reference's
    frame_agreement: float  # share of frames with the same best class
    transcript_cer: float  # character error rate of the transcripts against the reference's
    decisiveness: float  # mean gap between the reference's two best logits per frame
    on: str  # what was compared, for the report

    def summary(self) -> str:
        return (
            f"max logit diff {self.max_abs_diff:.2e}, transcripts agree {self.agreement:.1%} "
            f"of {self.lines} lines (CER vs original {self.transcript_cer:.2%}), "
            f"frames agree {self.frame_agreement:.1%} ({self.on})"
        )


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Run with ``count`` torch threads, then restore the caller's setting."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def memoized(run: RunFn) -> RunFn:
    """Remember outputs by input content: every export of one run is compared with the same
    reference logits, which are then computed once (PyTorch at 2400 px is the slow part)."""
    seen: dict[tuple[tuple[int, ...], bytes], np.ndarray] = {}

    def cached(batch: np.ndarray) -> np.ndarray:
        key = (batch.shape, hashlib.blake2b(np.ascontiguousarray(batch).tobytes()).digest())
        if key not in seen:
            seen[key] = run(batch)
        return seen[key]

    return cached


def reference_runner(model: object, contract: ModelContract) -> RunFn:
    """The eager PyTorch model, the original every export is compared with."""
    from hwr_export.model.torch_runtime import TorchRuntime

    return TorchRuntime.from_model(model, contract).run


def torchscript_runner(path: Path) -> RunFn:
    from hwr_export.model.torch_runtime import TorchScriptRuntime

    return TorchScriptRuntime(path).run


def onnx_runner(path: Path, device: str = "cpu") -> RunFn:
    """Through OrtRuntime, so the check also proves the file loads with its contract."""
    from runtimes.ort_runtime import OrtRuntime

    return OrtRuntime(path, device=device, threads=VERIFY_THREADS).run


def probe_batches(
    contract: ModelContract,
    widths: Sequence[int] = VERIFY_WIDTHS,
    batch_sizes: Sequence[int] = VERIFY_BATCH_SIZES,
    seed: int = 0,
) -> list[np.ndarray]:
    """Random ink/paper images; in a batch line i is narrower than line 0, the rest is paper."""
    rng = np.random.default_rng(seed)
    ink = (0.0 - contract.norm_mean) / contract.norm_std
    batches = []
    for width in widths:
        width = max(width, contract.min_width)
        for size in batch_sizes:
            batch = np.full((size, 1, contract.input_height, width), contract.pad_value, np.float32)
            for i in range(size):
                used = max(contract.min_width, width - i * width // (2 * size))
                batch[i, 0, :, :used] = rng.uniform(
                    ink, contract.pad_value, (contract.input_height, used)
                )
            batches.append(batch)
    return batches


def transcripts(logits: np.ndarray, charset: str) -> list[str]:
    return [greedy_decode(row, charset)[0] for row in logits]


def compare(
    name: str,
    reference: RunFn,
    candidate: RunFn,
    batches: Sequence[np.ndarray],
    contract: ModelContract,
    on: str,
) -> CheckResult:
    """Run both models on every batch; a shape mismatch or a non-finite logit is an error."""
    max_diff, abs_diff, same_frames, frames, margin = 0.0, 0.0, 0, 0, 0.0
    ref_texts: list[str] = []
    out_texts: list[str] = []
    spread: list[float] = []
    for batch in batches:
        where = f"width {batch.shape[3]} px, batch {batch.shape[0]}"
        expected = np.asarray(reference(batch), dtype=np.float32)
        got = np.asarray(candidate(batch), dtype=np.float32)
        if got.shape != expected.shape:
            raise HwrError(
                f"{name}: verification failed: output shape {got.shape} != {expected.shape} at {where}"
            )
        if not np.isfinite(got).all():
            raise HwrError(f"{name}: verification failed: non-finite logits at {where}")
        diff = np.abs(got - expected)
        max_diff = max(max_diff, float(diff.max()))
        abs_diff += float(diff.mean(-1).sum())
        same_frames += int((got.argmax(-1) == expected.argmax(-1)).sum())
        frames += got.shape[0] * got.shape[1]
        top2 = np.sort(expected, axis=-1)[..., -2:]
        margin += float((top2[..., 1] - top2[..., 0]).sum())
        spread.append(float(expected.std()))
        ref_texts += transcripts(expected, contract.charset)
        out_texts += transcripts(got, contract.charset)
    frames = max(1, frames)
    agree = sum(a == b for a, b in zip(ref_texts, out_texts, strict=True)) / max(1, len(ref_texts))
    cer = character_error_rate(ref_texts, out_texts)  # None: the original read nothing at all
    return CheckResult(
        name=name,
        lines=len(ref_texts),
        max_abs_diff=max_diff,
        relative_error=(abs_diff / frames) / max(float(np.mean(spread)), 1e-12),
        agreement=agree,
        frame_agreement=same_frames / frames,
        transcript_cer=float(cer) if cer is not None else float(ref_texts != out_texts),
        decisiveness=margin / frames,
        on=on,
    )


def verify_exact(
    name: str,
    reference: RunFn,
    candidate: RunFn,
    contract: ModelContract,
    tolerance: float = FP32_TOLERANCE,
) -> CheckResult:
    """fp32 parity at widths 40/700/2400 px and batch sizes 1/4, or an HwrError."""
    batches = probe_batches(contract)
    on = f"widths {'/'.join(map(str, VERIFY_WIDTHS))} px x batch {'/'.join(map(str, VERIFY_BATCH_SIZES))}"
    result = compare(name, reference, candidate, batches, contract, on)
    if result.max_abs_diff > tolerance:
        raise HwrError(
            f"{name}: verification failed: max logit diff {result.max_abs_diff:.2e} > {tolerance:g} ({on})"
        )
    if result.agreement < 1.0:
        raise HwrError(
            f"{name}: verification failed: greedy transcripts differ from PyTorch ({on})"
        )
    return result


def verify_close(result: CheckResult) -> CheckResult:
    """Reduced precision (a ``compare`` of it): report how close it is; fail only on gross
    breakage."""
    name, on = result.name, result.on
    if result.relative_error > MAX_RELATIVE_ERROR:
        raise HwrError(
            f"{name}: verification failed: logits off by {result.relative_error:.0%} of their "
            f"spread (limit {MAX_RELATIVE_ERROR:.0%}) on {on}"
        )
    if result.decisiveness >= DECISIVE_MARGIN and result.transcript_cer > MAX_TRANSCRIPT_CER:
        raise HwrError(
            f"{name}: verification failed: transcripts differ from the original's by "
            f"{result.transcript_cer:.0%} CER (limit {MAX_TRANSCRIPT_CER:.0%}) on {on}"
        )
    return result
