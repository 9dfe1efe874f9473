"""Averaging checkpoints (a model soup): the mean of every weight, one preset only, clear errors."""

import dataclasses

import pytest
import torch
from typer.testing import CliRunner

from hwr_export.cli import app
from hwr_export.model.average import average_checkpoints
from hwr_export.model.checkpoint import load_checkpoint, save_checkpoint
from hwr_export.model.crnn import CRNN
from hwr_export.model.presets import get_preset
from runtimes.errors import HwrError


def _saved(path, seed, config=None):
    torch.manual_seed(seed)
    model = CRNN(config or get_preset("tiny")).eval()
    save_checkpoint(model, path)
    return model


def test_every_weight_is_the_mean_of_the_checkpoints(tmp_path):
    models = [_saved(tmp_path / f"{seed}.safetensors", seed) for seed in (0, 1, 2)]
    soup = average_checkpoints([tmp_path / f"{seed}.safetensors" for seed in (0, 1, 2)])
    states = [m.state_dict() for m in models]
    for name, tensor in soup.state_dict().items():
        if tensor.is_floating_point():
            expected = sum(s[name] for s in states) / 3
            torch.testing.assert_close(tensor, expected, rtol=0, atol=1e-6)
    assert not torch.equal(soup.head.weight, models[0].head.weight)
    assert not soup.training


def test_a_network_averaged_with_itself_reads_the_same(tmp_path):
    model = _saved(tmp_path / "a.safetensors", 0)
    soup = average_checkpoints([tmp_path / "a.safetensors", tmp_path / "a.safetensors"])
    images = torch.rand(2, 1, 32, 150)
    torch.testing.assert_close(soup(images), model(images), rtol=0, atol=1e-6)


def test_different_architectures_cannot_be_averaged(tmp_path):
    _saved(tmp_path / "a.safetensors", 0)
    deeper = dataclasses.replace(get_preset("tiny"), lstm_layers=2)
    _saved(tmp_path / "b.safetensors", 1, deeper)
    with pytest.raises(HwrError, match="b.safetensors: cannot average .*architectures differ"):
        average_checkpoints([tmp_path / "a.safetensors", tmp_path / "b.safetensors"])


def test_one_checkpoint_is_not_an_average(tmp_path):
    _saved(tmp_path / "a.safetensors", 0)
    with pytest.raises(HwrError, match="at least two"):
        average_checkpoints([tmp_path / "a.safetensors"])


def test_cli_writes_a_loadable_average_and_names_a_bad_file(tmp_path):
    for seed in (0, 1):
        _saved(tmp_path / f"{seed}.safetensors", seed)
    out = tmp_path / "soup.safetensors"
    paths = [str(tmp_path / "0.safetensors"), str(tmp_path / "1.safetensors")]
    result = CliRunner().invoke(app, ["average", *paths, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "averaged 2 'tiny' checkpoints" in result.output
    _, contract = load_checkpoint(out)
    assert contract.metrics["averaged_from"] == paths

    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a checkpoint")
    result = CliRunner().invoke(app, ["average", paths[0], str(bad), "--out", str(out)])
    assert result.exit_code == 1
    assert "bad.safetensors" in result.output and "Traceback" not in result.output
    assert load_checkpoint(out)[1].metrics["averaged_from"] == paths  # not overwritten
