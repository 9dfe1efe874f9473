"""`hwr transcribe` end to end through the Typer app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from PIL import Image, ImageDraw
from typer.testing import CliRunner

import hwr_export.model.source as model_source
from hwr_export.cli import app
from hwr_export.export.onnx import export_onnx
from hwr_export.model.checkpoint import contract_for, save_checkpoint
from hwr_export.model.crnn import CRNN
from hwr_export.model.presets import get_preset
from runtimes.decode import WORD

runner = CliRunner()


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("cli_models")
    model = CRNN(get_preset("tiny")).eval()
    with torch.no_grad():  # varied output instead of one letter per line (see test_runtimes)
        model.proj.weight.mul_(5.0)
        model.head.weight.mul_(5.0)
    save_checkpoint(model, folder / "tiny.safetensors")
    export_onnx(model, contract_for(model.config), folder / "tiny.onnx")
    return {"onnx": folder / "tiny.onnx", "torch": folder / "tiny.safetensors"}


@pytest.fixture
def images(tmp_path: Path) -> Path:
    """lines/a.png, lines/b.jpg, lines/sub/c.png, lines/broken.png, lines/notes.txt"""
    root = tmp_path / "lines"
    (root / "sub").mkdir(parents=True)
    for name, width in [("a.png", 120), ("b.jpg", 200), ("sub/c.png", 90)]:
        image = Image.new("L", (width, 40), 250)
        ImageDraw.Draw(image).line([(5, 30), (width - 5, 8)], fill=10, width=3)
        image.save(root / name)
    (root / "broken.png").write_bytes(b"\x89PNG broken")
    (root / "notes.txt").write_text("not an image")
    return root


def records(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_jsonl_for_a_folder_with_a_bad_file(models: dict[str, Path], images: Path) -> None:
    result = runner.invoke(app, ["transcribe", str(models["onnx"]), str(images)])
    assert result.exit_code == 0, result.output
    rows = records(result.stdout)
    names = [Path(r["file"]).relative_to(images).as_posix() for r in rows]
    assert names == ["a.png", "b.jpg", "broken.png", "sub/c.png"]  # sorted, recursive, no .txt
    bad = rows[2]
    assert set(bad) == {"file", "error"} and "cannot read image" in bad["error"]
    for row in rows[:2] + rows[3:]:
        assert set(row) == {"file", "text", "confidence"}
        assert isinstance(row["text"], str) and 0.0 <= row["confidence"] <= 1.0


def test_output_file_and_runtimes_agree(
    models: dict[str, Path], images: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out" / "result.jsonl"
    via_onnx = runner.invoke(
        app, ["transcribe", str(models["onnx"]), str(images), "-o", str(out), "--batch-size", "2"]
    )
    assert via_onnx.exit_code == 0, via_onnx.output
    assert via_onnx.stdout == ""
    via_torch = runner.invoke(app, ["transcribe", str(models["torch"]), str(images)])
    assert via_torch.exit_code == 0, via_torch.output
    assert records(out.read_text()) == records(via_torch.stdout)
    assert [p.name for p in out.parent.iterdir()] == ["result.jsonl"]  # no temp file left


def test_nothing_readable_exits_1(models: dict[str, Path], images: Path) -> None:
    result = runner.invoke(
        app, ["transcribe", str(models["onnx"]), str(images / "broken.png"), "missing.png"]
    )
    assert result.exit_code == 1
    assert [r["file"] for r in records(result.stdout)] == [
        str(images / "broken.png"),
        "missing.png",
    ]
    assert "file not found" in records(result.stdout)[1]["error"]
    assert result.stderr.strip() == "hwr: error: none of the 2 images could be read"


def test_cuda_error_is_one_line(models: dict[str, Path], images: Path) -> None:
    import onnxruntime as ort

    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("this machine has CUDA for ONNX Runtime")
    result = runner.invoke(
        app, ["transcribe", str(models["onnx"]), str(images), "--device", "cuda"]
    )
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hwr: error: ")
    assert "CUDA was requested but the CUDA execution provider is not active" in lines[0]
    assert "Traceback" not in result.output


def test_beam_with_lexicon_only_outputs_lexicon_words(
    models: dict[str, Path], images: Path, tmp_path: Path
) -> None:
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]
    lexicon = tmp_path / "words.txt"
    lexicon.write_text("\n".join(words) + "\n")
    args = ["transcribe", str(models["onnx"]), str(images / "a.png"), str(images / "b.jpg")]
    result = runner.invoke(app, [*args, "--decoder", "beam", "--lexicon", str(lexicon)])
    assert result.exit_code == 0, result.output
    found = [w.lower() for row in records(result.stdout) for w in WORD.findall(row["text"])]
    assert found and set(found) <= set(words)


def test_default_model_is_used_when_the_first_path_is_an_image(
    models: dict[str, Path], images: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(model_source, "PRETRAINED_DIR", tmp_path / "pretrained")
    missing = runner.invoke(app, ["transcribe", str(images / "a.png")])
    assert missing.exit_code == 1
    assert "bundled pretrained model is missing" in missing.stderr
    (tmp_path / "pretrained").mkdir()
    bundled = tmp_path / "pretrained" / model_source.DEFAULT_MODEL_NAME
    bundled.write_bytes(models["torch"].read_bytes())
    result = runner.invoke(app, ["transcribe", str(images / "a.png")])
    assert result.exit_code == 0, result.output
    explicit = runner.invoke(app, ["transcribe", str(models["torch"]), str(images / "a.png")])
    assert records(result.stdout) == records(explicit.stdout)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["IMAGE", "--runtime", "torch"], "a .onnx file runs with runtime 'onnx', not 'torch'"),
        ([], "no images given"),
    ],
)
def test_user_errors_are_one_line(
    models: dict[str, Path], images: Path, args: list[str], message: str
) -> None:
    args = [str(images / "a.png") if a == "IMAGE" else a for a in args]
    result = runner.invoke(app, ["transcribe", str(models["onnx"]), *args])
    assert result.exit_code == 1
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_file_name_that_is_not_utf8_is_written_visibly_and_the_run_goes_on(
    models: dict[str, Path], images: Path, tmp_path: Path
) -> None:
    import os
    import subprocess
    import sys

    odd = os.fsdecode(b"line-\xff.png")  # a Latin-1 name on a UTF-8 system
    (images / "a.png").rename(images / odd)
    out = tmp_path / "out.jsonl"
    to_file = runner.invoke(app, ["transcribe", str(models["onnx"]), str(images), "-o", str(out)])
    assert to_file.exit_code == 0, to_file.output
    rows = records(out.read_text(encoding="utf-8"))
    [odd_row] = [r for r in rows if "line-" in r["file"]]
    assert len(rows) == 4 and odd_row["file"].endswith("line-\\xff.png") and "text" in odd_row
    hwr = Path(sys.executable).with_name("hwr")
    shown = subprocess.run(
        [str(hwr), "transcribe", str(models["onnx"]), str(images)], capture_output=True, check=True
    )
    assert records(shown.stdout.decode("utf-8")) == rows  # stdout is valid UTF-8 too


def test_ctrl_c_keeps_the_finished_lines(
    models: dict[str, Path], images: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runtimes.recognizer import Recognizer

    real = Recognizer.transcribe_paths

    def interrupted(self, paths, batch_size=16):
        for i, result in enumerate(real(self, paths, batch_size)):
            if i == 2:
                raise KeyboardInterrupt
            yield result

    monkeypatch.setattr(Recognizer, "transcribe_paths", interrupted)
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["transcribe", str(models["onnx"]), str(images), "-o", str(out)])
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1 and "interrupted" in result.output
    assert [Path(r["file"]).name for r in records(out.read_text())] == ["a.png", "b.jpg"]


def test_an_unwritable_output_is_a_one_line_error(models: dict[str, Path], images: Path) -> None:
    blocker = images / "notes.txt"  # a file where the output's folder should be
    args = ["transcribe", str(models["onnx"]), str(images), "-o", str(blocker / "x.jsonl")]
    result = runner.invoke(app, args)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
    assert "cannot write here" in result.output


def test_a_whole_page_is_flagged_not_silently_empty(
    models: dict[str, Path], tmp_path: Path
) -> None:
    Image.new("L", (2500, 3500), 255).save(tmp_path / "page.png")
    result = runner.invoke(app, ["transcribe", str(models["onnx"]), str(tmp_path / "page.png")])
    assert result.exit_code == 0, result.output
    [row] = records(result.stdout)
    assert any("does not look like a single text line" in w for w in row["warnings"])
    assert "does not look like a single text line" in result.stderr


def test_synth_into_an_unwritable_place_is_a_one_line_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = runner.invoke(app, ["synth", "--out", str(blocker / "lines"), "--count", "2"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1 and "Not a directory" in result.output
