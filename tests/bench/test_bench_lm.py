"""`hwr bench --lm`: greedy and LM decoding rows next to each other (no timing assertions)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from hwr_export.cli import app
from runtimes.lm import LmWeights

pytest.importorskip("kenlm", reason="the lm extra (make setup installs it)")


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from hwr_export.model.checkpoint import save_checkpoint
    from hwr_export.model.crnn import CRNN
    from hwr_export.model.presets import get_preset

    torch.manual_seed(3)
    model = CRNN(get_preset("tiny")).eval()
    with torch.no_grad():  # untrained, the blank would win every frame (see test_bench)
        model.head.bias[0] = -10.0
    path = tmp_path_factory.mktemp("model") / "tiny.safetensors"
    save_checkpoint(model, path)
    return path


def test_bench_lm_adds_decoding_rows(tiny_checkpoint: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    result = CliRunner().invoke(
        app,
        [
            "bench", str(tiny_checkpoint), "--data", "synthetic:3", "--formats", "onnx",
            "--batch-sizes", "1", "--no-vs-seed", "--threads", "1", "--no-progress",
            "--cache-dir", str(tmp_path / "cache"), "--lm", "en", "--json", str(out),
            "--markdown", str(tmp_path / "r.md"),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    decoding = json.loads(out.read_text())["decoding"]
    assert [row["decoding"] for row in decoding["rows"]] == ["greedy", "lm:en"]
    for row in decoding["rows"]:
        assert row["cer"] >= 0 and row["wer"] >= 0
        assert row["decode_ms_median"] > 0 and row["line_ms_median"] >= row["decode_ms_median"]
    assert decoding["lm"].endswith("lm-en.binary") and decoding["weights"] == asdict(LmWeights())
    assert "| lm:en |" in result.stdout and "| lm:en |" in (tmp_path / "r.md").read_text()


def test_bench_with_a_bad_lm_is_a_one_line_error(tiny_checkpoint: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.arpa"
    bad.write_text("nonsense")
    result = CliRunner().invoke(
        app,
        [
            "bench", str(tiny_checkpoint), "--data", "synthetic:2", "--formats", "onnx",
            "--batch-sizes", "1", "--no-vs-seed", "--no-progress",
            "--cache-dir", str(tmp_path / "cache"), "--lm", str(bad),
        ],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "not an ARPA or KenLM binary language model" in result.output
