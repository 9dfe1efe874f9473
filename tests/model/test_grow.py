"""Growing a larger preset from a smaller one's weights: what fits is copied, the rest is new."""

import dataclasses

import pytest
import torch

from hwr_export.model.crnn import CRNN
from hwr_export.model.grow import grow_into
from hwr_export.model.presets import get_preset
from runtimes.errors import HwrError


def _pair(**target_changes):
    torch.manual_seed(0)
    small_config = get_preset("tiny")
    source = CRNN(small_config).eval()
    big_config = dataclasses.replace(small_config, name="tiny3", lstm_layers=3, **target_changes)
    torch.manual_seed(1)
    return source, small_config, CRNN(big_config).eval(), big_config


def test_grown_model_keeps_the_front_end_and_first_layer_and_adds_fresh_layers():
    source, _, target, _ = _pair()
    fresh_before = {k: v.clone() for k, v in target.state_dict().items()}
    report = grow_into(target, source, "small.safetensors")

    images = torch.rand(2, 1, 32, 96)
    assert torch.equal(target.features(images), source.features(images))
    assert torch.equal(target.head.weight, source.head.weight)
    assert torch.equal(target.rnn.weight_ih_l0, source.rnn.weight_ih_l0)
    assert torch.equal(target.rnn.weight_ih_l2, fresh_before["rnn.weight_ih_l2"])
    assert {name.split("_l")[-1][0] for name in report.fresh} == {"1", "2"}
    assert "rnn.l1" in report.summary() and "rnn.l2" in report.summary()
    assert report.dropped == ()


def test_a_different_front_end_cannot_be_grown_into():
    source, _, _, _ = _pair()
    other = dataclasses.replace(get_preset("small"), input_height=32)
    with pytest.raises(HwrError, match="small.safetensors: .*convolutional layers differ"):
        grow_into(CRNN(other), source, "small.safetensors")


@pytest.mark.parametrize("field", ["input_height", "charset"])
def test_a_different_height_or_charset_cannot_be_grown_into(field):
    source, source_config, _, _ = _pair()
    value = 64 if field == "input_height" else "abc"
    other = dataclasses.replace(source_config, **{field: value})
    with pytest.raises(HwrError, match=f"their {field.replace('_', ' ')} differs"):
        grow_into(CRNN(other), source, "x.safetensors")
