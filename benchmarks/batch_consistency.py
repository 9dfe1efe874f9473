"""Do batched transcripts equal single-line transcripts? Measured on a real split.

    python benchmarks/batch_consistency.py [MODEL] --data ../shared/data/iam-lines-64 --split validation

Batches pad lines on the right; the backward LSTM reads through that padding, so a line can
decode differently alone and in a batch (width bucketing removes that), and int8's dynamically
quantized LSTM scales a batch by its own range (so int8 runs line by line). For every format
(fp32, int8, fp16) this compares batch-1 and batch-N transcripts, CER and time per line, and
writes benchmarks/results/<machine>/batch-consistency.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import jiwer  # noqa: E402

from hwr_export.atomic import atomic_write_text  # noqa: E402
from hwr_export.bench.machine import machine_info, machine_slug  # noqa: E402
from hwr_export.data.sources import open_lines  # noqa: E402
from hwr_export.model.source import resolve_model  # noqa: E402
from runtimes.recognizer import Recognizer  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default=None)
    parser.add_argument("--data", default="../shared/data/iam-lines-64")
    parser.add_argument("--split", default="validation")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument(
        "--formats",
        default="torch,onnx,onnx-int8,onnx-fp16",
        help="formats of `hwr bench` (the ONNX ones are exported on the fly into its cache)",
    )
    parser.add_argument("--threads", type=int, default=1, help="intra-op threads per runtime")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args()

    checkpoint = resolve_model(args.model)
    lines = open_lines(args.data, args.split)
    images, refs = [line.image for line in lines], [line.text for line in lines]
    result = {
        "model": str(checkpoint),
        "data": f"{args.data} [{args.split}]",
        "lines": len(images),
        "batch_size": args.batch_size,
        "machine": machine_info("cpu", args.threads),
        "formats": {},
    }
    for name in args.formats.split(","):
        rec = Recognizer.load(_model_for(checkpoint, name), threads=args.threads)
        row: dict[str, object] = {"line_by_line": not rec.contract.batch_independent}
        texts = {}
        for size in (1, args.batch_size):
            start = time.perf_counter()
            texts[size] = [p.text for p in rec.transcribe(images, batch_size=size)]
            row[f"ms_per_line_batch_{size}"] = (time.perf_counter() - start) * 1000 / len(images)
            row[f"cer_batch_{size}"] = float(jiwer.cer(refs, texts[size]))
        same = sum(a == b for a, b in zip(texts[1], texts[args.batch_size], strict=True))
        row.update(identical=same, share=same / len(images))
        result["formats"][name] = row
        print(f"{name}: {same}/{len(images)} lines identical; {json.dumps(row)}")
    folder = args.out / machine_slug(result["machine"])
    atomic_write_text(folder / "batch-consistency.json", json.dumps(result, indent=2) + "\n")
    print(f"wrote {folder / 'batch-consistency.json'}")


def _model_for(checkpoint: Path, name: str) -> Path:
    from hwr_export.bench.exports import ensure_exports, export_folder
    from runtimes.formats import FORMATS

    if name not in FORMATS:
        raise SystemExit(f"hwr: error: unknown format {name!r}; choose from {', '.join(FORMATS)}")
    paths, errors = ensure_exports(checkpoint, export_folder(checkpoint, None), [name])
    if errors:
        raise SystemExit(f"hwr: error: {errors[name]}")
    return paths[name]


if __name__ == "__main__":
    main()
