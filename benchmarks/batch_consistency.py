"""Do batched transcripts equal single-line transcripts? Measured on a real split.

    python benchmarks/batch_consistency.py [MODEL] --data ../shared/data/iam-lines-64 --split validation

Batches pad lines on the right; the backward LSTM reads through that padding, so a line can
decode differently alone and in a batch. Width bucketing keeps the padding small; this script
measures what is left, for every runtime asked for, and writes benchmarks/results/<machine>/.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

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
        "--runtimes", default="torch,onnx", help="torch, onnx (exported on the fly)"
    )
    parser.add_argument("--threads", type=int, default=None, help="intra-op threads per runtime")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args()

    checkpoint = resolve_model(args.model)
    lines = open_lines(args.data, args.split)
    images = [line.image for line in lines]
    result = {
        "model": str(checkpoint),
        "data": f"{args.data} [{args.split}]",
        "lines": len(images),
        "batch_size": args.batch_size,
        "machine": machine_info("cpu"),
        "runtimes": {},
    }
    for name in args.runtimes.split(","):
        rec = Recognizer.load(_model_for(checkpoint, name), runtime=name, threads=args.threads)
        single = [p.text for p in rec.transcribe(images, batch_size=1)]
        batched = [p.text for p in rec.transcribe(images, batch_size=args.batch_size)]
        same = sum(a == b for a, b in zip(single, batched, strict=True))
        result["runtimes"][name] = {"identical": same, "share": same / len(images)}
        print(f"{name}: {same}/{len(images)} lines identical ({same / len(images):.2%})")
    folder = args.out / machine_slug(result["machine"])
    atomic_write_text(folder / "batch-consistency.json", json.dumps(result, indent=2) + "\n")
    print(f"wrote {folder / 'batch-consistency.json'}")


def _model_for(checkpoint: Path, runtime: str) -> Path:
    if runtime == "torch":
        return checkpoint
    from hwr_export.bench.exports import ensure_exports, export_folder

    paths, errors = ensure_exports(checkpoint, export_folder(checkpoint, None), ["onnx"])
    if errors:
        raise SystemExit(f"hwr: error: {errors['onnx']}")
    return paths["onnx"]


if __name__ == "__main__":
    main()
