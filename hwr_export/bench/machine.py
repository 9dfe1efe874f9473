"""What machine a benchmark ran on: CPU, GPU, library versions, threads, date.

A number without its machine is not a result, so every report carries this record.
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import re
from importlib import metadata
from pathlib import Path
from typing import Any

from runtimes.threads import plan_threads, usable_cpus

LIBRARIES = ("torch", "onnxruntime", "onnxruntime-gpu", "onnx", "numpy", "jiwer")


def cpu_model(cpuinfo: str | None = None) -> str:
    """The CPU's marketing name from /proc/cpuinfo, else what ``platform`` knows."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
        except OSError:
            cpuinfo = ""
    match = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
    if match:
        return match.group(1).strip()
    return platform.processor() or platform.machine() or "unknown"


def physical_cores(cpuinfo: str | None = None) -> int | None:
    """Distinct (physical id, core id) pairs; None when /proc/cpuinfo does not say."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
    cores: set[tuple[str, str]] = set()
    physical = "0"
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "physical id":
            physical = value.strip()
        elif key == "core id":
            cores.add((physical, value.strip()))
    return len(cores) or None


def library_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def gpu_name() -> str | None:
    """Name of the first CUDA device torch sees, or None (no GPU, or a CPU-only build)."""
    try:
        import torch

        if torch.cuda.is_available():
            return torch.cuda.get_device_name(0)
    except Exception:  # a broken CUDA install must not break a CPU benchmark
        return None
    return None


def onnxruntime_providers() -> list[str]:
    try:
        import onnxruntime

        return list(onnxruntime.get_available_providers())
    except ImportError:
        return []


def threads_used(requested: int | None, device: str = "cpu") -> dict[str, Any]:
    """The thread counts in effect; ``None`` requested means the default plan
    (``runtimes.threads``): for ONNX Runtime on the CPU, one intra-op thread a batch and
    batches side by side; PyTorch keeps its own default."""
    import torch

    onnx = plan_threads("onnx", device, requested)
    return {
        "requested": requested,
        "torch": requested or torch.get_num_threads(),
        # ORT's own default intra-op pool has one thread per physical core.
        "onnxruntime": onnx.intra_op or physical_cores() or usable_cpus(),
        "onnxruntime_parallel_batches": onnx.parallel_batches,
        "onnxruntime_rule": onnx.rule,
    }


def machine_info(device: str, threads: int | None = None) -> dict[str, Any]:
    """The full machine record stored in every benchmark result."""
    return {
        "cpu": cpu_model(),
        "physical_cores": physical_cores(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": usable_cpus(),
        "platform": platform.platform(),
        "gpu": gpu_name(),
        "device": device,
        "onnxruntime_providers": onnxruntime_providers(),
        "threads": threads_used(threads, device),
        "versions": library_versions(),
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


def machine_slug(info: dict[str, Any]) -> str:
    """A folder name for results: device, then GPU or CPU model and core count."""
    name = info.get("gpu") if info.get("device") == "cuda" else info.get("cpu")
    slug = re.sub(r"[^a-z0-9]+", "-", str(name or "unknown").lower()).strip("-")
    slug = re.sub(r"-(processor|cpu|with-radeon-graphics)$", "", slug)[:40].strip("-")
    cores = info.get("usable_cpus") or info.get("logical_cpus")
    return f"{info.get('device', 'cpu')}-{slug}-{cores}c"
