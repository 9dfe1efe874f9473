"""One format's figures in a benchmark result, typed: what ``run`` writes, what the gate, the
tables and the plot read. The JSON report holds ``to_json()`` of each; ``from_json`` reads a
saved report back (keys missing from older reports are None)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass(frozen=True)
class FormatResult:
    format: str  # registry name (runtimes.formats), or a label for the reference row
    runtime: str | None = None
    precision: str | None = None
    file: str | None = None
    file_bytes: int | None = None
    multiply_adds_per_line: float | None = None
    error: str | None = None  # the one-line reason it did not export, load or run
    cer: float | None = None  # fraction of reference characters in error
    wer: float | None = None
    cer_delta_points: float | None = None  # CER minus the original's, percentage points
    wer_delta_points: float | None = None
    agreement: float | None = None  # share of lines transcribed exactly as the original
    char_agreement: float | None = None  # 1 - CER against the original's transcripts
    mean_confidence: float | None = None
    latency_ms: dict[str, float] | None = None  # batch 1: p50, p95, mean, count
    throughput_lines_per_s: dict[str, float] = field(default_factory=dict)  # batch size -> lines/s
    cold_start_ms: float | None = None
    peak_rss_delta_mib: float | None = None
    threads: dict[str, Any] | None = None  # runtimes.threads.ThreadPlan.to_json()

    @property
    def p50_ms(self) -> float | None:
        return self.latency_ms["p50"] if self.latency_ms else None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, row: dict[str, Any]) -> FormatResult:
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in row.items() if key in known})
