"""Which thread setting reads many lines fastest? Before/after of the default, side by side.

    python benchmarks/threads.py [MODEL] --data ../shared/data/iam-lines-64/validation

Exports the bundled (or given) checkpoint to fp32 ONNX and reads every image of the folder with
``Recognizer.transcribe_paths`` (file reading included, model loading not), once per setting and
round, rounds interleaved so a busy moment hits every setting alike:
- ``ort-default``: ONNX Runtime's own intra-op pool (one thread per core), one batch at a time:
  what `hwr transcribe` did before runtimes/threads.py;
- ``1x1``, ``2x1``: 1 or 2 intra-op threads, one batch at a time;
- ``1x2``, ``2x2``: 1 or 2 intra-op threads, two batches at a time;
- ``default``: what `hwr transcribe` does now (runtimes.threads.plan_threads).
Transcripts must equal ``ort-default``'s. Writes benchmarks/results/<machine>/threads.{json,md}
with the machine and the load average (other work on the machine counts: say what it was).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hwr_export.atomic import atomic_write_text  # noqa: E402
from hwr_export.bench.machine import machine_info, machine_slug  # noqa: E402
from hwr_export.export.pipeline import ExportRequest, export_all  # noqa: E402
from hwr_export.model.source import resolve_model  # noqa: E402
from runtimes.ort_runtime import OrtRuntime  # noqa: E402
from runtimes.preprocess import IMAGE_SUFFIXES  # noqa: E402
from runtimes.recognizer import Recognizer  # noqa: E402
from runtimes.threads import ThreadPlan  # noqa: E402

SETTINGS: dict[str, ThreadPlan | None] = {
    "ort-default": ThreadPlan(None, 1, "ONNX Runtime's default pool, one batch at a time (before)"),
    "1x1": ThreadPlan(1, 1, "1 intra-op thread, one batch at a time"),
    "2x1": ThreadPlan(2, 1, "2 intra-op threads, one batch at a time"),
    "1x2": ThreadPlan(1, 2, "1 intra-op thread, 2 batches at a time"),
    "2x2": ThreadPlan(2, 2, "2 intra-op threads, 2 batches at a time"),
    "default": None,  # Recognizer.load's own plan
}


def recognizer(path: Path, plan: ThreadPlan | None) -> Recognizer:
    if plan is None:
        return Recognizer.load(path)
    return Recognizer(OrtRuntime(path, threads=plan.intra_op), threads=plan)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default=None)
    parser.add_argument("--data", type=Path, default=Path("../shared/data/iam-lines-64/validation"))
    parser.add_argument("--batch-sizes", default="16,1")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--note", default="", help="What else ran on the machine.")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args()

    paths = sorted(p for p in args.data.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    sizes = [int(s) for s in args.batch_sizes.split(",")]
    checkpoint = resolve_model(args.model)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="hwr-threads-") as work:
        onnx = export_all(ExportRequest(checkpoint, Path(work), frozenset({"onnx"})))["onnx"]
        recognizers = {name: recognizer(onnx, plan) for name, plan in SETTINGS.items()}
        seconds: dict[str, list[float]] = {f"{n}@{b}": [] for n in SETTINGS for b in sizes}
        texts: dict[str, list[str]] = {}
        for rec in recognizers.values():  # warm-up: first runs allocate
            list(rec.transcribe_paths(paths[:32], sizes[0]))
        for _ in range(args.rounds):
            for size in sizes:
                for name, rec in recognizers.items():
                    start = time.perf_counter()
                    results = list(rec.transcribe_paths(paths, size))
                    seconds[f"{name}@{size}"].append(time.perf_counter() - start)
                    texts[f"{name}@{size}"] = [
                        r.prediction.text if r.prediction else "" for r in results
                    ]
    load_after = os.getloadavg()
    before = texts[f"ort-default@{sizes[0]}"]
    rows = []
    for key, runs in seconds.items():
        name, size = key.split("@")
        plan = recognizers[name].threads
        rows.append(
            {
                "setting": name,
                "intra_op_threads": plan.intra_op,
                "parallel_batches": plan.parallel_batches,
                "rule": plan.rule,
                "batch_size": int(size),
                "lines": len(paths),
                "seconds": runs,
                "lines_per_s_median": len(paths) / statistics.median(runs),
                "lines_per_s_best": len(paths) / min(runs),
                "same_transcripts_as_before": texts[key] == before,
            }
        )
    info = machine_info("cpu")
    result = {
        "command": " ".join(["python", *sys.argv]),
        "model": str(checkpoint),
        "data": str(args.data),
        "rounds": args.rounds,
        "load_average_1m_before_after": [load_before[0], load_after[0]],
        "note": args.note,
        "machine": info,
        "results": rows,
    }
    folder = args.out / machine_slug(info)
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(folder / "threads.json", json.dumps(result, indent=2) + "\n")
    atomic_write_text(folder / "threads.md", markdown(result))
    print(markdown(result))


def markdown(result: dict) -> str:
    base = {
        r["batch_size"]: r["lines_per_s_median"]
        for r in result["results"]
        if r["setting"] == "ort-default"
    }
    lines = [
        f"# Threads: {result['results'][0]['lines']} lines of {result['data']}",
        "",
        f"- Machine: {result['machine']['cpu']}, {result['machine']['usable_cpus']} usable CPUs; "
        f"load average (1 min) {result['load_average_1m_before_after'][0]:.1f} before, "
        f"{result['load_average_1m_before_after'][1]:.1f} after. {result['note']}",
        f"- Median of {result['rounds']} interleaved rounds; whole `transcribe_paths` (reading "
        "files included, model loading not).",
        "",
        "| setting | intra-op | batches at once | batch | lines/s (median) | best | vs before | same transcripts |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in result["results"]:
        lines.append(
            f"| {r['setting']} | {r['intra_op_threads'] or 'ORT default'} | {r['parallel_batches']} "
            f"| {r['batch_size']} | {r['lines_per_s_median']:.1f} | {r['lines_per_s_best']:.1f} "
            f"| {r['lines_per_s_median'] / base[r['batch_size']]:.2f}x "
            f"| {'yes' if r['same_transcripts_as_before'] else 'NO'} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
