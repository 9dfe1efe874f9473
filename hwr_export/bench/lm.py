"""What language-model decoding buys and costs: greedy vs ``--lm`` on the same logits.

The fp32 ONNX model runs each line once (batch 1, timed); each decoder then reads the same logits,
timed line by line. Rows: CER, WER, decoding ms per line and whole-line ms (model + decoding),
medians. Wall-clock and process CPU time are both kept: on a busy machine the CPU time is what
the decoder itself costs.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from hwr_export.bench.metrics import character_error_rate, word_error_rate
from runtimes.decode import greedy_decode
from runtimes.lm import LanguageModel
from runtimes.recognizer import Recognizer


def _median_ms(values: list[float]) -> float:
    return round(statistics.median(values) * 1000, 3) if values else 0.0


def _timed(decode: Callable[[np.ndarray], str], logits: list[np.ndarray]) -> dict[str, Any]:
    texts, wall, cpu = [], [], []
    for x in logits:
        w0, c0 = time.perf_counter(), time.process_time()
        texts.append(decode(x))
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    return {"texts": texts, "wall": wall, "cpu": cpu}


def measure_decoding(
    model: Path, images: list[Any], references: list[str], lm_spec: str, threads: int | None
) -> dict[str, Any]:
    """Greedy and LM decoding of one model's logits; texts per line are kept for callers that
    group lines (e.g. by writer)."""
    recognizer = Recognizer.load(model, threads=threads)
    lm = LanguageModel.load(lm_spec)
    charset = recognizer.contract.charset
    arrays = [recognizer.prepare(image) for image in images]
    for x in arrays[:3]:  # warm-up
        recognizer.runtime.run(x[None, None])
    logits, model_wall = [], []
    for x in arrays:
        start = time.perf_counter()
        logits.append(recognizer.runtime.run(x[None, None])[0])
        model_wall.append(time.perf_counter() - start)
    decoders = {
        "greedy": lambda x: greedy_decode(x, charset)[0],
        f"lm:{lm_spec}": lambda x: lm.decode(x, charset)[0],
    }
    rows = []
    for name, decode in decoders.items():
        run = _timed(decode, logits)
        rows.append(
            {
                "decoding": name,
                "cer": character_error_rate(references, run["texts"]),
                "wer": word_error_rate(references, run["texts"]),
                "decode_ms_median": _median_ms(run["wall"]),
                "decode_cpu_ms_median": _median_ms(run["cpu"]),
                "line_ms_median": _median_ms(
                    [m + d for m, d in zip(model_wall, run["wall"], strict=False)]
                ),
                "texts": run["texts"],
            }
        )
    return {
        "model": str(model),
        "lm": lm.source,
        "lm_bytes": Path(lm.source).stat().st_size,
        "weights": asdict(lm.weights),
        "model_ms_median": _median_ms(model_wall),
        "rows": rows,
    }


def decoding_lines(decoding: dict[str, Any]) -> list[str]:
    """The decoding rows as text lines (stdout and Markdown alike)."""
    lines = [
        "",
        f"decoding (fp32 ONNX logits; model {decoding['model_ms_median']:.1f} ms/line, "
        f"LM {Path(decoding['lm']).name}, {decoding['lm_bytes'] / 1e6:.1f} MB):",
        "| decoding | CER % | WER % | decode ms/line (wall) | decode ms/line (CPU) | line ms |",
        "|---|---|---|---|---|---|",
    ]
    for row in decoding["rows"]:
        lines.append(
            f"| {row['decoding']} | {row['cer'] * 100:.2f} | {row['wer'] * 100:.2f} | "
            f"{row['decode_ms_median']:.2f} | {row['decode_cpu_ms_median']:.2f} | "
            f"{row['line_ms_median']:.2f} |"
        )
    return lines
