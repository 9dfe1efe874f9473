"""The model contract is user input: checked on load (types, bounds, sizes) and against the graph."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import pytest
import torch

from hwr_export.export.onnx import export_onnx, set_metadata
from hwr_export.model.checkpoint import contract_for
from hwr_export.model.crnn import CRNN
from hwr_export.model.presets import get_preset
from runtimes.contract import IAM_CHARSET, METADATA_KEY, ModelContract
from runtimes.errors import ModelContractError
from runtimes.recognizer import Recognizer

GOOD = ModelContract(preset="tiny", input_height=32, charset=IAM_CHARSET).to_dict()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"min_width": 2_000_000}, "min_width must be within"),
        ({"min_width": 10**9}, "min_width must be within"),
        ({"norm_std": float("nan")}, "norm_std must be within"),
        ({"norm_mean": float("inf")}, "norm_mean must be within"),
        ({"input_height": "64"}, "input_height has the wrong type"),
        ({"input_height": True}, "input_height has the wrong type"),
        ({"charset": ["a", "b"]}, "charset has the wrong type"),
        ({"contract_version": "1"}, "contract_version has the wrong type"),
        ({"width_stride": 0}, "width_stride must be within"),
    ],
)
def test_bad_values_are_one_line_errors(change, message):
    with pytest.raises(ModelContractError, match=message) as info:
        ModelContract.from_json(json.dumps({**GOOD, **change}))
    assert "\n" not in str(info.value)


def test_huge_and_deeply_nested_contracts_are_refused_fast():
    start = time.perf_counter()
    with pytest.raises(ModelContractError, match="longer than"):
        ModelContract.from_json(
            json.dumps({**GOOD, "charset": "".join(map(chr, range(1_000_000)))})
        )
    with pytest.raises(ModelContractError, match="nested too deeply"):
        ModelContract.from_json('{"metrics": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert time.perf_counter() - start < 30  # generous: refused before any real work


@pytest.fixture(scope="module")
def tiny_onnx(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ModelContract]:
    torch.manual_seed(0)
    model = CRNN(get_preset("tiny")).eval()
    contract = contract_for(model.config)
    return export_onnx(model, contract, tmp_path_factory.mktemp("c") / "tiny.onnx"), contract


def _with_contract(source: Path, contract: ModelContract, target: Path) -> Path:
    import onnx

    proto = onnx.load(str(source))
    set_metadata(proto, contract.to_metadata())
    onnx.save(proto, str(target))
    return target


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"charset": IAM_CHARSET[:-1]}, "output classes but the contract"),
        ({"charset": IAM_CHARSET + "\u00e9"}, "output classes but the contract"),
        ({"input_height": 48}, "does not fit the contract"),
    ],
)
def test_a_contract_that_does_not_fit_the_graph_is_refused(tiny_onnx, tmp_path, change, message):
    path, contract = tiny_onnx
    wrong = _with_contract(path, dataclasses.replace(contract, **change), tmp_path / "m.onnx")
    with pytest.raises(ModelContractError, match=message):
        Recognizer.load(wrong)


def test_metadata_key_is_what_the_runtime_reads(tiny_onnx):
    path, contract = tiny_onnx
    assert Recognizer.load(path).contract == contract and METADATA_KEY == "hwr_contract"
