"""`hwr lm build` and `--lm` end to end through the Typer app; Recognizer.load(lm=...)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw
from typer.testing import CliRunner

from hwr_export.cli import app
from runtimes.lm import LanguageModel
from runtimes.recognizer import Recognizer

pytest.importorskip("kenlm", reason="the lm extra (make setup installs it)")
runner = CliRunner()


@pytest.fixture
def line(tmp_path: Path) -> Path:
    image = Image.new("L", (240, 48), 250)
    ImageDraw.Draw(image).text((8, 12), "the cat sat", fill=10)
    image.save(tmp_path / "line.png")
    return tmp_path / "line.png"


def test_lm_build_round_trip(tmp_path: Path) -> None:
    text = tmp_path / "archive.txt"
    text.write_text("Ordered by the Overseers of Wednesbury.\n\nthe Overseers met.\n")
    out = tmp_path / "models" / "archive.arpa"
    result = runner.invoke(app, ["lm", "build", str(text), "--out", str(out), "--order", "2"])
    assert result.exit_code == 0, result.output
    assert "2 lines of text" in result.stdout and "2-grams" in result.stdout
    assert out.read_text().startswith("\n\\data\\\nngram 1=")
    lm = LanguageModel.load(out)
    assert lm.order == 2 and "wednesbury" in lm and "overseers" in lm and "cat" not in lm


def test_lm_build_without_words_is_a_one_line_error(tmp_path: Path) -> None:
    text = tmp_path / "digits.txt"
    text.write_text("1 2 3\n")
    result = runner.invoke(app, ["lm", "build", str(text), "--out", str(tmp_path / "x.arpa")])
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0 and "no words found" in result.output
    assert not (tmp_path / "x.arpa").exists()


def test_transcribe_with_the_bundled_lm(onnx_model: Path, line: Path) -> None:
    result = runner.invoke(app, ["transcribe", str(onnx_model), str(line), "--lm", "en"])
    assert result.exit_code == 0, result.output
    [record] = [json.loads(row) for row in result.stdout.splitlines()]
    assert set(record) == {"file", "text", "confidence"}
    rec = Recognizer.load(onnx_model, lm="en")
    assert record["text"] == rec.transcribe(line)[0].text


def test_transcribe_with_a_bad_lm_file_fails_in_one_line(
    onnx_model: Path, line: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.arpa"
    bad.write_text("not a language model")
    result = runner.invoke(app, ["transcribe", str(onnx_model), str(line), "--lm", str(bad)])
    assert result.exit_code == 1
    assert result.output.strip() == f"hwr: error: {bad}: not an ARPA or KenLM binary language model"


def test_lm_weights_need_an_lm(onnx_model: Path, line: Path) -> None:
    result = runner.invoke(app, ["transcribe", str(onnx_model), str(line), "--lm-alpha", "1"])
    assert result.exit_code == 1 and "add --lm" in result.output


def test_recognizer_load_with_lm_decodes_with_it(onnx_model: Path, line: Path) -> None:
    rec = Recognizer.load(onnx_model, lm="en")
    assert isinstance(rec.lm, LanguageModel)
    [prediction] = rec.transcribe(line)
    logits = rec.runtime.run(rec.prepare(line)[None, None])[0]
    expected = rec.lm.predict(logits, rec.contract.charset)
    assert prediction.text == expected.text
    assert prediction.confidence == pytest.approx(expected.confidence)
    assert len(prediction.char_confidences) == len(prediction.text)
    assert np.isfinite(prediction.confidence)
