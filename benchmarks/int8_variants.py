"""Which int8 keeps speed and accuracy with batch = single? Measured side by side on a real split.

    python benchmarks/int8_variants.py [MODEL] --data ../shared/data/iam-lines-64 --split validation

Variants of the bundled (or given) checkpoint: fp32 ONNX; int8 as exported (static QDQ CNN +
dynamically quantized LSTM), run batched as if it were batch-independent and run line by line as
hwr now does; int8 CNN with the LSTM kept fp32 (batch-independent by construction). For each:
transcripts identical at batch 1 and 16, CER, and ms per line (1 thread, best of interleaved
rounds). Writes benchmarks/results/<machine>/int8-variants.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import jiwer  # noqa: E402

from hwr_export.atomic import atomic_write_text  # noqa: E402
from hwr_export.bench.machine import machine_info, machine_slug  # noqa: E402
from hwr_export.data.sources import open_lines  # noqa: E402
from hwr_export.export import quantize  # noqa: E402
from hwr_export.export.onnx import export_onnx  # noqa: E402
from hwr_export.model.checkpoint import load_checkpoint  # noqa: E402
from hwr_export.model.source import resolve_model  # noqa: E402
from runtimes.batching import run_batched  # noqa: E402
from runtimes.decode import decode  # noqa: E402
from runtimes.recognizer import Recognizer  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default=None)
    parser.add_argument("--data", default="../shared/data/iam-lines-64")
    parser.add_argument("--split", default="validation")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args()

    checkpoint = resolve_model(args.model)
    lines = open_lines(args.data, args.split)
    refs = [line.text for line in lines]
    with tempfile.TemporaryDirectory(prefix="hwr-int8-variants-") as work:
        files = _variants(checkpoint, Path(work))
        recognizers = {name: Recognizer.load(path, threads=1) for name, (path, _) in files.items()}
        arrays = [recognizers["fp32"].prepare(line.image) for line in lines]
        best: dict[tuple[str, int], float] = {}
        texts: dict[tuple[str, int], list[str]] = {}
        for _ in range(args.rounds):  # interleaved, so a busy moment hits every variant
            for name, rec in recognizers.items():
                contract = dataclasses.replace(rec.contract, **files[name][1])
                for size in (1, 16):
                    start = time.perf_counter()
                    logits = run_batched(arrays, contract, rec.runtime.run, size)
                    elapsed = (time.perf_counter() - start) * 1000 / len(arrays)
                    best[name, size] = min(best.get((name, size), elapsed), elapsed)
                    texts[name, size] = [decode(x, contract.charset).text for x in logits]
    result = {
        "model": str(checkpoint),
        "data": f"{args.data} [{args.split}]",
        "lines": len(lines),
        "machine": machine_info("cpu", 1),
        "variants": {},
    }
    for name in files:
        same = sum(a == b for a, b in zip(texts[name, 1], texts[name, 16], strict=True))
        row = {
            "identical_batch_1_vs_16": same,
            "cer_batch_1": float(jiwer.cer(refs, texts[name, 1])),
            "cer_batch_16": float(jiwer.cer(refs, texts[name, 16])),
            "ms_per_line_batch_1": round(best[name, 1], 2),
            "ms_per_line_batch_16": round(best[name, 16], 2),
        }
        result["variants"][name] = row
        print(f"{name}: {json.dumps(row)}")
    folder = args.out / machine_slug(result["machine"])
    atomic_write_text(folder / "int8-variants.json", json.dumps(result, indent=2) + "\n")
    print(f"wrote {folder / 'int8-variants.json'}")


def _variants(checkpoint: Path, work: Path) -> dict[str, tuple[Path, dict[str, bool]]]:
    """name -> (file, contract override used when running it)."""
    model, contract = load_checkpoint(checkpoint)
    fp32 = export_onnx(model, contract, work / "fp32.onnx")
    batches = quantize.calibration_batches(None, contract)
    int8 = work / "int8.onnx"
    quantize.write_int8(fp32, int8, batches)
    cnn_only = work / "int8-cnn-only.onnx"
    dynamic, quantize.DYNAMIC_OP_TYPES = quantize.DYNAMIC_OP_TYPES, []
    try:
        quantize.write_int8(fp32, cnn_only, batches)
    finally:
        quantize.DYNAMIC_OP_TYPES = dynamic
    return {
        "fp32": (fp32, {}),
        "int8 batched (before)": (int8, {"batch_independent": True}),
        "int8 line by line (now)": (int8, {"batch_independent": False}),
        "int8 CNN + fp32 LSTM": (cnn_only, {}),
    }


if __name__ == "__main__":
    main()
