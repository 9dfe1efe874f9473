"""Self-describing checkpoints: round trip, and clear errors for corrupt or mismatched files."""

import json

import pytest
import torch
from safetensors.torch import load_file, save_file

from hwr_export.model.checkpoint import load_checkpoint, save_checkpoint
from hwr_export.model.crnn import CRNN
from hwr_export.model.presets import get_preset
from runtimes.errors import HwrError, ModelContractError


@pytest.fixture
def tiny_model():
    torch.manual_seed(0)
    return CRNN(get_preset("tiny")).eval()


def test_round_trip_gives_identical_logits_and_contract(tmp_path, tiny_model):
    path = tmp_path / "m.safetensors"
    save_checkpoint(tiny_model, path, {"val_cer": 0.25})
    loaded, contract = load_checkpoint(path)
    x = torch.randn(2, 1, 32, 120)
    assert torch.equal(tiny_model(x), loaded(x))
    assert contract.preset == "tiny" and contract.input_height == 32
    assert contract.charset == get_preset("tiny").charset
    assert contract.metrics == {"val_cer": 0.25}


def test_corrupt_file_is_a_one_line_error(tmp_path):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(b"\x00not a checkpoint at all")
    with pytest.raises(HwrError, match="bad.safetensors") as info:
        load_checkpoint(path)
    assert "\n" not in str(info.value)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(HwrError, match="nothere.safetensors: checkpoint not found"):
        load_checkpoint(tmp_path / "nothere.safetensors")


def test_weights_of_another_preset_are_refused(tmp_path, tiny_model):
    path = tmp_path / "m.safetensors"
    save_checkpoint(tiny_model, path)
    small = CRNN(get_preset("small")).state_dict()
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        metadata = f.metadata()
    save_file({k: v.contiguous() for k, v in small.items()}, str(path), metadata=metadata)
    with pytest.raises(ModelContractError, match="do not fit preset 'tiny'"):
        load_checkpoint(path)


def test_file_without_contract_is_refused(tmp_path, tiny_model):
    path = tmp_path / "plain.safetensors"
    save_file({k: v.contiguous() for k, v in tiny_model.state_dict().items()}, str(path))
    with pytest.raises(ModelContractError, match="no hwr architecture config"):
        load_checkpoint(path)


def test_contract_disagreeing_with_config_is_refused(tmp_path, tiny_model):
    path = tmp_path / "m.safetensors"
    save_checkpoint(tiny_model, path)
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        metadata = f.metadata()
    contract = json.loads(metadata["hwr_contract"])
    contract["input_height"] = 64
    metadata["hwr_contract"] = json.dumps(contract)
    save_file(load_file(str(path)), str(path), metadata=metadata)
    with pytest.raises(ModelContractError, match="disagree"):
        load_checkpoint(path)


def test_atomic_write_keeps_usual_permissions_and_refuses_overwrite(tmp_path):
    import os

    from hwr_export.atomic import atomic_path, atomic_write_text

    target = tmp_path / "out.txt"
    atomic_write_text(target, "one")
    assert oct(os.stat(target).st_mode & 0o777) == oct(0o666 & ~_umask())
    with pytest.raises(HwrError, match="already exists"), atomic_path(target, force=False):
        pass
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash mid-write")
    assert target.read_text() == "one" and list(tmp_path.iterdir()) == [target]


def _umask():
    import os

    mask = os.umask(0)
    os.umask(mask)
    return mask
