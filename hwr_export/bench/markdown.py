"""The benchmark as a Markdown section for a README: results, machine, method, published context."""

from __future__ import annotations

from typing import Any

from hwr_export.bench.table import PUBLISHED_REFERENCE, speedup_sentences, table_rows


def _table(header: list[str], body: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "/") for cell in row) + " |" for row in body]
    return lines


def _machine_lines(result: dict[str, Any]) -> list[str]:
    m = result["machine"]
    v = m["versions"]
    libs = ", ".join(f"{k} {val}" for k, val in v.items() if val)
    return [
        f"- Device: **{m['device']}**; CPU: {m['cpu']} ({m['physical_cores']} cores, "
        f"{m['usable_cpus']} usable); GPU: {m['gpu'] or 'none'}",
        f"- Threads: torch {m['threads']['torch']}, onnxruntime {m['threads']['onnxruntime']}"
        f" x {m['threads']['onnxruntime_parallel_batches']} batches at once"
        + (" (default)" if m["threads"]["requested"] is None else " (--threads)"),
        f"- Libraries: {libs}",
        f"- Platform: {m['platform']}; date: {m['date']}",
    ]


def _method_lines(result: dict[str, Any]) -> list[str]:
    s, d = result["settings"], result["data"]
    return [
        f"- Data: {d['lines']} lines of `{d['spec']}` (split {d['split']}), mean model-input "
        f"width {d['mean_input_width']:.0f} px.",
        "- Latency: wall time of one `Recognizer.transcribe` call on one line (preprocess, "
        f"inference, greedy decode), after {s['warmup']} warm-up lines; p50/p95 over all lines.",
        "- Throughput: lines/s over the whole set at each batch size.",
        "- Cold start: model load to first transcript, in an already running process.",
        f"- Peak RSS: {result['memory_note']}",
        "- CER/WER: corpus level (jiwer), from the batch-1 pass; dCER: percentage points above the PyTorch original; "
        "agree: share of lines whose transcript equals the original's; char agree: 1 - CER "
        "of the format's transcripts against the original's (the gate's test for int8/fp16).",
    ]


def _published_lines() -> list[str]:
    pub = PUBLISHED_REFERENCE
    acc = pub["accuracy"]
    lines = [
        f"For context, {pub['source']} (other hardware, other data): CER {100 * acc['cer']:.2f}% / WER {100 * acc['wer']:.2f}% "
        f"on {acc['split']}.",
        "",
    ]
    body = [[row["hardware"], f"{row['low']}-{row['high']}"] for row in pub["latency_ms_per_line"]]
    return lines + _table(["hardware", "ms/line"], body)


def format_markdown(result: dict[str, Any]) -> str:
    """A self-contained Markdown section (tables, machine, method, published reference)."""
    model = result["model"]
    out = [
        f"## Benchmark: {model['preset']} model on {result['machine']['device']}",
        "",
        f"Model `{model['name']}` (sha256 {model['sha256'][:12]}, "
        f"{model['parameters']:,} parameters, {model['input_height']} px input).",
        "",
    ]
    header, body = table_rows(result)
    out += _table(header, body)
    out.append("")
    ref = result["reference"]
    if ref:
        out.append(
            f"The `{ref['preset']}` row is the reference architecture replica with random "
            f"weights, timed on {ref['lines']} of the same lines in the same run: its accuracy "
            "is not measured and not shown."
        )
        out.append("")
        out += [f"- **{s}**" for s in speedup_sentences(result)]
        out.append("")
    if result.get("decoding"):
        from hwr_export.bench.lm import decoding_lines

        out += decoding_lines(result["decoding"])[1:] + [""]
    parity = result["parity"]
    if parity["checked"]:
        verdict = "passed" if parity["passed"] else "**FAILED**"
        out.append(f"Parity gate: {verdict}.")
        out += [f"- {f['format']}: {f['reason']}" for f in parity["failures"]]
        out.append("")
    out += ["### Machine", ""] + _machine_lines(result) + [""]
    out += ["### Method", ""] + _method_lines(result) + [""]
    out += ["### Reference model, published", ""] + _published_lines() + [""]
    return "\n".join(out)
