"""Load on `hwr serve` over 127.0.0.1: lines/s and latency, with and without micro-batching.

    python benchmarks/serve_load.py --data ../shared/data/iam-lines-64

Two servers run side by side on loopback, the same model and settings except the batching:
`--max-batch-size 1` (every line its own model call) and micro-batching (`--max-batch-size 16
--max-wait-ms 5`). A bounded load generator (aiohttp, asyncio) sends each of the same N lines
once per cell, one line per request as raw image/png, from `c` concurrent clients, for c in
--concurrency. The client shares the machine's cores with the servers, so it should cost them
as little as possible: aiohttp spends about a tenth of httpx's CPU per request here (0.2-0.4 ms
against 1.5-1.7 ms a line), and each cell records the CPU the client and the server spent per
line; cells are interleaved (rep by rep, batch-1 and micro-batching in turn), so drift
in the machine's load hits both alike. In-process `Recognizer.transcribe_paths` (what `hwr
transcribe` runs) on the same files, batch 1 and 16, is timed in the same run for comparison.

Writes benchmarks/results/<machine>/serve-load.{json,md}: per cell the median lines/s over the
reps, p50/p95 latency over all requests of the cell, the mean lines per model micro-batch (from
the server's /metrics), the machine, and the load average before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp  # noqa: E402
import httpx  # noqa: E402

from hwr_export.atomic import atomic_write_text  # noqa: E402
from hwr_export.bench.exports import ensure_exports, export_folder  # noqa: E402
from hwr_export.bench.machine import machine_info, machine_slug  # noqa: E402
from hwr_export.data.sources import open_lines  # noqa: E402
from hwr_export.model.source import resolve_model  # noqa: E402
from runtimes.recognizer import Recognizer  # noqa: E402
from runtimes.threads import plan_threads  # noqa: E402

MODES = {  # name -> `hwr serve` batching options
    "batch-1": ["--max-batch-size", "1", "--max-wait-ms", "0"],
    "micro-batching": ["--max-batch-size", "16", "--max-wait-ms", "5"],
}
WARMUP_REQUESTS = 8


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(
    model: Path, mode: str, threads: int | None, log: Path
) -> tuple[subprocess.Popen, str]:
    port = free_port()
    command = [sys.executable, "-m", "hwr_export.cli", "serve", str(model), "--port", str(port)]
    command += ["--timeout", "120", *MODES[mode]]
    if threads is not None:
        command += ["--threads", str(threads)]
    process = subprocess.Popen(command, stdout=log.open("w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while process.poll() is None and time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/health").status_code == 200:
                return process, url
        time.sleep(0.2)
    process.kill()
    raise SystemExit(f"hwr: error: the {mode} server did not start; see {log}")


async def load(url: str, bodies: list[bytes], concurrency: int) -> tuple[float, list[float]]:
    """Send every body once from ``concurrency`` clients; (wall seconds, per-request seconds)."""
    latencies: list[float] = []
    next_index = iter(range(len(bodies)))
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=120)
    headers = {"Content-Type": "image/png"}
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as client:

        async def worker() -> None:
            for i in next_index:
                start = time.perf_counter()
                async with client.post(f"{url}/transcribe", data=bodies[i], headers=headers) as r:
                    body = await r.read()
                latencies.append(time.perf_counter() - start)
                if r.status != 200:
                    raise RuntimeError(f"{url}: {r.status} {body[:200]!r}")

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - start, latencies


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU seconds of this process, or of process ``pid`` (Linux /proc)."""
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


COUNTERS = ("hwr_batch_lines_sum", "hwr_batch_lines_count", "hwr_model_batch_lines_count")


def batch_counts(url: str) -> dict[str, float]:
    """Lines, micro-batches and model calls run so far, from the server's /metrics."""
    values = {}
    for row in httpx.get(f"{url}/metrics").text.splitlines():
        name, _, value = row.partition(" ")
        if name in COUNTERS:
            values[name] = float(value)
    return values


