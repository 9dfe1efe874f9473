"""A benchmark result (the JSON dict built by ``run``) as table rows and summary sentences,
shared by the text report and the Markdown section."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from hwr_export.bench.results import FormatResult

# The reference project's own published figures, shown for context only: other hardware,
# other data split (IAM test), and a model we did not run.
PUBLISHED_REFERENCE: dict[str, Any] = {
    "source": "the reference CRNN's published figures, not measured here",
    "latency_ms_per_line": [
        {"hardware": "CPU (Intel i7)", "low": 200, "high": 500},
        {"hardware": "NVIDIA T4", "low": 50, "high": 100},
        {"hardware": "NVIDIA V100", "low": 20, "high": 40},
        {"hardware": "NVIDIA A100", "low": 10, "high": 20},
    ],
    "accuracy": {"split": "IAM test", "cer": 0.1295, "wer": 0.4247},
}
MISSING = "-"


def _pct(value: float | None, digits: int = 2) -> str:
    return MISSING if value is None else f"{100 * value:.{digits}f}"


def _num(value: float | None, digits: int = 1, signed: bool = False) -> str:
    if value is None:
        return MISSING
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def _gmac(value: float | None) -> str:
    return MISSING if not value else f"{value / 1e9:.3g}"


def _throughput(row: FormatResult, batch: int) -> str:
    return _num(row.throughput_lines_per_s.get(str(batch)))


def _latency(row: FormatResult, key: str) -> str:
    return _num(row.latency_ms[key] if row.latency_ms else None)


def _columns(batch_sizes: list[int]) -> list[tuple[str, Callable[[FormatResult], str]]]:
    cols: list[tuple[str, Callable[[FormatResult], str]]] = [
        ("format", lambda r: r.format),
        ("CER %", lambda r: _pct(r.cer)),
        ("dCER pts", lambda r: _num(r.cer_delta_points, 2, signed=True)),
        ("WER %", lambda r: _pct(r.wer)),
        ("agree %", lambda r: _pct(r.agreement, 1)),
        ("char agree %", lambda r: _pct(r.char_agreement, 2)),
        ("p50 ms", partial(_latency, key="p50")),
        ("p95 ms", partial(_latency, key="p95")),
    ]
    for b in batch_sizes:
        cols.append((f"lines/s b{b}", partial(_throughput, batch=b)))
    cols += [
        ("cold ms", lambda r: _num(r.cold_start_ms, 0)),
        ("peak RSS +MiB", lambda r: _num(r.peak_rss_delta_mib)),
        ("size MB", lambda r: _num(r.file_bytes / 1e6, 2) if r.file_bytes else MISSING),
        ("GMAC/line", lambda r: _gmac(r.multiply_adds_per_line)),
    ]
    return cols


def _reference_row(ref: dict[str, Any]) -> FormatResult:
    """The seed replica as a table row: timing only, accuracy left blank (random weights)."""
    return FormatResult(
        format=f"{ref['preset']} (reference arch, random weights)",
        latency_ms=ref["latency_ms"],
        multiply_adds_per_line=ref["multiply_adds_per_line"],
    )


def table_rows(result: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    cols = _columns(result["settings"]["batch_sizes"])
    rows = [FormatResult.from_json(r) for r in result["formats"]]
    if result["reference"]:
        rows.append(_reference_row(result["reference"]))
    body = []
    for r in rows:
        if r.error:
            body.append([r.format, f"error: {r.error}"] + [""] * (len(cols) - 2))
        else:
            body.append([fn(r) for _, fn in cols])
    return [name for name, _ in cols], body


def speedup_sentences(result: dict[str, Any]) -> list[str]:
    ref = result["reference"]
    if not ref:
        return []
    out = []
    for s in ref["speedup"]:
        if s["ratio"] is None:
            continue
        out.append(
            f"{s['ratio']:.1f}x faster than the reference architecture: {s['format']} "
            f"{s['ours_p50_ms']:.1f} ms/line vs {ref['preset']} ({ref['runtime']} eager) "
            f"{s['reference_p50_ms']:.1f} ms/line, p50 at batch 1; ratio = median per-line "
            f"ratio over the same {ref['lines']} line(s), timed interleaved in this run"
        )
    return out
