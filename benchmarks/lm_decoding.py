"""Greedy vs language-model decoding of the bundled model on a real split, per writer too.

    python benchmarks/lm_decoding.py --data ../shared/data/iam-lines-64 --split validation --grid

The bundled checkpoint is exported to fp32 ONNX in a temporary folder (as a user would with
`hwr export`); each line runs once (batch 1) and both decoders read the same logits. Reports
CER / WER, per-writer CER (min / median / max; the folder's metadata.jsonl has a `writer` field),
and decoding ms per line (median wall clock and process CPU time). --grid also scores a small
grid of LM weights (alpha x beta, then the OOV penalty, then the beam width), the one used to
choose the defaults, with the LM decoder's CPU ms per line for each.
Writes benchmarks/results/<machine>/lm-decoding.json and .md.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hwr_export.atomic import atomic_write_text  # noqa: E402
from hwr_export.bench.exports import ensure_exports  # noqa: E402
from hwr_export.bench.lm import decoding_lines, measure_decoding  # noqa: E402
from hwr_export.bench.machine import machine_info, machine_slug  # noqa: E402
from hwr_export.bench.metrics import character_error_rate, word_error_rate  # noqa: E402
from hwr_export.bench.writers import group_by_writer, line_writers  # noqa: E402
from hwr_export.data.sources import open_lines  # noqa: E402
from hwr_export.model.source import resolve_model  # noqa: E402
from runtimes.lm import LanguageModel  # noqa: E402
from runtimes.recognizer import Recognizer  # noqa: E402

GRID = [  # (alpha, beta, oov_penalty, beam_width)
    *itertools.product([0.3, 0.5, 0.8], [0.5, 1.0, 2.0], [2.0], [32]),
    *itertools.product([0.5], [2.0, 3.0], [0.0, 4.0], [32]),
    *itertools.product([0.5], [2.0], [2.0], [16, 48]),
]


def per_writer(refs: list[str], texts: list[str], writers: list[str]) -> dict[str, float]:
    groups = group_by_writer(refs, texts, writers).values()
    cers = sorted(character_error_rate(r, t) or 0.0 for r, t in groups)
    return {
        "writers": len(cers),
        "min": cers[0],
        "median": statistics.median(cers),
        "max": cers[-1],
    }


def run_grid(model: Path, lines: list, refs: list[str]) -> list[dict]:
    recognizer = Recognizer.load(model, threads=1)
    logits = [
        recognizer.runtime.run(recognizer.prepare(line.image)[None, None])[0] for line in lines
    ]
    lm = LanguageModel.load("en")
    defaults = lm.weights
    rows = []
    for alpha, beta, oov, beam in GRID:
        lm.weights = replace(defaults, alpha=alpha, beta=beta, oov_penalty=oov, beam_width=beam)
        texts, cpu = [], []
        for x in logits:
            start = time.process_time()
            texts.append(lm.decode(x, recognizer.contract.charset)[0])
            cpu.append(time.process_time() - start)
        row = {"alpha": alpha, "beta": beta, "oov_penalty": oov, "beam_width": beam}
        row |= {"cer": character_error_rate(refs, texts), "wer": word_error_rate(refs, texts)}
        row["decode_cpu_ms_median"] = round(statistics.median(cpu) * 1000, 3)
        print(row, flush=True)
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data/iam-lines-64")
    parser.add_argument("--split", default="validation")
    parser.add_argument("--grid", action="store_true")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--note", default="", help="What else ran on the machine.")
    args = parser.parse_args()

    lines = open_lines(args.data, args.split)
    refs = [line.text for line in lines]
    writers = line_writers(lines)
    checkpoint = resolve_model(None)
    with tempfile.TemporaryDirectory(prefix="hwr-lm-") as work:
        paths, errors = ensure_exports(checkpoint, Path(work), ["onnx"])
        if errors:
            raise SystemExit(errors["onnx"])
        started = time.time()
        decoding = measure_decoding(paths["onnx"], [x.image for x in lines], refs, "en", 1)
        grid = run_grid(paths["onnx"], lines, refs) if args.grid else []
    for row in decoding["rows"]:
        row["per_writer_cer"] = per_writer(refs, row.pop("texts"), writers)
    result = {
        "command": "python " + " ".join(sys.argv),
        "data": {"spec": args.data, "split": args.split, "lines": len(lines)},
        "model": checkpoint.name,
        "machine": machine_info("cpu", 1),
        "note": (args.note + "; " if args.note else "")
        + f"load average {os.getloadavg()[0]:.1f} at the end of the run: with other work on "
        "the machine wall clock can overstate the decoders' cost; the CPU-time column is their "
        "own work",
        "seconds": round(time.time() - started, 1),
        "decoding": decoding,
        "weights": asdict(LanguageModel.load("en").weights),
        "grid": grid,
    }
    folder = args.out / machine_slug(result["machine"])
    atomic_write_text(folder / "lm-decoding.json", json.dumps(result, indent=2) + "\n")
    md = [f"## Language-model decoding: {checkpoint.name}, {args.split} ({len(lines)} lines)"]
    md += decoding_lines(decoding)[1:]
    md += ["", "| decoding | writers | per-writer CER % min / median / max |", "|---|---|---|"]
    for row in decoding["rows"]:
        w = row["per_writer_cer"]
        md.append(
            f"| {row['decoding']} | {w['writers']} | "
            f"{w['min'] * 100:.2f} / {w['median'] * 100:.2f} / {w['max'] * 100:.2f} |"
        )
    if grid:
        md += ["", "Weights grid:", ""]
        md.append("| alpha | beta | OOV penalty | beam | CER % | WER % | decode ms/line (CPU) |")
        md.append("|---|---|---|---|---|---|---|")
        md += [
            f"| {g['alpha']} | {g['beta']} | {g['oov_penalty']} | {g['beam_width']} | "
            f"{g['cer'] * 100:.2f} | {g['wer'] * 100:.2f} | {g['decode_cpu_ms_median']:.1f} |"
            for g in grid
        ]
    md += ["", f"Machine: {result['machine']['cpu']}; {result['note']}.", ""]
    atomic_write_text(folder / "lm-decoding.md", "\n".join(md))
    print("\n".join(md))


if __name__ == "__main__":
    main()
