"""The CRNN family: the seed replica's size, shapes at any width, the cost model."""

import pytest
import torch

from hwr_export.model.crnn import CRNN, count_parameters, multiply_adds
from hwr_export.model.presets import CRNNConfig, get_preset, preset_names
from runtimes.errors import HwrError


def test_seed_replica_has_the_reference_parameter_count():
    assert count_parameters(CRNN(get_preset("seed"))) == 9_139_147


def test_seed_replica_layout_matches_the_reference():
    config = get_preset("seed")
    assert config.input_height == 128 and config.num_classes == 75
    assert config.feature_rows * config.blocks[-1].channels == 3584
    logits = CRNN(config).eval()(torch.zeros(1, 1, 128, 400))
    assert logits.shape == (1, 400 // 4 - 1, 75)


@pytest.mark.parametrize("name", ["small", "tiny"])
@pytest.mark.parametrize("width", [8, 37, 300])
def test_compact_presets_return_logits_for_any_width(name, width):
    torch.set_num_threads(1)
    config = get_preset(name)
    width = max(width, config.min_width)
    logits = CRNN(config).eval()(torch.zeros(2, 1, config.input_height, width))
    assert logits.shape == (2, width // config.width_stride, config.num_classes)


def test_default_preset_is_far_cheaper_than_the_reference():
    seed_cost = multiply_adds(get_preset("seed"), 2000)  # 1000 px at 64 px = 2000 px at 128 px
    small_cost = multiply_adds(get_preset("small"), 1000)
    assert small_cost < 1e9
    assert seed_cost / small_cost > 25


def test_config_round_trips_through_a_dict():
    for name in preset_names():
        config = get_preset(name)
        assert CRNNConfig.from_dict(config.to_dict()) == config


def test_unknown_preset_is_a_clear_error():
    with pytest.raises(HwrError, match="unknown preset 'huge'"):
        get_preset("huge")
