"""Bulk transcription throughput: the in-process engine against the Ray engine with 1 and 2
workers on the same lines, and a scaling model fitted to it that predicts N nodes.

    python benchmarks/bulk_scaling.py [--data ../shared/data/iam-lines-64/validation] [--passes 4]

The bundled model, exported to ONNX, reads every line of --data (--passes times over, so the
steady state outlasts start-up). Per engine: start-up (model load; for Ray also the local
cluster and the actors) until the first result, and steady lines/s after it.

The model (see benchmarks/README.md): a line costs ``p`` CPU seconds that spread over the
workers (the Ray processes: actors decoding, preprocessing and running the model, raylet, GCS)
and ``s`` CPU seconds that do not (the driver: Ray Data's scheduling, receiving results). With
W workers, each with a core of its own, lines/s = 1 / (p / W + s), predicted for N nodes of
``--cores-per-node`` workers. Both come from CPU time in the steady state of the 1-worker run
(this process for ``s``, its descendant processes for ``p``): unlike wall time, CPU time holds
on a machine that other jobs share. Ray's overhead is p + s less the in-process engine's CPU
time per line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hwr_export.atomic import atomic_write_text  # noqa: E402
from hwr_export.bench.machine import machine_info, machine_slug  # noqa: E402
from runtimes.bulk.engine import RecognizerSpec, transcribe_on_ray  # noqa: E402
from runtimes.preprocess import IMAGE_SUFFIXES  # noqa: E402
from runtimes.recognizer import Recognizer  # noqa: E402

BATCH = 16
NODES = (1, 2, 4, 8, 16, 32)


def bundled_onnx(folder: Path) -> Path:
    from hwr_export.export.onnx import export_onnx
    from hwr_export.model.checkpoint import load_checkpoint
    from hwr_export.model.source import default_model_path

    model, contract = load_checkpoint(default_model_path())
    return export_onnx(model.eval(), contract, folder / "bundled.onnx")


def descendants_cpu_s(root: int) -> float:
    """CPU seconds (user + system) used so far by the living descendants of process ``root``."""
    tick = os.sysconf("SC_CLK_TCK")
    parent: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        parent[int(entry.name)] = int(fields[1])
        cpu[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick

    def descends(pid: int) -> bool:
        while pid in parent and pid > 1:
            pid = parent[pid]
            if pid == root:
                return True
        return False

    return sum(seconds for pid, seconds in cpu.items() if descends(pid))


def timed(results) -> dict[str, float]:
    """Start-up (until the first result), steady lines/s (after it) and CPU time per line in
    the steady state, of this process and of the processes it started (Ray's)."""
    start = time.perf_counter()
    first = last = None
    cpu_first = cpu_last = (0.0, 0.0)
    count = errors = 0
    for result in results:
        now = time.perf_counter()
        if first is None:
            first, cpu_first = now, (time.process_time(), descendants_cpu_s(os.getpid()))
        last = now
        count += 1
        errors += result.prediction is None
        if count % 64 == 0:  # the descendants end with the cluster: read them while it runs
            cpu_last = (time.process_time(), descendants_cpu_s(os.getpid()))
    assert first is not None and last is not None and errors == 0
    steady = count - 1
    return {
        "lines": count,
        "startup_s": round(first - start, 2),
        "steady_lines_per_s": round(steady / (last - first), 2),
        "total_s": round(last - start, 2),
        "cpu_ms_per_line": round(1000 * (cpu_last[0] - cpu_first[0]) / steady, 3),
        "helpers_cpu_ms_per_line": round(1000 * (cpu_last[1] - cpu_first[1]) / steady, 3),
    }


def in_process(model: Path, paths: list[str], threads: int) -> dict[str, float]:
    def run():
        recognizer = Recognizer.load(model, threads=threads)
        yield from recognizer.transcribe_paths(paths, BATCH)

    return {"engine": "in-process", "threads": threads, **timed(run())}


def on_ray(model: Path, paths: list[str], workers: int) -> dict[str, float]:
    spec = RecognizerSpec.from_file(model, batch_size=BATCH)
    return {"engine": "ray", "workers": workers, **timed(transcribe_on_ray(spec, paths, workers))}


def scaling_model(local: dict, one: dict, two: dict, cores_per_node: int) -> dict:
    """p and s (CPU seconds per line) from the 1-worker run; predictions for N nodes, and for
    the 2 workers measured here."""
    work = local["cpu_ms_per_line"] / 1000  # decode + preprocess + inference, one thread
    serial = one["cpu_ms_per_line"] / 1000  # the driver
    parallel = one["helpers_cpu_ms_per_line"] / 1000  # actors, raylet, GCS
    overhead = parallel + serial - work
    rows = []
    for nodes in NODES:
        workers = nodes * cores_per_node
        rate = 1 / (parallel / workers + serial)
        rows.append({"nodes": nodes, "workers": workers, "lines_per_s": round(rate, 1)})
    return {
        "work_s_per_line": round(work, 5),
        "ray_overhead_s_per_line": round(overhead, 5),
        "two_workers_predicted_lines_per_s": round(1 / (parallel / 2 + serial), 1),
        "two_workers_measured_lines_per_s": two["steady_lines_per_s"],
        "parallel_s_per_line": round(parallel, 5),
        "per_worker_lines_per_s": round(1 / parallel, 2),
        "serial_s_per_line": round(serial, 5),
        "ceiling_lines_per_s": round(1 / serial, 1) if serial > 0 else None,
        "cores_per_node": cores_per_node,
        "predicted": rows,
    }


def markdown(result: dict) -> str:
    machine = result["machine"]
    lines = [
        "# Bulk transcription: in-process vs Ray engine",
        "",
        f"{machine['cpu']}, {machine['usable_cpus']} usable CPUs, {machine['date']}; "
        f"bundled model (ONNX), {result['lines']} lines ({result['passes']} passes over "
        f"{result['data']}), batches of {BATCH}. {result['note']}",
        "",
        "| engine | threads / workers | start-up s | steady lines/s | total s | CPU ms/line | Ray processes CPU ms/line |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in result["runs"]:
        who = (
            f"{row['threads']} thread(s)"
            if row["engine"] == "in-process"
            else f"{row['workers']} worker(s)"
        )
        lines.append(
            f"| {row['engine']} | {who} | {row['startup_s']} | {row['steady_lines_per_s']} | {row['total_s']} | {row['cpu_ms_per_line']} | {row['helpers_cpu_ms_per_line']} |"
        )
    model = result["scaling_model"]
    lines += [
        "",
        "CPU ms/line: the steady state's CPU time per line of the benchmark process (in-process: "
        "the whole engine; Ray: the driver) and of the processes it started (Ray's: actors, "
        "raylet, GCS).",
        "",
        f"Scaling model, lines/s = 1 / (p / W + s), in CPU time per line: the work itself "
        f"{model['work_s_per_line'] * 1000:.2f} ms (in-process, one thread); with Ray "
        f"p = {model['parallel_s_per_line'] * 1000:.2f} ms in the Ray processes (parallel: "
        f"{model['per_worker_lines_per_s']} lines/s per worker) and s = "
        f"{model['serial_s_per_line'] * 1000:.2f} ms in the driver (serial), so Ray adds "
        f"{model['ray_overhead_s_per_line'] * 1000:.2f} ms per line; ceiling "
        f"{model['ceiling_lines_per_s']} lines/s. Two workers here: predicted "
        f"{model['two_workers_predicted_lines_per_s']}, measured "
        f"{model['two_workers_measured_lines_per_s']} lines/s.",
        "",
        f"| nodes (x{model['cores_per_node']} workers) | predicted lines/s |",
        "|---|---|",
    ]
    lines += [f"| {r['nodes']} ({r['workers']}) | {r['lines_per_s']} |" for r in model["predicted"]]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/iam-lines-64/validation"))
    parser.add_argument("--passes", type=int, default=4)
    parser.add_argument("--cores-per-node", type=int, default=2)
    parser.add_argument("--note", default="")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args()
    files = sorted(str(p) for p in args.data.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    paths = files * args.passes
    with tempfile.TemporaryDirectory() as folder:
        model = bundled_onnx(Path(folder))
        runs = [in_process(model, paths, 1), in_process(model, paths, 2)]
        runs += [on_ray(model, paths, 1), on_ray(model, paths, 2)]
    for row in runs:
        print(row)
    info = machine_info("cpu")
    result = {
        "machine": info,
        "data": str(args.data),
        "passes": args.passes,
        "lines": len(paths),
        "batch": BATCH,
        "note": args.note,
        "runs": runs,
        "scaling_model": scaling_model(runs[0], runs[2], runs[3], args.cores_per_node),
    }
    folder = args.out / machine_slug(info)
    atomic_write_text(folder / "bulk-scaling.json", json.dumps(result, indent=2) + "\n")
    atomic_write_text(folder / "bulk-scaling.md", markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
