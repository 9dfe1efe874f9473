"""Does the exactly defined resize (runtimes/resize.py, shared with the browser) cost accuracy?

    python benchmarks/resize_accuracy.py MODEL.onnx --data ../shared/data/iam-lines-64

CER/WER of an ONNX model on a split, its lines fed at their own height (64 px for iam-lines-64:
no resize at all) and rescaled to other heights first (Pillow LANCZOS, the same copy for both
sides), so that the model's resize does the work: once with the installed Pillow's
``resize(BILINEAR)`` (what hwr used before) and once with ``runtimes.resize.resize_gray``.
Also counts the lines whose model input differs at all. Writes
benchmarks/results/<machine>/resize-accuracy.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import jiwer  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from hwr_export.atomic import atomic_write_text  # noqa: E402
from hwr_export.bench.machine import machine_info, machine_slug  # noqa: E402
from hwr_export.data.sources import open_lines  # noqa: E402
from runtimes import preprocess  # noqa: E402
from runtimes.recognizer import Recognizer  # noqa: E402


def pillow_resize(pixels: np.ndarray, width: int, height: int) -> np.ndarray:
    """The resize hwr used before: the installed Pillow's bilinear."""
    return np.asarray(Image.fromarray(pixels).resize((width, height), Image.Resampling.BILINEAR))


def evaluate(recognizer: Recognizer, images: list[Image.Image], refs: list[str]) -> dict:
    hyps = [p.text for p in recognizer.transcribe(images)]
    return {"cer": float(jiwer.cer(refs, hyps)), "wer": float(jiwer.wer(refs, hyps))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--data", required=True)
    parser.add_argument("--split", default="validation")
    parser.add_argument("--heights", default="native,48,96", help="native and/or pixel heights")
    parser.add_argument("--note", default="", help="what else ran on the machine (recorded)")
    args = parser.parse_args()

    samples = list(open_lines(args.data, args.split))
    refs = [s.text for s in samples]
    recognizer = Recognizer.load(args.model, runtime="onnx", threads=1)
    contract = recognizer.contract
    rows = []
    for height in args.heights.split(","):
        images = [s.image.convert("L") for s in samples]
        if height != "native":
            h = int(height)
            images = [
                im.resize((max(1, round(im.width * h / im.height)), h), Image.Resampling.LANCZOS)
                for im in images
            ]
        new = evaluate(recognizer, images, refs)
        with mock.patch.object(preprocess, "resize_gray", pillow_resize):
            old = evaluate(recognizer, images, refs)
            old_inputs = [preprocess.to_model_input(im, contract) for im in images]
        changed = sum(
            not np.array_equal(a, preprocess.to_model_input(im, contract))
            for a, im in zip(old_inputs, images, strict=True)
        )
        row = {"height": height, "lines": len(images), "inputs_changed": changed}
        row |= {f"pillow_{k}": v for k, v in old.items()} | {
            f"exact_{k}": v for k, v in new.items()
        }
        rows.append(row)
        print(json.dumps(row))
    machine = machine_info("cpu", threads=1)
    out = Path(__file__).parent / "results" / machine_slug(machine) / "resize-accuracy.json"
    report = {"model": args.model.name, "data": f"{args.data}:{args.split}", "rows": rows}
    report["machine"] = machine
    report["note"] = args.note
    atomic_write_text(out, json.dumps(report, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
