"""`hwr bench` / `hwr parity`: end-to-end on a tiny checkpoint and synthetic lines, the parity
gate passing on faithful exports and failing on a corrupted one, and the pure helpers.

No timing assertions: only that timings exist and are positive.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from hwr_export.bench import gate, machine, metrics
from hwr_export.bench.exports import file_digest, parse_batch_sizes, parse_formats
from hwr_export.bench.results import FormatResult
from hwr_export.cli import app
from runtimes.errors import HwrError
from runtimes.formats import FORMATS

DATA = "synthetic:4"
FP32 = "torch,torchscript,onnx"


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from hwr_export.model.checkpoint import save_checkpoint
    from hwr_export.model.crnn import CRNN
    from hwr_export.model.presets import get_preset

    torch.manual_seed(3)
    model = CRNN(get_preset("tiny")).eval()
    # Untrained, the blank wins every frame and every transcript is empty, which no corruption
    # could change. Without the blank each line reads as a string of characters instead.
    with torch.no_grad():
        model.head.bias[0] = -10.0
    path = tmp_path_factory.mktemp("model") / "tiny.safetensors"
    save_checkpoint(model, path)
    return path


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Shared by the tests that need faithful exports, so each format is exported once."""
    return tmp_path_factory.mktemp("exports")


def _bench(*args: str) -> object:
    return CliRunner().invoke(app, ["bench", *args, "--threads", "1", "--no-progress"])


# --- end to end ---------------------------------------------------------------------------


