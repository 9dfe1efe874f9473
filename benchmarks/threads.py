"""Which thread setting reads many lines fastest? Before/after of the default, side by side.

    python benchmarks/threads.py [MODEL] --data ../shared/data/iam-lines-64/validation

Exports the bundled (or given) checkpoint to fp32 ONNX and reads every image of the folder with
``Recognizer.transcribe_paths`` (file reading included, model loading not), once per setting and
round, each in a fresh process (sessions of other settings in the same process would compete for
the cores), rounds interleaved so a busy moment hits every setting alike:
- ``ort-default``: ONNX Runtime's own intra-op pool (one thread per core), one batch at a time:
  what `hwr transcribe` did before runtimes/threads.py;
- ``1x1``, ``2x1``: 1 or 2 intra-op threads, one batch at a time;
- ``1x2``, ``2x2``: 1 or 2 intra-op threads, two batches at a time;
- ``default``: what `hwr transcribe` does now (runtimes.threads.plan_threads).
Transcripts must equal ``ort-default``'s. With ``--cli-before REV``, also the whole default
command, ``hwr transcribe MODEL.onnx DATA -o out.jsonl``, of commit REV (the code before) and of
this tree, rounds interleaved: wall time, startup and model loading included, and the JSONL
compared. Writes benchmarks/results/<machine>/threads.{json,md} with the machine and the load
average (other work on the machine counts: say what it was).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
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
    parser.add_argument("--cli-before", metavar="REV", help="Also time `hwr transcribe` of REV.")
    parser.add_argument("--cli-rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument(
        "--worker", nargs=3, metavar=("SETTING", "ONNX", "BATCH"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker[0], Path(args.worker[1]), args.data, int(args.worker[2]))

    paths = sorted(p for p in args.data.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    sizes = [int(s) for s in args.batch_sizes.split(",")]
    checkpoint = resolve_model(args.model)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="hwr-threads-") as work:
        onnx = export_all(ExportRequest(checkpoint, Path(work), frozenset({"onnx"})))["onnx"]
        seconds: dict[str, list[float]] = {f"{n}@{b}": [] for n in SETTINGS for b in sizes}
        texts: dict[str, list[str]] = {}
        for _ in range(args.rounds):
            for size in sizes:
                for name in SETTINGS:
                    command = [sys.executable, __file__, "--data", str(args.data)]
                    command += ["--worker", name, str(onnx), str(size)]
                    done = subprocess.run(command, capture_output=True, text=True, check=True)
                    found = json.loads(done.stdout)
                    seconds[f"{name}@{size}"].append(found["seconds"])
                    texts[f"{name}@{size}"] = found["texts"]
        plans = {name: recognizer(onnx, plan).threads for name, plan in SETTINGS.items()}
        cli = (
            compare_commands(onnx, args.data, args.cli_before, args.cli_rounds, Path(work))
            if args.cli_before
            else None
        )
    load_after = os.getloadavg()
    before = texts[f"ort-default@{sizes[0]}"]
    rows = []
    for key, runs in seconds.items():
        name, size = key.split("@")
        plan = plans[name]
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
                # before's time / this time, per round: both ran within seconds of each other
                "paired_speedup_median": statistics.median(
                    b / a for b, a in zip(seconds[f"ort-default@{size}"], runs, strict=True)
                ),
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
        "command_before_after": cli,
    }
    folder = args.out / machine_slug(info)
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(folder / "threads.json", json.dumps(result, indent=2) + "\n")
    atomic_write_text(folder / "threads.md", markdown(result))
    print(markdown(result))


def worker(name: str, onnx: Path, data: Path, size: int) -> None:
    """One setting in this process: a warm-up, then one timed pass; JSON on stdout."""
    paths = sorted(p for p in data.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    rec = recognizer(onnx, SETTINGS[name])
    list(rec.transcribe_paths(paths[:32], size))
    start = time.perf_counter()
    results = list(rec.transcribe_paths(paths, size))
    elapsed = time.perf_counter() - start
    texts = [r.prediction.text if r.prediction else "" for r in results]
    print(json.dumps({"seconds": elapsed, "texts": texts}))


def compare_commands(model: Path, data: Path, rev: str, rounds: int, work: Path) -> dict:
    """Wall time of the default `hwr transcribe` of ``rev`` and of this tree, interleaved."""
    root = Path(__file__).resolve().parents[1]
    before = work / "before"
    before.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(root), "archive", rev], capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(before)], input=archive.stdout, check=True)
    trees = {"before": before, "after": root}
    seconds: dict[str, list[float]] = {name: [] for name in trees}
    outputs: dict[str, str] = {}
    for _ in range(rounds):
        for name, tree in trees.items():
            out = work / f"{name}.jsonl"
            command = [sys.executable, "-m", "hwr_export.cli", "transcribe", str(model)]
            command.append(str(data.resolve()))
            # Run from the tree itself: `python -m` puts the working directory first on sys.path,
            # ahead of PYTHONPATH (and of the editable install).
            env = {**os.environ, "PYTHONPATH": str(tree)}
            start = time.perf_counter()
            subprocess.run(
                [*command, "-o", str(out)], env=env, cwd=tree, check=True, capture_output=True
            )
            seconds[name].append(time.perf_counter() - start)
            outputs[name] = out.read_text()
    lines = len(outputs["after"].splitlines())
    return {
        "rev_before": rev,
        "command": "hwr transcribe MODEL.onnx DATA -o out.jsonl",
        "lines": lines,
        "seconds": seconds,
        "lines_per_s_median": {n: lines / statistics.median(s) for n, s in seconds.items()},
        "paired_speedup_median": statistics.median(
            b / a for b, a in zip(seconds["before"], seconds["after"], strict=True)
        ),
        "same_output": outputs["before"] == outputs["after"],
    }


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
        "files included, model loading not). vs before: ratio of the medians; paired: median "
        "over rounds of before's time / this setting's time in the same round.",
        "",
        "| setting | intra-op | batches at once | batch | lines/s (median) | best | vs before | paired | same transcripts |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in result["results"]:
        lines.append(
            f"| {r['setting']} | {r['intra_op_threads'] or 'ORT default'} | {r['parallel_batches']} "
            f"| {r['batch_size']} | {r['lines_per_s_median']:.1f} | {r['lines_per_s_best']:.1f} "
            f"| {r['lines_per_s_median'] / base[r['batch_size']]:.2f}x "
            f"| {r['paired_speedup_median']:.2f}x "
            f"| {'yes' if r['same_transcripts_as_before'] else 'NO'} |"
        )
    cli = result["command_before_after"]
    if cli:
        speed = cli["lines_per_s_median"]
        lines += [
            "",
            f"Whole default command, `{cli['command']}` ({cli['lines']} lines; startup and model "
            f"loading included), {len(cli['seconds']['after'])} interleaved rounds: before "
            f"({cli['rev_before']}) {speed['before']:.1f} lines/s, after {speed['after']:.1f} "
            f"lines/s ({speed['after'] / speed['before']:.2f}x; median of the per-round ratios "
            f"{cli['paired_speedup_median']:.2f}x); identical output: "
            f"{'yes' if cli['same_output'] else 'NO'}.",
        ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
