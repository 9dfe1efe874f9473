"""Which line segmenter? Both classical methods side by side on the same composed pages.

    python benchmarks/page_segmenters.py [--data ../shared/data/iam-lines-64] [--split validation]

`profile` (projection profile of the deskewed page, ink assigned by pieces) against `smear`
(run-length smoothing: words smeared into line blobs), on pages composed from a line dataset
(IAM: one page per form, lines in order) in several layouts: the default mix, lines 2-4 px
apart and skewed up to 5 degrees on shaded, noisy paper, and line heights of about 30 and
150 px. It scores line detection (IoU >= 0.5), pages with the right line count and ms per
page, and writes benchmarks/results/<machine>/page-segmenters.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hwr_export.atomic import atomic_write_text  # noqa: E402
from hwr_export.bench.machine import machine_info, machine_slug  # noqa: E402
from hwr_export.bench.page_metrics import Detection, match_lines  # noqa: E402
from hwr_export.data.pages import PageStyle, pages_from_lines  # noqa: E402
from hwr_export.data.sources import open_lines  # noqa: E402
from runtimes.pages.segmenter import METHODS, ClassicalSegmenter, SegmenterConfig  # noqa: E402

LAYOUTS = {
    "default mix": PageStyle(),
    "2-4 px gaps, 5 deg, shaded": PageStyle(
        gap=(2, 4), rotation=5.0, shading=0.35, noise=6.0, scale=(1.0, 2.0)
    ),
    "~30 px lines": PageStyle(gap=(2, 6), rotation=2.5, scale=(0.47, 0.47)),
    "~150 px lines": PageStyle(gap=(2, 6), rotation=2.5, scale=(2.35, 2.35)),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data/iam-lines-64")
    parser.add_argument("--split", default="validation")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args()

    samples = open_lines(args.data, args.split)
    result = {
        "data": f"{args.data} [{args.split}]",
        "machine": machine_info("cpu", 1),
        "layouts": {},
    }
    for layout, style in LAYOUTS.items():
        pages = list(pages_from_lines(samples, seed=args.seed, style=style))
        arrays = [np.asarray(page.image) for page in pages]
        rows = {}
        for method in METHODS:
            segmenter = ClassicalSegmenter(SegmenterConfig(method=method))
            segmenter.segment(arrays[0])  # warm-up
            detection, right, times = Detection(0, 0, 0), 0, []
            for page, gray in zip(pages, arrays, strict=True):
                start = time.perf_counter()
                found = segmenter.segment(gray)
                times.append(1000 * (time.perf_counter() - start))
                boxes = [line.region.box for line in found.lines]
                detection = detection + match_lines(boxes, [t.box for t in page.lines])
                right += len(found.lines) == len(page.lines)
            rows[method] = {
                "pages": len(pages),
                "right_line_count": right / len(pages),
                "precision": detection.precision,
                "recall": detection.recall,
                "f1": detection.f1,
                "ms_per_page_median": statistics.median(times),
                "megapixels_median": statistics.median(g.size / 1e6 for g in arrays),
            }
            print(f"{layout:28s} {method:8s} " + json.dumps(rows[method]))
        result["layouts"][layout] = rows

    folder = args.out / machine_slug(result["machine"])
    atomic_write_text(folder / "page-segmenters.json", json.dumps(result, indent=2) + "\n")
    atomic_write_text(folder / "page-segmenters.md", markdown(result))
    print(f"wrote {folder / 'page-segmenters.json'} and .md")


def markdown(result: dict) -> str:
    lines = [
        f"# Line segmenters on composed pages: {result['data']}",
        "",
        "| layout | method | right line count | precision | recall | F1 | ms/page (median) | page MP |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for layout, rows in result["layouts"].items():
        for method, row in rows.items():
            lines.append(
                f"| {layout} | `{method}` | {100 * row['right_line_count']:.0f}% "
                f"| {row['precision']:.3f} | {row['recall']:.3f} | {row['f1']:.3f} "
                f"| {row['ms_per_page_median']:.0f} | {row['megapixels_median']:.1f} |"
            )
    machine = result["machine"]
    lines += [
        "",
        f"Machine: {machine['cpu']}, {machine['usable_cpus']} usable CPUs, {machine['date']}.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
