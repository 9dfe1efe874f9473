"""The confidence penalty: entropy is measured right, and a penalized run ends less peaky."""

import math

import pytest
import torch

from hwr_export.model.checkpoint import load_checkpoint
from hwr_export.train.confidence import frame_entropy
from hwr_export.train.loop import train
from runtimes.errors import HwrError


def test_frame_entropy_is_log_classes_when_uniform_and_near_zero_when_sure():
    assert frame_entropy(torch.zeros(2, 7, 80)).item() == pytest.approx(math.log(80))
    sure = torch.full((1, 5, 80), -30.0)
    sure[..., 3] = 30.0
    assert frame_entropy(sure).item() == pytest.approx(0.0, abs=1e-6)


def test_a_penalized_run_ends_with_spread_out_frames(tmp_path, tiny_config):
    """Same data, seed and steps: only the penalty differs, and only its run's outputs spread."""
    entropies = {}
    for weight in (0.0, 2.0):
        cfg = tiny_config(epochs=3, augment=False, confidence_penalty=weight)
        train(cfg, tmp_path / str(weight), threads=1)
        model, _ = load_checkpoint(tmp_path / str(weight) / "last.safetensors")
        torch.manual_seed(0)
        with torch.no_grad():
            entropies[weight] = frame_entropy(model.eval()(torch.rand(4, 1, 32, 200))).item()
    assert entropies[2.0] > entropies[0.0] + 0.3


def test_a_negative_penalty_is_a_one_line_error(tiny_config):
    with pytest.raises(HwrError, match="--confidence-penalty must be a finite positive"):
        tiny_config(confidence_penalty=-0.1)
