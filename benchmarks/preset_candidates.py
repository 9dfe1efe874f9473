"""Which wider presets would keep the speed promise? Size, cost and fp32 ONNX speed against `small`.

    python benchmarks/preset_candidates.py --data ../shared/data/iam-lines-64

Issue 10 allows a default preset of up to 1.5 G multiply-adds per 1000 px line whose fp32 ONNX
model stays at least 25x faster per line than the `seed` replica. Training a candidate costs hours
on this CPU, so this measures the speed side first, untrained (random weights run the same
operations): each candidate is exported to fp32 ONNX and timed line by line (one ONNX Runtime
thread, `Recognizer.transcribe_prepared`, batch 1) on the same lines, rounds interleaved. The
ratio to `small` carries over to the seed ratio of `small` given with --small-vs-seed (what the
`cpu-iam-validation` record measured). Writes benchmarks/results/<machine>/preset-candidates.{json,md}.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from hwr_export.atomic import atomic_write_text  # noqa: E402
from hwr_export.bench.machine import machine_info, machine_slug  # noqa: E402
from hwr_export.data.sources import open_lines  # noqa: E402
from hwr_export.export.onnx import write_onnx  # noqa: E402
from hwr_export.model.checkpoint import contract_for  # noqa: E402
from hwr_export.model.crnn import CRNN, count_parameters, multiply_adds  # noqa: E402
from hwr_export.model.presets import ConvBlock, CRNNConfig, get_preset  # noqa: E402
from runtimes.recognizer import Recognizer  # noqa: E402

WIDE_BLOCKS = (
    ConvBlock(24, pool=(2, 2)),
    ConvBlock(48, pool=(2, 2)),
    ConvBlock(64),
    ConvBlock(96, pool=(2, 1)),
    ConvBlock(128),
    ConvBlock(128, pool=(2, 1)),
)


def candidates() -> dict[str, tuple[CRNNConfig, str]]:
    small = get_preset("small")

    def variant(name: str, **changes: object) -> CRNNConfig:
        return dataclasses.replace(small, name=name, **changes)  # type: ignore[arg-type]

    return {
        "small": (small, "today's default"),
        "wide-cnn": (
            variant("wide-cnn", blocks=WIDE_BLOCKS, proj_dim=256),
            "CNN 24-48-64-96-128-128",
        ),
        "wide-lstm": (
            variant("wide-lstm", proj_dim=256, lstm_hidden=192),
            "BiLSTM 192 per direction",
        ),
        "wide-both": (
            variant("wide-both", blocks=WIDE_BLOCKS, proj_dim=256, lstm_hidden=192),
            "both of the above",
        ),
        "3-layer": (variant("3-layer", lstm_layers=3), "a third BiLSTM layer"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data/iam-lines-64")
    parser.add_argument("--split", default="validation")
    parser.add_argument("--lines", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--small-vs-seed", type=float, default=42.9)
    parser.add_argument("--note", default="", help="What else ran on the machine.")
    args = parser.parse_args()

    images = [s.image for s in open_lines(args.data, args.split, limit=args.lines)]
    rows, recognizers, arrays = [], {}, {}
    with tempfile.TemporaryDirectory(prefix="hwr-presets-") as work:
        for name, (config, change) in candidates().items():
            torch.manual_seed(0)
            model = CRNN(config).eval()
            onnx = Path(work) / f"{name}.onnx"
            write_onnx(model, contract_for(config), onnx)
            recognizers[name] = Recognizer.load(onnx, threads=1)
            arrays[name] = [recognizers[name].prepare(image) for image in images]
            rows.append(
                {
                    "preset": name,
                    "change": change,
                    "parameters": count_parameters(model),
                    "gmac_per_1000px": round(multiply_adds(config) / 1e9, 3),
                }
            )
        seconds: dict[str, list[float]] = {name: [] for name in recognizers}
        for _ in range(args.rounds):
            for name, recognizer in recognizers.items():
                for array in arrays[name]:
                    start = time.perf_counter()
                    recognizer.transcribe_prepared([array], 1)
                    seconds[name].append(time.perf_counter() - start)
    base = statistics.median(seconds["small"])
    for row in rows:
        p50 = statistics.median(seconds[row["preset"]])
        row["p50_ms"] = round(1000 * p50, 2)
        row["vs_small"] = round(p50 / base, 2)
        row["vs_seed_estimate"] = round(args.small_vs_seed * base / p50, 1)
    result = {
        "data": f"{args.data} [{args.split}], {len(images)} lines x {args.rounds} rounds",
        "small_vs_seed": args.small_vs_seed,
        "rows": rows,
        "note": args.note,
        "machine": machine_info("cpu", 1),
    }
    folder = Path(__file__).parent / "results" / machine_slug(result["machine"])
    atomic_write_text(folder / "preset-candidates.json", json.dumps(result, indent=2) + "\n")
    md = [
        "| preset | change from small | parameters | GMAC / 1000 px | fp32 ONNX p50 ms/line | "
        "x small | seed ratio (estimate) |",
        "|---|---|---|---|---|---|---|",
    ]
    md += [
        f"| {r['preset']} | {r['change']} | {r['parameters']:,} | {r['gmac_per_1000px']} | "
        f"{r['p50_ms']} | {r['vs_small']} | {r['vs_seed_estimate']}x |"
        for r in rows
    ]
    md += [
        "",
        f"{result['data']}; untrained weights, one ONNX Runtime thread, batch 1, rounds "
        f"interleaved. Seed ratio = {args.small_vs_seed}x (small against the seed replica, "
        "cpu-iam-validation record) x small's time / the candidate's. Machine: "
        f"{result['machine']['cpu']}, {result['machine']['date']}. {args.note}",
    ]
    atomic_write_text(folder / "preset-candidates.md", "\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
