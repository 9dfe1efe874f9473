"""hwr.js against runtimes/ (run under Node): the same pixels, the same contract, the same text.

Needs Node.js (installed by .ci/run); the browser end to end is tests/web/browser_parity.py.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from runtimes.contract import REFERENCE_CHARSET, ModelContract
from runtimes.decode import greedy_decode
from runtimes.preprocess import resized_width, to_grayscale, to_model_input

DRIVER = Path(__file__).with_name("twin_driver.mjs")
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="needs Node.js (.ci/run installs it)")


def node(jobs: list[dict]) -> list:
    done = subprocess.run(
        [NODE, str(DRIVER)], input=json.dumps({"jobs": jobs}), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def b64(array: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(array).tobytes()).decode()


@pytest.mark.parametrize("height", [64, 32])
def test_model_input_is_bit_identical_to_python(height):
    contract = ModelContract(
        preset="tiny", input_height=height, charset=REFERENCE_CHARSET, norm_mean=0.45, norm_std=0.3
    )
    rng = np.random.default_rng(height)
    shapes = [(int(rng.integers(1, 200)), int(rng.integers(1, 900))) for _ in range(30)]
    shapes += [(height, 500), (1, 1), (300, 7)]
    grays = [rng.integers(0, 256, shape, dtype=np.uint8) for shape in shapes]
    jobs = [
        {
            "op": "model_input",
            "gray": b64(g),
            "width": g.shape[1],
            "height": g.shape[0],
            "contract": contract.to_json(),
        }
        for g in grays
    ]
    for gray, answer in zip(grays, node(jobs), strict=True):
        expected = to_model_input(gray, contract)
        got = np.frombuffer(base64.b64decode(answer["data"]), np.float32)
        assert got.reshape(answer["height"], answer["width"]).tobytes() == expected.tobytes()


def test_grayscale_with_alpha_on_white_matches_pillow_for_every_colour_and_alpha():
    rng = np.random.default_rng(0)
    rgba = rng.integers(0, 256, (256, 256, 4), dtype=np.uint8)
    rgba[:, :, 3] = np.arange(256, dtype=np.uint8)[:, None]  # every alpha, one row each
    expected = np.asarray(to_grayscale(Image.fromarray(rgba, "RGBA")))
    [answer] = node([{"op": "grayscale", "rgba": b64(rgba), "width": 256, "height": 256}])
    assert np.array_equal(
        np.frombuffer(base64.b64decode(answer), np.uint8).reshape(256, 256), expected
    )


def test_width_at_model_height_rounds_ties_to_even_like_python():
    cases = [
        (w, h, t) for w in (1, 3, 5, 7, 9, 125, 1001) for h in (2, 6, 10, 64, 128) for t in (32, 64)
    ]
    answers = node([{"op": "width", "width": w, "height": h, "target": t} for w, h, t in cases])
    assert answers == [resized_width(w, h, t) for w, h, t in cases]


def test_greedy_decode_gives_the_same_text_and_confidences():
    rng = np.random.default_rng(1)
    charset = "abc de"
    for frames in (0, 1, 5, 40):
        logits = (rng.normal(size=(frames, len(charset) + 1)) * 4).astype(np.float32)
        logits[::3, 0] += 3  # some blanks
        [answer] = node(
            [
                {
                    "op": "decode",
                    "logits": b64(logits),
                    "frames": frames,
                    "classes": len(charset) + 1,
                    "charset": charset,
                }
            ]
        )
        text, confidence, chars = greedy_decode(logits, charset)
        assert answer["text"] == text
        assert answer["confidence"] == pytest.approx(confidence, abs=1e-12)
        assert answer["charConfidences"] == pytest.approx(chars, abs=1e-12)


def test_contract_is_read_from_the_onnx_file_and_a_model_without_one_is_refused(tmp_path):
    import onnx
    import torch

    from hwr_export.export.onnx import export_onnx
    from hwr_export.model.checkpoint import contract_for
    from hwr_export.model.crnn import CRNN
    from hwr_export.model.presets import get_preset

    torch.manual_seed(0)
    model = CRNN(get_preset("tiny")).eval()
    contract = contract_for(model.config, {})
    path = export_onnx(model, contract, tmp_path / "tiny.onnx")
    stripped = onnx.load(str(path))
    del stripped.metadata_props[:]
    onnx.save(stripped, str(tmp_path / "bare.onnx"))
    good, bare = node(
        [
            {"op": "contract", "path": str(path), "name": "tiny.onnx"},
            {"op": "contract", "path": str(tmp_path / "bare.onnx"), "name": "bare.onnx"},
        ]
    )
    assert good == {"charset": contract.charset, "input_height": contract.input_height}
    assert bare["error"].startswith("bare.onnx: no hwr model contract in the file metadata")
