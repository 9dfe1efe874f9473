"""`hwr bench --pages`: read composed pages and score them against their ground truth.

Pages are composed from a line dataset (``hwr_export.data.pages``; IAM lines one page per form,
lines in order). On the same lines and with the same model it measures:

- line CER/WER: the model reading the ground-truth line images one by one (the reference);
- page CER/WER: the page reader's text, lines joined by newlines, against the true page text.
  A missing or extra line break is an edit, but breaks do not count in the reference length,
  so the page figure cannot look better than the line figure by their number;
- line detection precision / recall / F1 at IoU >= 0.5, and the share of pages with the right
  number of lines;
- milliseconds per page for finding the lines (segmentation) and reading them (recognition).
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hwr_export.bench.machine import machine_info
from hwr_export.bench.metrics import character_error_rate, edit_counts, word_error_rate
from hwr_export.bench.page_metrics import Detection, match_lines
from hwr_export.data.pages import PageStyle, pages_from_lines
from hwr_export.data.sources import open_lines


@dataclass(frozen=True)
class PageBenchConfig:
    model: Path  # any model file the Recognizer loads
    data: str  # a --data spec
    split: str = "validation"
    limit: int | None = None  # first N pages
    seed: int = 0  # page composition
    threads: int | None = None
    method: str = "profile"  # segmentation method
    command: str = ""


def page_cer(references: list[str], hypotheses: list[str]) -> float | None:
    """Character edits over reference characters, line breaks not counted in the reference."""
    edits, length = edit_counts(references, hypotheses)
    length -= sum(r.count("\n") for r in references)
    return edits / length if length > 0 else None


def _ms(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "mean": statistics.fmean(values)}


def run_page_bench(config: PageBenchConfig, style: PageStyle | None = None) -> dict[str, Any]:
    from runtimes.pages.reader import PageReader
    from runtimes.pages.segmenter import ClassicalSegmenter, SegmenterConfig
    from runtimes.recognizer import Recognizer

    samples = open_lines(config.data, config.split)
    pages = list(pages_from_lines(samples, seed=config.seed, style=style))[: config.limit]
    recognizer = Recognizer.load(config.model, threads=config.threads)
    reader = PageReader(recognizer, ClassicalSegmenter(SegmenterConfig(method=config.method)))
    reader.read(pages[0].image)  # warm-up: sessions, allocators, caches

    line_refs, line_hyps, page_refs, page_hyps = [], [], [], []
    detection, right_count = Detection(0, 0, 0), 0
    segment_ms, recognize_ms, lines_ms, per_page = [], [], [], []
    for page in pages:
        start = time.perf_counter()
        truth_lines = [line.text for line in page.lines]
        predictions = recognizer.transcribe(page.line_images)
        lines_ms.append(1000 * (time.perf_counter() - start))
        line_refs += truth_lines
        line_hyps += [p.text for p in predictions]

        result = reader.read(page.image, page.name)
        page_refs.append(page.text)
        page_hyps.append(result.text)
        found = match_lines([line.region.box for line in result.lines], [t.box for t in page.lines])
        detection = detection + found
        right_count += len(result.lines) == len(page.lines)
        segment_ms.append(result.segment_ms)
        recognize_ms.append(result.recognize_ms)
        per_page.append(
            {
                "page": page.name,
                "lines": len(page.lines),
                "found": len(result.lines),
                "matched": found.matched,
                "cer": page_cer([page.text], [result.text]),
                "segment_ms": round(result.segment_ms, 1),
                "recognize_ms": round(result.recognize_ms, 1),
            }
        )
    return {
        "kind": "pages",
        "command": config.command,
        "model": str(config.model),
        "data": f"{config.data} [{config.split}]",
        "segmenter": config.method,
        "pages": len(pages),
        "lines": len(line_refs),
        "line_cer": character_error_rate(line_refs, line_hyps),
        "line_wer": word_error_rate(line_refs, line_hyps),
        "page_cer": page_cer(page_refs, page_hyps),
        "page_wer": word_error_rate(page_refs, page_hyps),
        "detection": {
            "precision": detection.precision,
            "recall": detection.recall,
            "f1": detection.f1,
            "found": detection.found,
            "truth": detection.truth,
            "matched": detection.matched,
        },
        "right_line_count": right_count / len(pages),
        "ms_per_page": {
            "segmentation": _ms(segment_ms),
            "recognition": _ms(recognize_ms),
            "ground_truth_lines_one_call": _ms(lines_ms),
            "segmentation_share": sum(segment_ms) / (sum(segment_ms) + sum(recognize_ms)),
        },
        "per_page": per_page,
        "machine": machine_info("cpu", config.threads),
    }


def format_markdown(result: dict[str, Any]) -> str:
    def pct(value: float | None) -> str:
        return "-" if value is None else f"{100 * value:.2f}%"

    ms = result["ms_per_page"]
    det = result["detection"]
    machine = result["machine"]
    return "\n".join(
        [
            f"# Page reading: {result['data']}",
            "",
            f"`{result['command']}`, model `{Path(result['model']).name}`, segmenter "
            f"`{result['segmenter']}`, {result['pages']} composed pages, {result['lines']} lines.",
            "",
            "| measure | value |",
            "|---|---|",
            f"| line CER / WER (ground-truth line images, one by one) | {pct(result['line_cer'])} / {pct(result['line_wer'])} |",
            f"| page CER / WER (lines found and read by the page reader) | {pct(result['page_cer'])} / {pct(result['page_wer'])} |",
            f"| page CER - line CER | {100 * (result['page_cer'] - result['line_cer']):+.2f} points |",
            f"| pages with the right number of lines | {pct(result['right_line_count'])} |",
            f"| line detection precision / recall / F1 (IoU >= 0.5) | {det['precision']:.4f} / {det['recall']:.4f} / {det['f1']:.4f} |",
            f"| ms per page: finding the lines (median / mean) | {ms['segmentation']['median']:.0f} / {ms['segmentation']['mean']:.0f} |",
            f"| ms per page: reading them (median / mean) | {ms['recognition']['median']:.0f} / {ms['recognition']['mean']:.0f} |",
            f"| share of page time spent finding lines | {100 * ms['segmentation_share']:.0f}% |",
            "",
            f"Machine: {machine['cpu']}, {machine['usable_cpus']} usable CPUs, threads "
            f"{machine['threads']['requested'] or 'default'}, {machine['date']}.",
            "",
        ]
    )