def run_cells(
    servers: dict[str, tuple[str, int]], bodies: list[bytes], concurrencies: list[int], reps: int
) -> dict[tuple[str, int], dict[str, list[float]]]:
    """Every (mode, concurrency) cell ``reps`` times, interleaved; rates, latencies, batch sizes,
    and the CPU seconds per line of the client and of the server (``servers``: mode -> url, pid).
    """
    cells: dict[tuple[str, int], dict[str, list[float]]] = {}
    for rep in range(reps):
        for c in concurrencies:
            for mode, (url, pid) in servers.items():
                before = batch_counts(url)
                client_cpu, server_cpu = cpu_seconds(), cpu_seconds(pid)
                wall, latencies = asyncio.run(load(url, bodies, c))
                client_cpu, server_cpu = cpu_seconds() - client_cpu, cpu_seconds(pid) - server_cpu
                ran = {k: v - before[k] for k, v in batch_counts(url).items()}
                cell = cells.setdefault(
                    (mode, c),
                    {"rates": [], "latencies": [], "micro": [], "model": [], "cpu": [], "ccpu": []},
                )
                cell["rates"].append(len(bodies) / wall)
                cell["cpu"].append(server_cpu / len(bodies))
                cell["ccpu"].append(client_cpu / len(bodies))
                cell["latencies"] += latencies
                lines_run = ran["hwr_batch_lines_sum"]
                cell["micro"].append(lines_run / ran["hwr_batch_lines_count"])
                cell["model"].append(lines_run / ran["hwr_model_batch_lines_count"])
                print(f"rep {rep + 1} c={c:>2} {mode:>14}: {len(bodies) / wall:6.1f} lines/s")
    return cells


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def in_process(
    model: Path, paths: list[Path], threads: int | None, batch_size: int, reps: int
) -> float:
    recognizer = Recognizer.load(model, threads=threads)
    list(recognizer.transcribe_paths(paths[:WARMUP_REQUESTS], batch_size))
    rates = []
    for _ in range(reps):
        start = time.perf_counter()
        results = list(recognizer.transcribe_paths(paths, batch_size))
        rates.append(len(results) / (time.perf_counter() - start))
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default=None, help="default: the bundled model")
    parser.add_argument("--data", default="../shared/data/iam-lines-64")
    parser.add_argument("--split", default="validation")
    parser.add_argument("--lines", type=int, default=96, help="requests per cell, one line each")
    parser.add_argument("--concurrency", default="1,8,32")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="ONNX Runtime intra-op threads, one batch at a time (default: hwr's thread plan, "
        "one thread a batch and one batch per core, as `hwr serve` runs without --threads)",
    )
    parser.add_argument("--note", default="", help="stored with the results (e.g. machine load)")
    parser.add_argument(
        "--max-batch-size",
        type=int,
        default=16,
        help="lines per micro-batch of the micro-batching server (hwr serve's default: 16)",
    )
    parser.add_argument("--name", default="serve-load")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args()

    MODES["micro-batching"][1] = str(args.max_batch_size)
    checkpoint = resolve_model(args.model)
    model = checkpoint
    if checkpoint.suffix == ".safetensors":
        exported, errors = ensure_exports(checkpoint, export_folder(checkpoint, None), ["onnx"])
        if errors:
            raise SystemExit(f"hwr: error: {errors['onnx']}")
        model = exported["onnx"]
    samples = open_lines(args.data, args.split, limit=args.lines)
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="hwr-serve-load-") as scratch:
        paths, bodies = [], []
        for i, sample in enumerate(samples):
            buffer = io.BytesIO()
            sample.image.save(buffer, format="PNG")
            bodies.append(buffer.getvalue())
            paths.append(Path(scratch) / f"line-{i:04d}.png")
            paths[-1].write_bytes(bodies[-1])
        servers = {
            m: start_server(model, m, args.threads, Path(scratch) / f"{m}.log") for m in MODES
        }
        try:
            for _, url in servers.values():
                asyncio.run(load(url, bodies[:WARMUP_REQUESTS], 1))
            cells = run_cells(
                {m: (url, process.pid) for m, (process, url) in servers.items()},
                bodies,
                concurrencies,
                args.reps,
            )
        finally:
            for process, _ in servers.values():
                process.terminate()
                process.wait(60)
        direct = {b: in_process(model, paths, args.threads, b, args.reps) for b in (1, 16)}
    rows = [
        {
            "serving": mode,
            "concurrency": c,
            "lines_per_s": round(statistics.median(cell["rates"]), 1),
            "p50_ms": round(percentile(cell["latencies"], 0.50) * 1000, 1),
            "p95_ms": round(percentile(cell["latencies"], 0.95) * 1000, 1),
            "lines_per_micro_batch": round(statistics.mean(cell["micro"]), 2),
            "lines_per_model_call": round(statistics.mean(cell["model"]), 2),
            "server_cpu_ms_per_line": round(1000 * statistics.median(cell["cpu"]), 2),
            "client_cpu_ms_per_line": round(1000 * statistics.median(cell["ccpu"]), 2),
            "rates": [round(r, 1) for r in cell["rates"]],
        }
        for (mode, c), cell in sorted(cells.items(), key=lambda kv: (kv[0][1], kv[0][0]))
    ]
    top = max(concurrencies)
    # Paired: each rep ran the two servers back to back, so their ratio sees the same load.
    ratios = [
        m / b
        for m, b in zip(
            cells[("micro-batching", top)]["rates"], cells[("batch-1", top)]["rates"], strict=True
        )
    ]
    result = {
        "model": model.name,
        "data": f"{args.data} [{args.split}], {len(bodies)} lines",
        "mean_width_px": round(statistics.mean(s.image.width for s in samples)),
        "threads": args.threads,
        "thread_plan": plan_threads("onnx", "cpu", args.threads).to_json(),
        "reps": args.reps,
        "modes": {m: " ".join(o) for m, o in MODES.items()},
        "rows": rows,
        "in_process_lines_per_s": {f"batch {b}": round(v, 1) for b, v in direct.items()},
        "speedup_at_top_concurrency": round(statistics.median(ratios), 2),
        "speedup_per_rep": [round(r, 2) for r in ratios],
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "note": args.note,
        "machine": machine_info("cpu", args.threads),
    }
    folder = args.out / machine_slug(result["machine"])
    atomic_write_text(folder / f"{args.name}.json", json.dumps(result, indent=2) + "\n")
    atomic_write_text(folder / f"{args.name}.md", markdown(result, top))
    print(markdown(result, top))
    print(f"wrote {folder / args.name}.json and .md")


