"""Every runtime behind one interface: same transcripts, clear errors, no torch on the ONNX path."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw, ImageFont
from typer.testing import CliRunner

from hwr_export.cli import app
from hwr_export.model.checkpoint import contract_for, save_checkpoint
from hwr_export.model.crnn import CRNN
from hwr_export.model.presets import get_preset
from hwr_export.model.torch_runtime import TorchRuntime
from runtimes.base import Runtime
from runtimes.batching import plan_batches, run_batched
from runtimes.contract import ModelContract
from runtimes.errors import HwrError, ImageError, ModelContractError, RuntimeUnavailableError
from runtimes.formats import FORMATS
from runtimes.ort_runtime import OrtRuntime
from runtimes.recognizer import Recognizer

TEXTS = ["a cat", "hello world again", "CRNN lines, 1984!", "x", "the quick brown fox jumps"]


def render_line(text: str, height: int = 48) -> Image.Image:
    """Dark text on light paper; the width follows the text, like a real line crop."""
    font = ImageFont.load_default(size=height * 2 // 3)
    width = int(font.getlength(text)) + 16
    image = Image.new("L", (width, height), 245)
    ImageDraw.Draw(image).text((8, height // 6), text, fill=20, font=font)
    return image


@pytest.fixture(scope="module")
def lines() -> list[Image.Image]:
    return [render_line(text) for text in TEXTS]


def sensitive_tiny_model() -> CRNN:
    """A random tiny CRNN whose output depends on its input. With default initialisation
    every line decodes to the same letter, which would make "same transcripts" prove nothing;
    larger conv/projection/head weights give each line its own long string."""
    torch.manual_seed(0)
    model = CRNN(get_preset("tiny")).eval()
    with torch.no_grad():
        for layer in model.cnn:
            if isinstance(layer, torch.nn.Conv2d):
                layer.weight.mul_(2.0)
        model.proj.weight.mul_(5.0)
        model.head.weight.mul_(5.0)
    return model


@pytest.fixture(scope="module")
def model_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A checkpoint and the files `hwr export --format all --ort` writes from it."""
    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp("models")
    save_checkpoint(sensitive_tiny_model(), folder / "tiny.safetensors")
    args = ["export", str(folder / "tiny.safetensors"), "--format", "all", "--ort"]
    result = CliRunner().invoke(app, [*args, "--out", str(folder)])
    assert result.exit_code == 0, result.output
    return {
        name: folder / f"tiny{FORMATS[name].suffix}"
        for name in ("torch", "torchscript", "onnx", "ort")
    }


@pytest.fixture(scope="module")
def reference(model_files: dict[str, Path], lines: list[Image.Image]) -> list[str]:
    texts = [p.text for p in Recognizer.load(model_files["torch"]).transcribe(lines)]
    # Comparisons below only mean something if lines decode to varied, non-trivial strings.
    assert len(set(texts)) >= 3 and sum(len(t) for t in texts) > 20, texts
    return texts


@pytest.mark.parametrize("kind", ["torch", "torchscript", "onnx", "ort"])
def test_every_runtime_gives_identical_transcripts(
    model_files: dict[str, Path], lines: list[Image.Image], reference: list[str], kind: str
) -> None:
    recognizer = Recognizer.load(model_files[kind], threads=1)
    assert isinstance(recognizer.runtime, Runtime)
    assert recognizer.runtime.device == "cpu"
    assert recognizer.contract.charset == get_preset("tiny").charset
    assert [p.text for p in recognizer.transcribe(lines, batch_size=3)] == reference


def test_runtime_logits_agree_numerically(model_files: dict[str, Path]) -> None:
    torch_runtime = TorchRuntime(model_files["torch"])
    onnx_runtime = OrtRuntime(model_files["onnx"], threads=1)
    batch = np.random.default_rng(0).uniform(-1, 1, (2, 1, 32, 96)).astype(np.float32)
    expected = torch_runtime.run(batch)
    assert expected.shape == (2, 24, torch_runtime.contract.num_classes)
    np.testing.assert_allclose(onnx_runtime.run(batch), expected, atol=1e-4)


