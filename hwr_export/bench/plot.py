"""Latency against accuracy, one point per format, as a PNG (matplotlib, headless Agg backend)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hwr_export.atomic import atomic_path
from hwr_export.bench.results import FormatResult

MARKERS = ("o", "s", "^", "D", "v", "P", "X")


def write_plot(result: dict[str, Any], path: Path) -> None:
    """p50 latency (x, log scale) against CER (y). The reference architecture has random
    weights, so it appears as a vertical latency marker, never as an accuracy point."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    try:
        rows = [FormatResult.from_json(r) for r in result["formats"]]
        points = [
            (r.format, r.p50_ms, 100 * r.cer)
            for r in rows
            if not r.error and r.p50_ms is not None and r.cer is not None
        ]
        # A legend, not labels next to points: formats with equal CER would overprint.
        for (name, x, y), marker in zip(points, MARKERS, strict=False):
            ax.scatter([x], [y], s=45, marker=marker, zorder=3, label=name)
        ref = result["reference"]
        if ref and ref["latency_ms"]:
            ax.axvline(ref["latency_ms"]["p50"], color="grey", linestyle="--", linewidth=1)
            ax.annotate(
                f"{ref['preset']} reference arch\n(latency only)",
                (ref["latency_ms"]["p50"], 0.95),
                xycoords=("data", "axes fraction"),
                ha="right",
                va="top",
                fontsize=8,
                color="grey",
                xytext=(-4, 0),
                textcoords="offset points",
            )
        ax.set_xscale("log")
        ax.set_xlabel("latency per line, batch 1, p50 (ms, log scale)")
        data_name = Path(result["data"]["spec"].rstrip("/")).name or result["data"]["spec"]
        ax.set_ylabel(
            f"CER % ({data_name}, {result['data']['split']}, {result['data']['lines']} lines)"
        )
        if rows:
            ax.legend(fontsize=8, loc="best")
        m = result["machine"]
        ax.set_title(
            f"{result['model']['name']} on {m['device']}: {m['gpu'] or m['cpu']}", fontsize=9
        )
        ax.grid(True, which="both", alpha=0.3)
        with atomic_path(Path(path)) as tmp:
            fig.savefig(tmp, format="png", bbox_inches="tight")
    finally:
        plt.close(fig)
