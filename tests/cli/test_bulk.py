"""`hwr transcribe --engine ray` on real Ray clusters: a local one started by hwr, and one
started with `ray start --head` on 127.0.0.1 that hwr joins with --address."""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import torch
from PIL import Image, ImageDraw
from typer.testing import CliRunner

from hwr_export.cli import app
from hwr_export.export.onnx import export_onnx
from hwr_export.model.checkpoint import contract_for
from hwr_export.model.crnn import CRNN
from hwr_export.model.presets import get_preset

pytest.importorskip("ray", reason="the scale extra (make setup installs it)")
pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
# The test cluster uses Ray's token authentication, as a cluster should; a job joins it with
# the same two variables a user sets (Ray never sends a token to an explicit address unasked).
AUTHENTICATED = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}
runner = CliRunner()


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    net = CRNN(get_preset("tiny")).eval()
    with torch.no_grad():  # varied output instead of one letter per line (see test_runtimes)
        net.proj.weight.mul_(5.0)
        net.head.weight.mul_(5.0)
    path = tmp_path_factory.mktemp("bulk_model") / "tiny.onnx"
    export_onnx(net, contract_for(net.config), path)
    return path


def write_lines(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True)
    paths = []
    for i in range(count):
        width = 60 + (i * 37) % 240
        image = Image.new("L", (width, 32), 250)
        ImageDraw.Draw(image).line([(3, 26), (width - 3, 5 + i % 20)], fill=10, width=2)
        image.save(folder / f"{i:04d}.png")
        paths.append(folder / f"{i:04d}.png")
    return paths


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_local_cluster_gives_the_in_process_transcripts(
    model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without --address hwr starts its own cluster, whatever cluster the environment names.
    monkeypatch.setenv("RAY_ADDRESS", "127.0.0.1:9")
    monkeypatch.chdir(tmp_path)  # relative paths, which the actors (elsewhere) must still read
    write_lines(tmp_path / "lines", 30)
    (tmp_path / "lines" / "broken.png").write_bytes(b"\x89PNG broken")
    (tmp_path / "more.txt").write_text("lines/0003.png\nlines/missing.png\n")  # repeat, missing
    local = tmp_path / "local.jsonl"
    result = runner.invoke(
        app, ["transcribe", str(model), "lines", "lines/missing.png", "-o", str(local)]
    )
    assert result.exit_code == 0, result.output

    on_ray = tmp_path / "ray.jsonl"
    args = ["transcribe", str(model), "lines", "more.txt", "--engine", "ray"]
    result = runner.invoke(app, [*args, "--workers", "2", "--batch-size", "4", "-o", str(on_ray)])
    assert result.exit_code == 0, result.output
    assert on_ray.read_text() == local.read_text()  # same records, same order, errors included
    rows = records(on_ray)
    assert len(rows) == 32 and "cannot read image" in rows[30]["error"]
    assert rows[31]["file"] == "lines/missing.png" and "lines/missing.png:" in rows[31]["error"]

    again = runner.invoke(app, [*args, "-o", str(on_ray)])  # done: nothing to redo
    assert again.exit_code == 0, again.output
    assert "32 of 32 images are in" in again.output and on_ray.read_text() == local.read_text()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def head() -> Iterator[str]:
    """A Ray head node on 127.0.0.1, started as users start one (`ray start --head`)."""
    port = free_port()
    process = subprocess.Popen(
        [str(BIN / "ray"), "start", "--head", "--block", "--port", str(port)]
        + ["--node-ip-address", "127.0.0.1", "--num-cpus", "2", "--include-dashboard", "false"]
        + ["--disable-usage-stats", "--object-store-memory", str(200 * 1024**2)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: stopped below, and nothing else
        env={**os.environ, **AUTHENTICATED},
    )
    address = f"127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                break
        assert process.poll() is None, "ray start --head failed"
        time.sleep(0.5)
    yield address
    stop_group(process)
    # `ray start` names its cluster in ray_current_cluster for ray.init("auto"); without this,
    # other Ray users on the machine would be pointed at a cluster that is gone.
    current = Path(tempfile.gettempdir()) / "ray" / "ray_current_cluster"
    if current.is_file() and current.read_text().strip().endswith(f":{port}"):
        current.unlink()


def stop_group(process: subprocess.Popen) -> None:
    """Stop a process we started and everything it started (its own process group)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            continue
        time.sleep(1)  # the group's other members finish shutting down


def hwr(*args: str, env: dict[str, str] = AUTHENTICATED) -> subprocess.Popen:
    return subprocess.Popen(
        [str(BIN / "hwr"), *args],
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env={**os.environ, **env},
    )


def test_joins_a_cluster_and_writes_parquet(model: Path, head: str, tmp_path: Path) -> None:
    paths = write_lines(tmp_path / "lines", 12)
    local = tmp_path / "local.jsonl"
    assert (
        runner.invoke(app, ["transcribe", str(model), *map(str, paths), "-o", str(local)]).exit_code
        == 0
    )
    manifest = tmp_path / "manifest.jsonl"
    manifest.write_text("".join(json.dumps({"path": f"lines/{p.name}"}) + "\n" for p in paths))

    out = tmp_path / "out.parquet"
    job = hwr(
        "transcribe",
        str(model),
        str(manifest),
        "--engine",
        "ray",
        "--address",
        head,
        "-o",
        str(out),
    )
    _, err = job.communicate(timeout=300)
    assert job.returncode == 0, err
    table = pq.read_table(out).to_pylist()
    expected = records(local)
    assert [r["file"] for r in table] == [r["file"] for r in expected]
    assert [r["text"] for r in table] == [r["text"] for r in expected]
    assert [r["confidence"] for r in table] == [r["confidence"] for r in expected]


def test_joining_without_the_token_is_one_line_naming_the_fix(
    model: Path, head: str, tmp_path: Path
) -> None:
    write_lines(tmp_path / "lines", 1)
    args = ["transcribe", str(model), str(tmp_path / "lines"), "--engine", "ray"]
    job = hwr(*args, "--address", head, "-o", str(tmp_path / "o.jsonl"), env={"RAY_AUTH_MODE": ""})
    _, err = job.communicate(timeout=300)
    assert job.returncode == 1
    errors = [line for line in err.splitlines() if line.startswith("hwr: error:")]
    assert len(errors) == 1 and f"cannot join the Ray cluster at {head}" in errors[0]
    assert "set RAY_AUTH_MODE=token and its token in RAY_AUTH_TOKEN" in errors[0]
    assert "Traceback" not in err


def test_a_killed_job_reruns_losing_nothing_and_repeating_nothing(
    model: Path, head: str, tmp_path: Path
) -> None:
    paths = write_lines(tmp_path / "lines", 400)
    out = tmp_path / "out.jsonl"
    args = ["transcribe", str(model), str(tmp_path / "lines"), "--engine", "ray"]
    args += ["--address", head, "--batch-size", "2", "-o", str(out)]

    job = hwr(*args)
    deadline = time.time() + 240
    while time.time() < deadline and job.poll() is None:
        if out.exists() and out.read_text().count("\n") >= 20:
            break
        time.sleep(0.05)
    assert job.poll() is None, "the job ended before it could be killed: " + job.stderr.read()
    job.send_signal(signal.SIGKILL)
    job.wait()
    job.stderr.close()
    kept = out.read_text().count("\n")
    assert 20 <= kept < len(paths)

    rerun = hwr(*args)
    _, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err
    assert f"{kept} of {len(paths)} images are in {out} already" in err
    files = [r["file"] for r in records(out)]
    assert sorted(files) == sorted(map(str, paths))  # nothing lost
    assert len(files) == len(set(files))  # nothing repeated


def test_ray_options_need_the_ray_engine(model: Path, tmp_path: Path) -> None:
    write_lines(tmp_path / "lines", 1)
    result = runner.invoke(
        app, ["transcribe", str(model), str(tmp_path / "lines"), "--workers", "2"]
    )
    assert (
        result.exit_code == 1
        and "--address and --workers are options of --engine ray" in result.output
    )
    result = runner.invoke(app, ["transcribe", str(model), str(tmp_path), "--engine", "ray"])
    assert result.exit_code == 1 and "--engine ray writes to --output FILE" in result.output


def test_missing_ray_is_one_line(
    model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_lines(tmp_path / "lines", 1)
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray fails, as without the extra
    args = ["transcribe", str(model), str(tmp_path / "lines"), "--engine", "ray"]
    result = runner.invoke(app, [*args, "-o", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 1
    assert (
        result.output.strip()
        == "hwr: error: --engine ray needs Ray: pip install 'hwr[scale]' (ray[data])"
    )
