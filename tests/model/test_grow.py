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


def _trained_tiny() -> CRNN:
    """A tiny CRNN whose BatchNorm statistics are not the fresh ones (as after training)."""
    torch.manual_seed(0)
    model = CRNN(get_preset("tiny")).train()
    with torch.no_grad():
        for _ in range(3):
            model(torch.rand(4, 1, 32, 120))
    return model.eval()


def _wider(config, **changes):
    channels = changes.pop("channels", None)
    if channels:
        changes["blocks"] = tuple(
            dataclasses.replace(block, channels=c)
            for block, c in zip(config.blocks, channels, strict=True)
        )
    return dataclasses.replace(config, name="tiny-wide", **changes)


@pytest.mark.parametrize(
    "changes",
    [
        {"channels": (8, 24, 40, 64)},
        {"proj_dim": 80},
        {"lstm_hidden": 64},
        {"channels": (12, 16, 32, 56), "proj_dim": 96, "lstm_hidden": 56, "lstm_layers": 2},
    ],
    ids=["cnn", "projection", "lstm", "all-and-deeper"],
)
def test_a_widened_model_computes_exactly_what_the_source_computed(changes):
    source = _trained_tiny()
    torch.manual_seed(1)
    target = CRNN(_wider(source.config, **changes)).eval()
    report = grow_into(target, source, "tiny.safetensors")

    images = torch.rand(3, 1, 32, 150)
    with torch.no_grad():
        want_logits, want_aux = source.forward_train(images)
        logits, aux = target.forward_train(images)
    if changes.get("lstm_layers", 1) == 1:  # a fresh extra layer changes the output
        torch.testing.assert_close(logits, want_logits, rtol=0, atol=1e-5)
    torch.testing.assert_close(aux, want_aux, rtol=0, atol=1e-5)
    assert report.widened and "widened: none" not in report.summary()


def test_new_units_start_fresh_and_their_weights_into_old_units_start_at_zero_but_learn():
    source = _trained_tiny()
    torch.manual_seed(1)
    target = CRNN(_wider(source.config, lstm_hidden=64)).train()
    grow_into(target, source, "tiny.safetensors")
    old, new = source.config.lstm_hidden, 64
    hh = target.rnn.weight_hh_l0
    assert torch.equal(hh[:old, :old], source.rnn.weight_hh_l0[:old, :old])  # input gate block
    assert torch.count_nonzero(hh[:old, old:]) == 0  # new units -> old units: zero
    assert torch.count_nonzero(hh[new : new + old, old:]) == 0  # the same for the forget gate
    assert torch.count_nonzero(hh[old:new]) > 0  # new units' own weights: fresh

    logits = target(torch.rand(2, 1, 32, 150))
    logits.logsumexp(-1).sum().backward()
    assert hh.grad is not None and torch.count_nonzero(hh.grad[:old, old:]) > 0


def test_a_narrower_target_is_refused_naming_the_tensor():
    source = _trained_tiny()
    narrower = _wider(source.config, lstm_hidden=source.config.lstm_hidden - 8)
    with pytest.raises(HwrError, match=r"tiny.safetensors: .*rnn\.weight_ih_l0 would shrink"):
        grow_into(CRNN(narrower), source, "tiny.safetensors")


def test_a_different_pooling_is_refused():
    source = _trained_tiny()
    blocks = list(source.config.blocks)
    blocks[-1] = dataclasses.replace(blocks[-1], pool=(2, 2))
    other = dataclasses.replace(source.config, blocks=tuple(blocks))
    with pytest.raises(HwrError, match="convolutional layers differ"):
        grow_into(CRNN(other), source, "tiny.safetensors")