def markdown(result: dict[str, Any], top: int) -> str:
    machine = result["machine"]
    lines = [
        "| serving | concurrency | lines/s | p50 ms | p95 ms | lines per micro-batch "
        "| lines per model call | CPU ms/line server | CPU ms/line client |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        lines.append(
            f"| {r['serving']} | {r['concurrency']} | {r['lines_per_s']} | {r['p50_ms']} | "
            f"{r['p95_ms']} | {r['lines_per_micro_batch']} | {r['lines_per_model_call']} | "
            f"{r['server_cpu_ms_per_line']} | {r['client_cpu_ms_per_line']} |"
        )
    for name, value in result["in_process_lines_per_s"].items():
        lines.append(f"| in-process `transcribe`, {name} | - | {value} | - | - | - | - | - | - |")
    lines += [
        "",
        f"Micro-batching / batch-1 at concurrency {top}: **{result['speedup_at_top_concurrency']}x** "
        f"(median of the per-rep ratios {result['speedup_per_rep']}).",
        "",
        f"{result['data']} (mean width {result['mean_width_px']} px), one line per request, "
        f"{result['reps']} interleaved reps (median lines/s; latency percentiles over all "
        f"requests); model `{result['model']}`, ONNX Runtime: {result['thread_plan']['rule']}; "
        f"client and servers on the same machine: {machine['cpu']}, {machine['usable_cpus']} "
        f"usable cores, {machine['date']}; load average {result['load_average_before']} before, "
        f"{result['load_average_after']} after.",
    ]
    if result["note"]:
        lines += ["", result["note"]]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