def test_batched_and_single_transcripts_are_equal(
    model_files: dict[str, Path], lines: list[Image.Image]
) -> None:
    recognizer = Recognizer.load(model_files["onnx"], threads=1)
    batched = recognizer.transcribe(lines, batch_size=8)
    single = [recognizer.transcribe([line])[0] for line in lines]
    assert [p.text for p in batched] == [p.text for p in single]


class ColumnRuntime:
    """A fake runtime whose frame t depends only on its own stride of columns: with it, batched
    and single results must be bit-identical, which checks padding, trimming and ordering."""

    name = "columns"
    device = "cpu"

    def __init__(self, contract: ModelContract) -> None:
        self.contract = contract

    def run(self, batch: np.ndarray) -> np.ndarray:
        b, _, h, w = batch.shape
        stride = self.contract.width_stride
        frames = w // stride
        ink = (1 - batch[:, 0, :, : frames * stride].reshape(b, h, frames, stride).mean((1, 3))) / 2
        classes = np.where(ink < 0.02, 0, 1 + (ink * 97).astype(int) % len(self.contract.charset))
        logits = np.zeros((b, frames, self.contract.num_classes), np.float32)
        np.put_along_axis(logits, classes[:, :, None], 8.0, axis=2)
        return logits


def test_batching_keeps_order_and_trims_padding(lines: list[Image.Image]) -> None:
    contract = contract_for(get_preset("tiny"))
    recognizer = Recognizer(ColumnRuntime(contract))
    batched = recognizer.transcribe(lines, batch_size=4)
    single = [recognizer.transcribe([line])[0] for line in lines]
    assert [p.text for p in batched] == [p.text for p in single]
    assert len({p.text for p in single}) == len(lines)
    arrays = [recognizer.prepare(line) for line in lines]
    logits = run_batched(arrays, contract, ColumnRuntime(contract).run, batch_size=16)
    assert [len(x) for x in logits] == [a.shape[1] // contract.width_stride for a in arrays]


def test_plan_batches_sorts_by_width_and_caps_ratio_and_size() -> None:
    widths = [100, 400, 110, 120, 1000, 105, 130]
    batches = plan_batches(widths, max_batch_size=3, max_width_ratio=1.25)
    assert sorted(i for b in batches for i in b) == list(range(len(widths)))
    for batch in batches:
        assert len(batch) <= 3
        assert max(widths[i] for i in batch) <= 1.25 * min(widths[i] for i in batch)
    assert batches[0] == [0, 5, 2]
    assert plan_batches([50, 60], 8, max_batch_pixels=100) == [[0], [1]]


def test_unreadable_items_are_reported_and_the_rest_transcribed(
    model_files: dict[str, Path], lines: list[Image.Image], tmp_path: Path
) -> None:
    items = {
        "good.png": lines[1],
        "one_px.png": Image.new("L", (1, 40), 0),
        "wide.png": Image.new("L", (20_000, 48), 255),
        "strip.png": Image.new("L", (20_000, 1), 255),
    }
    for name, image in items.items():
        image.save(tmp_path / name)
    (tmp_path / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    (tmp_path / "zero.png").write_bytes(b"")
    order = ["corrupt.png", "good.png", "zero.png", "one_px.png", "wide.png", "strip.png"]
    recognizer = Recognizer.load(model_files["onnx"], threads=1)
    found = list(recognizer.transcribe_paths([tmp_path / n for n in order], batch_size=2))
    assert [r.path for r in found] == [tmp_path / n for n in order]
    assert all((r.prediction is None) != (r.error is None) for r in found)
    results = {r.path: r.prediction or r.error for r in found}
    errors = {r.path.name: r.error for r in found if r.error is not None}
    assert set(errors) == {"corrupt.png", "zero.png", "strip.png"}
    assert all(message.startswith(str(tmp_path)) for message in errors.values())
    assert "empty file" in errors["zero.png"] and "split the line" in errors["strip.png"]
    assert results[tmp_path / "good.png"].text == recognizer.transcribe([lines[1]])[0].text
    assert 0.0 <= results[tmp_path / "wide.png"].confidence <= 1.0
    with pytest.raises(HwrError, match="corrupt.png: cannot read image"):
        recognizer.transcribe([tmp_path / "corrupt.png"])


def test_cuda_request_without_cuda_is_a_one_line_error(model_files: dict[str, Path]) -> None:
    import onnxruntime as ort

    if "CUDAExecutionProvider" in ort.get_available_providers() or torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    for kind in ["onnx", "torch", "torchscript"]:
        with pytest.raises(RuntimeUnavailableError) as info:
            Recognizer.load(model_files[kind], device="cuda")
        message = str(info.value)
        assert "\n" not in message and "CUDA was requested" in message
        assert message.startswith(str(model_files[kind]))
    with pytest.raises(RuntimeUnavailableError, match="unknown device"):
        OrtRuntime(model_files["onnx"], device="tpu")


@pytest.mark.cuda
def test_onnx_cuda_runs_on_the_gpu(
    model_files: dict[str, Path], lines: list[Image.Image], reference: list[str]
) -> None:
    import onnxruntime as ort

    if "CUDAExecutionProvider" not in ort.get_available_providers():
        pytest.skip("needs onnxruntime-gpu and a CUDA GPU")
    try:
        recognizer = Recognizer.load(model_files["onnx"], device="cuda")
    except RuntimeUnavailableError as exc:
        pytest.skip(str(exc))
    assert recognizer.runtime.providers[0] == "CUDAExecutionProvider"
    assert [p.text for p in recognizer.transcribe(lines)] == reference


def test_fp16_onnx_loads_on_cpu_without_crashing(
    model_files: dict[str, Path], tmp_path: Path
) -> None:
    from hwr_export.export.quantize import export_fp16

    half = export_fp16(model_files["onnx"], tmp_path / "tiny.fp16.onnx")
    # In a subprocess: the failure this guards against is a segfault, not an exception.
    code = (
        "import numpy as np\n"
        "from runtimes.ort_runtime import OrtRuntime\n"
        f"runtime = OrtRuntime({str(half)!r}, threads=1)\n"
        "batch = np.random.default_rng(0).uniform(-1, 1, (2, 1, 32, 96)).astype(np.float32)\n"
        "np.save('logits.npy', runtime.run(batch))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    batch = np.random.default_rng(0).uniform(-1, 1, (2, 1, 32, 96)).astype(np.float32)
    expected = OrtRuntime(model_files["onnx"], threads=1).run(batch)
    np.testing.assert_allclose(np.load(tmp_path / "logits.npy"), expected, atol=0.05)


def test_files_without_a_contract_are_refused(model_files: dict[str, Path], tmp_path: Path) -> None:
    import onnx

    proto = onnx.load(str(model_files["onnx"]))
    del proto.metadata_props[:]
    bare_onnx = tmp_path / "bare.onnx"
    onnx.save(proto, str(bare_onnx))
    bare_script = tmp_path / "bare.pt"
    torch.jit.save(torch.jit.script(sensitive_tiny_model()), str(bare_script))
    for path in [bare_onnx, bare_script]:
        with pytest.raises(ModelContractError, match=f"{path}: no hwr model contract"):
            Recognizer.load(path)


def test_model_file_type_and_runtime_must_match(
    model_files: dict[str, Path], tmp_path: Path
) -> None:
    with pytest.raises(HwrError, match=r"a \.onnx file runs with runtime 'onnx', not 'torch'"):
        Recognizer.load(model_files["onnx"], runtime="torch")
    with pytest.raises(HwrError, match=r"export it first: hwr export \S+tiny.safetensors --format"):
        Recognizer.load(model_files["torch"], runtime="onnx")
    with pytest.raises(HwrError, match="unknown model file type"):
        Recognizer.load(tmp_path / "model.bin")
    with pytest.raises(HwrError, match="unknown runtime"):
        Recognizer.load(model_files["onnx"], runtime="tensorrt")
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"not a model")
    with pytest.raises(HwrError, match="garbage.onnx: cannot load ONNX model"):
        Recognizer.load(garbage)


def test_runtimes_run_an_onnx_model_without_torch(
    model_files: dict[str, Path], lines: list[Image.Image], reference: list[str], tmp_path: Path
) -> None:
    image = tmp_path / "line.png"
    lines[2].save(image)
    code = (
        "import sys; sys.modules['torch'] = None\n"
        "import runtimes, runtimes.recognizer\n"
        "from runtimes import Recognizer\n"
        f"rec = Recognizer.load({str(model_files['onnx'])!r}, decoder='beam')\n"
        f"print(rec.transcribe([{str(image)!r}])[0].text)\n"
        "assert not any(m.startswith(('torch.', 'hwr_export')) for m in sys.modules)\n"
        # importing the onnx package costs ~0.5 s of every command (runtimes/onnx_scan.py)
        "assert 'onnx' not in sys.modules\n"
    )
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert (
        done.stdout.rstrip("\n")
        == Recognizer.load(model_files["onnx"], decoder="beam").transcribe([lines[2]])[0].text
    )


def test_batched_equals_single_on_many_widths(model_files: dict[str, Path]) -> None:
    """Lines of many widths: equal-bucket lines share batches, and every transcript and logit
    row matches the line run alone (a padded bidirectional LSTM would break this)."""
    from hwr_export.data.synthetic import SyntheticLines

    synthetic = SyntheticLines(24, seed=3, height=32, max_words=4)
    images = [synthetic[i][0] for i in range(len(synthetic))]
    recognizer = Recognizer.load(model_files["onnx"], threads=1)
    arrays = [recognizer.prepare(image) for image in images]
    batches = plan_batches([a.shape[1] for a in arrays], 8)
    assert any(len(b) > 1 for b in batches)  # otherwise nothing was batched
    batched = run_batched(arrays, recognizer.contract, recognizer.runtime.run, batch_size=8)
    single = [recognizer.runtime.run(a[None, None])[0] for a in arrays]
    for b, s in zip(batched, single, strict=True):
        np.testing.assert_allclose(b, s, atol=1e-4)
    texts = [p.text for p in recognizer.transcribe(images, batch_size=8)]
    assert texts == [recognizer.transcribe([image])[0].text for image in images]


def test_python_api_takes_a_single_item_bytes_and_refuses_other_types(
    model_files: dict[str, Path], lines: list[Image.Image], tmp_path: Path
) -> None:
    import io

    rec = Recognizer.load(model_files["onnx"], threads=1)
    path = tmp_path / "line.png"
    lines[1].save(path)
    expected = rec.transcribe([lines[1]])[0].text
    assert [p.text for p in rec.transcribe(str(path))] == [expected]  # not one per character
    assert [p.text for p in rec.transcribe(path)] == [expected]
    encoded = io.BytesIO()
    lines[1].save(encoded, "PNG")
    assert [p.text for p in rec.transcribe(encoded.getvalue())] == [expected]
    assert [p.text for p in rec.transcribe([encoded.getvalue(), path])] == [expected] * 2
    for bad in (None, 42, b"not an image"):
        with pytest.raises(ImageError):
            rec.transcribe([bad])


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    from runtimes.preprocess import load_image

    upright = Image.new("L", (200, 40), 255)  # a wide line...
    exif = Image.Exif()
    exif[0x0112] = 6  # ...stored rotated, as phones do: "rotate 90 degrees clockwise to view"
    upright.transpose(Image.Transpose.ROTATE_90).save(tmp_path / "phone.jpg", exif=exif)
    assert load_image(tmp_path / "phone.jpg").size == (200, 40)
