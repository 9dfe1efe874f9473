"""Turn a benchmark result (the JSON dict built by ``run``) into a table, Markdown or a file.

Nothing here measures; everything here only formats what was measured.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hwr_export.atomic import atomic_write_text

# The reference project's own published figures, shown for context only: other hardware,
# other data split (IAM test), and a model we did not run.
PUBLISHED_REFERENCE = {
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


def _throughput(row: dict[str, Any], batch: int) -> str:
    return _num((row.get("throughput_lines_per_s") or {}).get(str(batch)))


def _columns(batch_sizes: list[int]) -> list[tuple[str, Callable[[dict[str, Any]], str]]]:
    cols: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
        ("format", lambda r: r["format"]),
        ("CER %", lambda r: _pct(r.get("cer"))),
        ("dCER pts", lambda r: _num(r.get("cer_delta_points"), 2, signed=True)),
        ("WER %", lambda r: _pct(r.get("wer"))),
        ("agree %", lambda r: _pct(r.get("agreement"), 1)),
        ("char agree %", lambda r: _pct(r.get("char_agreement"), 2)),
        ("p50 ms", lambda r: _num((r.get("latency_ms") or {}).get("p50"))),
        ("p95 ms", lambda r: _num((r.get("latency_ms") or {}).get("p95"))),
    ]
    for b in batch_sizes:
        cols.append((f"lines/s b{b}", lambda r, b=b: _throughput(r, b)))
    cols += [
        ("cold ms", lambda r: _num(r.get("cold_start_ms"), 0)),
        ("peak RSS +MiB", lambda r: _num(r.get("peak_rss_delta_mib"))),
        ("size MB", lambda r: _num(r["file_bytes"] / 1e6, 2) if r.get("file_bytes") else MISSING),
        ("GMAC/line", lambda r: _gmac(r.get("multiply_adds_per_line"))),
    ]
    return cols


def _reference_row(ref: dict[str, Any]) -> dict[str, Any]:
    """The seed replica as a table row: timing only, accuracy left blank (random weights)."""
    return {
        "format": f"{ref['preset']} (reference arch, random weights)",
        "latency_ms": ref.get("latency_ms"),
        "multiply_adds_per_line": ref.get("multiply_adds_per_line"),
        "file_bytes": None,
    }


def table_rows(result: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    cols = _columns(result["settings"]["batch_sizes"])
    rows = [r for r in result["formats"]]
    if result.get("reference"):
        rows.append(_reference_row(result["reference"]))
    body = []
    for r in rows:
        if r.get("error"):
            body.append([r["format"], f"error: {r['error']}"] + [""] * (len(cols) - 2))
        else:
            body.append([fn(r) for _, fn in cols])
    return [name for name, _ in cols], body


def speedup_sentences(result: dict[str, Any]) -> list[str]:
    ref = result.get("reference")
    if not ref:
        return []
    out = []
    for s in ref.get("speedup", []):
        if s.get("ratio") is None:
            continue
        out.append(
            f"{s['ratio']:.1f}x faster than the reference architecture: {s['format']} "
            f"{s['ours_p50_ms']:.1f} ms/line vs {ref['preset']} ({ref['runtime']} eager) "
            f"{s['reference_p50_ms']:.1f} ms/line, p50 at batch 1; ratio = median per-line "
            f"ratio over the same {ref['lines']} line(s), timed interleaved in this run"
        )
    return out


def format_text(result: dict[str, Any]) -> str:
    """The human-readable summary printed on stdout."""
    header, body = table_rows(result)
    widths = [max(len(h), *(len(row[i]) for row in body)) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    for row in body:
        if row[1].startswith("error:"):
            lines.append(f"{row[0].ljust(widths[0])}  {row[1]}")
        else:
            lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    m, d = result["machine"], result["data"]
    lines.append("")
    lines.append(
        f"{d['lines']} lines of {d['spec']} ({d['split']}), device {m['device']}, "
        f"CPU {m['cpu']} ({m['usable_cpus']} usable), GPU {m['gpu'] or 'none'}, "
        f"threads torch={m['threads']['torch']} ort={m['threads']['onnxruntime']}"
    )
    lines += speedup_sentences(result)
    parity = result["parity"]
    if parity["checked"]:
        lines.append("parity: passed" if parity["passed"] else "parity: FAILED")
    return "\n".join(lines) + "\n"


def results_paths(result: dict[str, Any], results_dir: Path, name: str) -> dict[str, Path]:
    """``<results_dir>/<machine>/<name>.json|.md|.png``: one folder per machine, so results of
    different machines sit side by side and never overwrite each other."""
    from hwr_export.bench.machine import machine_slug

    folder = Path(results_dir) / machine_slug(result["machine"])
    return {ext: folder / f"{name}.{ext}" for ext in ("json", "md", "png")}


def write_json(result: dict[str, Any], path: Path) -> None:
    atomic_write_text(Path(path), json.dumps(result, indent=2, ensure_ascii=False) + "\n")


def write_markdown(result: dict[str, Any], path: Path) -> None:
    from hwr_export.bench.markdown import format_markdown

    atomic_write_text(Path(path), format_markdown(result))
