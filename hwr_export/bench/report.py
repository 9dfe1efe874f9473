"""Turn a benchmark result (the JSON dict built by ``run``) into a table, Markdown or a file.

Nothing here measures; everything here only formats what was measured.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hwr_export.atomic import atomic_write_text
from hwr_export.bench.machine import machine_slug
from hwr_export.bench.markdown import format_markdown
from hwr_export.bench.table import speedup_sentences, table_rows


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
    if result.get("decoding"):
        from hwr_export.bench.lm import decoding_lines

        lines += decoding_lines(result["decoding"])
    parity = result["parity"]
    if parity["checked"]:
        lines.append("parity: passed" if parity["passed"] else "parity: FAILED")
    return "\n".join(lines) + "\n"


def results_paths(result: dict[str, Any], results_dir: Path, name: str) -> dict[str, Path]:
    """``<results_dir>/<machine>/<name>.json|.md|.png``: one folder per machine, so results of
    different machines sit side by side and never overwrite each other."""
    folder = Path(results_dir) / machine_slug(result["machine"])
    return {ext: folder / f"{name}.{ext}" for ext in ("json", "md", "png")}


def write_json(result: dict[str, Any], path: Path) -> None:
    atomic_write_text(Path(path), json.dumps(result, indent=2, ensure_ascii=False) + "\n")


def write_markdown(result: dict[str, Any], path: Path) -> None:
    atomic_write_text(Path(path), format_markdown(result))