def test_bench_writes_json_markdown_and_png(
    tiny_checkpoint: Path, cache_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = _bench(
        str(tiny_checkpoint),
        *("--data", DATA, "--formats", "torch,onnx,onnx-int8", "--batch-sizes", "1,2"),
        *("--cache-dir", str(cache_dir), "--seed-lines", "1"),
        *("--json", str(out / "r.json"), "--markdown", str(out / "r.md")),
        *("--plot", str(out / "r.png")),
    )
    assert result.exit_code == 0, result.output
    report = json.loads((out / "r.json").read_text())
    assert report["data"]["lines"] == 4
    assert report["command"].startswith(f"hwr bench {tiny_checkpoint} --data {DATA}")
    assert "--formats torch,onnx,onnx-int8" in report["command"]
    assert [r["format"] for r in report["formats"]] == ["torch", "onnx", "onnx-int8"]
    for row in report["formats"]:
        assert row["error"] is None
        for key in ("cer", "wer", "cer_delta_points", "agreement", "file_bytes"):
            assert row[key] is not None, key
        assert row["latency_ms"]["p50"] > 0 and row["latency_ms"]["count"] == 4
        assert set(row["throughput_lines_per_s"]) == {"1", "2"}
        assert row["cold_start_ms"] > 0
        assert row["multiply_adds_per_line"] > 0
    torch_row = report["formats"][0]
    assert torch_row["cer_delta_points"] == 0 and torch_row["agreement"] == 1
    ref = report["reference"]
    assert ref["preset"] == "seed" and ref["lines"] == 1
    assert "random" in ref["weights"] and "cer" not in ref  # timing only, never accuracy
    assert ref["multiply_adds_per_line"] > 10 * torch_row["multiply_adds_per_line"]
    # torch and fp32 ONNX always, plus the fastest format of this run when it is neither.
    fastest = min(report["formats"], key=lambda r: r["latency_ms"]["p50"])["format"]
    compared = [s["format"] for s in ref["speedup"]]
    assert compared == ["torch", "onnx"] + ([fastest] if fastest == "onnx-int8" else [])
    assert all(s["ratio"] > 0 and s["ours_p50_ms"] > 0 for s in ref["speedup"])
    assert report["machine"]["device"] == "cpu"
    assert report["parity"]["checked"] is False
    # The exports are cached under the checkpoint's hash.
    assert (cache_dir / file_digest(tiny_checkpoint)[:16] / "tiny.int8.onnx").is_file()
    md = (out / "r.md").read_text()
    assert "| torch |" in md and "faster than the reference architecture" in md
    assert "12.95%" in md  # the published reference figures, for context
    assert (out / "r.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "onnx-int8" in result.stdout


def test_parity_passes_on_faithful_exports(tiny_checkpoint: Path, cache_dir: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["parity", str(tiny_checkpoint), "--data", DATA, "--formats", FP32]
        + ["--cache-dir", str(cache_dir), "--threads", "1", "--no-progress"],
    )
    assert result.exit_code == 0, result.output
    assert "parity passed" in result.stdout


def _corrupt_onnx_weights(path: Path) -> None:
    """Scramble the largest weight matrix in place; graph and metadata stay as exported."""
    import onnx
    from onnx import numpy_helper

    proto = onnx.load(str(path))
    target = max(proto.graph.initializer, key=lambda t: int(np.prod(t.dims)))
    weights = numpy_helper.to_array(target)
    rng = np.random.default_rng(0)
    scrambled = rng.permutation(weights.ravel()).reshape(weights.shape) * 4.0
    target.CopyFrom(numpy_helper.from_array(scrambled.astype(weights.dtype), target.name))
    onnx.save(proto, str(path))


def test_parity_fails_on_corrupted_onnx_and_names_it(tiny_checkpoint: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    args = [str(tiny_checkpoint), "--data", DATA, "--formats", FP32, "--cache-dir", str(cache)]
    first = CliRunner().invoke(app, ["parity", *args, "--threads", "1", "--no-progress"])
    assert first.exit_code == 0, first.output
    onnx_file = cache / file_digest(tiny_checkpoint)[:16] / "tiny.onnx"
    _corrupt_onnx_weights(onnx_file)
    metadata_before = {p.key for p in __import__("onnx").load(str(onnx_file)).metadata_props}
    assert "hwr_contract" in metadata_before  # still a well-formed hwr model, just wrong

    result = _bench(*args, "--check", "--no-vs-seed", "--json", str(tmp_path / "r.json"))
    assert result.exit_code != 0
    assert "parity FAILED: onnx:" in result.stderr
    assert "torchscript" not in result.stderr  # only the broken format is named
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["parity"]["passed"] is False
    assert {f["format"] for f in report["parity"]["failures"]} == {"onnx"}
    onnx_row = next(r for r in report["formats"] if r["format"] == "onnx")
    assert onnx_row["agreement"] < 0.95


def test_cuda_request_without_gpu_is_one_line_error(tiny_checkpoint: Path) -> None:
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    result = _bench(str(tiny_checkpoint), "--data", DATA, "--device", "cuda")
    assert result.exit_code == 1
    assert "cuda" in result.stderr.lower() and len(result.stderr.strip().splitlines()) == 1


def test_bench_refuses_an_exported_file_as_the_original(tmp_path: Path) -> None:
    fake = tmp_path / "model.onnx"
    fake.write_bytes(b"not a checkpoint")
    result = _bench(str(fake), "--data", DATA)
    assert result.exit_code == 1 and "checkpoint" in result.stderr


# --- helpers ------------------------------------------------------------------------------


def test_machine_info_has_the_keys() -> None:
    info = machine.machine_info("cpu", threads=1)
    for key in ("cpu", "physical_cores", "logical_cpus", "gpu", "device", "threads", "date"):
        assert key in info, key
    assert info["threads"]["torch"] == 1 and info["threads"]["onnxruntime"] == 1
    for lib in ("python", "torch", "onnxruntime", "onnx", "numpy"):
        assert info["versions"][lib], lib
    assert machine.machine_slug(info).startswith("cpu-")


def test_cpu_model_and_cores_from_cpuinfo() -> None:
    text = (
        "processor\t: 0\nphysical id\t: 0\ncore id\t: 0\nmodel name\t: Example CPU 9000\n\n"
        "processor\t: 1\nphysical id\t: 0\ncore id\t: 0\n\nprocessor\t: 2\nphysical id\t: 0\n"
        "core id\t: 1\n"
    )
    assert machine.cpu_model(text) == "Example CPU 9000"
    assert machine.physical_cores(text) == 2  # hyper-threads share a core


def test_error_rates_and_agreement() -> None:
    assert metrics.character_error_rate(["abcd", "xy"], ["abXd", "xy"]) == pytest.approx(1 / 6)
    assert metrics.word_error_rate(["a b", "c d"], ["a b", "c e"]) == pytest.approx(1 / 4)
    assert metrics.character_error_rate([""], ["x"]) is None
    assert metrics.agreement(["a", "b", "c", "d"], ["a", "b", "c", "x"]) == 0.75
    assert metrics.char_agreement(["abcd", "ef"], ["abcx", "ef"]) == pytest.approx(5 / 6)
    acc = metrics.score(["abcd"], ["abcd"], ["abXd"])
    assert acc.cer == 0 and acc.cer_delta_points == pytest.approx(-25.0) and acc.agreement == 0


def test_gate_limits_per_precision() -> None:
    row = FormatResult
    rows = [
        row("torch", cer=0.10, cer_delta_points=0.0, agreement=1.0),
        row("onnx", cer=0.1015, cer_delta_points=0.15, agreement=0.99),
        row("onnx-int8", cer=0.1015, cer_delta_points=0.15, agreement=0.6, char_agreement=0.99),
        row("onnx-fp16", cer=0.10, cer_delta_points=0.0, agreement=0.5, char_agreement=0.95),
        row("torchscript", error="RuntimeError: boom"),
    ]
    failures = gate.check_parity(rows, gate.Thresholds())
    assert [f.format for f in failures] == ["onnx", "onnx-fp16", "torchscript"]
    assert "limit +0.10" in failures[0].reason and "5.00% of characters" in failures[1].reason
    better = [row("onnx", cer=0.05, cer_delta_points=-5.0, agreement=1.0)]
    assert gate.check_parity(better, gate.Thresholds()) == []
    assert gate.Thresholds.from_options(0.2, 1.0, 0.9).for_format("onnx-int8") == (1.0, 0.9)
    assert gate.Thresholds.from_options(0.2, 1.0, None).for_format("onnx") == (0.2, 0.95)


def test_format_and_batch_parsing() -> None:
    assert parse_formats(None, "cpu") == ["torch", "torchscript", "onnx", "onnx-int8"]
    assert parse_formats(None, "cuda") == ["torch", "onnx", "onnx-fp16"]
    assert parse_formats("onnx,onnx", "cpu") == ["torch", "onnx"]  # the original always runs
    assert set(parse_formats(",".join(FORMATS), "cpu")) == set(FORMATS)
    with pytest.raises(HwrError, match="onnx-int4"):
        parse_formats("onnx-int4", "cpu")
    assert parse_batch_sizes("16,1,16") == [1, 16]
    with pytest.raises(HwrError):
        parse_batch_sizes("0")


def test_a_format_that_cannot_load_fails_the_gate(tiny_checkpoint: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    args = [str(tiny_checkpoint), "--data", DATA, "--formats", FP32, "--cache-dir", str(cache)]
    assert CliRunner().invoke(app, ["parity", *args, "--no-progress"]).exit_code == 0
    (cache / file_digest(tiny_checkpoint)[:16] / "tiny.ts").write_bytes(b"truncated")
    result = CliRunner().invoke(app, ["parity", *args, "--no-progress"])
    assert result.exit_code == 1
    assert "parity FAILED: torchscript: did not run" in result.stderr
    assert "torchscript  error:" in result.stdout  # the table still shows the other formats


SPECS = sorted((Path(__file__).parents[2] / "benchmarks" / "specs").glob("*.json"))


@pytest.mark.parametrize("spec", SPECS, ids=[s.stem for s in SPECS])
def test_benchmark_specs_parse_as_commands(spec: Path) -> None:
    """Every recorded spec is still a valid `hwr` command line (options are not run)."""
    import typer.main

    from hwr_export.bench.spec import spec_argv

    argv = spec_argv(spec)
    assert json.loads(spec.read_text())["command"] == "hwr " + " ".join(argv)
    group = typer.main.get_command(app)
    command = group.get_command(group.make_context("hwr", list(argv)), argv[0])
    command.make_context(argv[0], argv[1:])  # raises on an unknown or malformed option


def test_spec_runner_rejects_other_commands(tmp_path: Path) -> None:
    from hwr_export.bench.spec import spec_argv

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"argv": ["push", "x"]}))
    with pytest.raises(HwrError, match="only bench and parity"):
        spec_argv(bad)


@pytest.mark.parametrize(
    ("p50_ms", "expected"),
    [
        ({"torch": 3.0, "onnx": 2.0, "onnx-int8": 1.0}, ["torch", "onnx", "onnx-int8"]),
        ({"torch": 3.0, "onnx": 1.0, "onnx-int8": 2.0}, ["torch", "onnx"]),
        ({"torch": 1.0, "onnx": 2.0, "onnx-int8": 3.0}, ["torch", "onnx"]),
    ],
)
def test_the_reference_is_compared_with_torch_onnx_and_the_fastest(
    p50_ms: dict[str, float], expected: list[str]
) -> None:
    from hwr_export.bench.measure import Measurement
    from hwr_export.bench.reference import compared_formats
    from hwr_export.bench.timing import summarize_latency

    measurements = [
        Measurement(name, "onnx", Path(name), latency=summarize_latency([ms / 1000] * 3))
        for name, ms in p50_ms.items()
    ]
    broken = Measurement("torchscript", "torchscript", Path("x"), error="did not load")
    assert compared_formats([*measurements, broken]) == expected
