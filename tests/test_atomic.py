"""write_verified and Outputs: nothing half-written, nothing replaced that was not expected."""

from __future__ import annotations

import pytest

from hwr_export.atomic import Outputs, write_verified
from runtimes.errors import HwrError


def test_a_rejected_file_never_reaches_its_name(tmp_path):
    def reject(path):
        raise HwrError("rejected")

    with pytest.raises(HwrError, match="rejected"):
        write_verified(tmp_path / "a.txt", lambda p: p.write_text("x"), reject)
    assert list(tmp_path.iterdir()) == []


def test_outputs_are_all_or_nothing(tmp_path):
    with pytest.raises(RuntimeError), Outputs(force=False) as outputs:
        outputs.write_verified(tmp_path / "first.onnx", lambda p: p.write_text("ok"))
        raise RuntimeError("the second step failed")
    assert list(tmp_path.iterdir()) == []
    with Outputs(force=False) as outputs:  # the retry is not refused
        outputs.write_verified(tmp_path / "first.onnx", lambda p: p.write_text("ok"))
    assert (tmp_path / "first.onnx").read_text() == "ok"


def test_a_file_that_appears_meanwhile_is_not_replaced(tmp_path):
    target = tmp_path / "model.onnx"

    def racing_writer(path):
        path.write_text("mine")
        target.write_text("another export's")  # a concurrent run finishes first

    for force in (False, True):
        with pytest.raises(HwrError, match="while this run was writing it"):
            write_verified(target, racing_writer, force=force)
        assert target.read_text() == "another export's"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx"]
        target.unlink() if not force else None


def test_force_replaces_an_unchanged_file_and_keeps_usual_permissions(tmp_path):
    target = tmp_path / "model.onnx"
    target.write_text("old")
    with pytest.raises(HwrError, match="already exists"):
        write_verified(target, lambda p: p.write_text("new"), force=False)
    write_verified(target, lambda p: p.write_text("new"), force=True)
    assert target.read_text() == "new"
    assert target.stat().st_mode & 0o044 == 0o044  # readable by group and others, like 0644


def test_checkpoints_get_the_usual_permissions(tmp_path):
    import os

    from hwr_export.model.checkpoint import save_checkpoint
    from hwr_export.model.crnn import CRNN
    from hwr_export.model.presets import get_preset

    save_checkpoint(CRNN(get_preset("tiny")), tmp_path / "best.safetensors")
    (tmp_path / "other.json").write_text("{}")
    mode = os.stat(tmp_path / "best.safetensors").st_mode & 0o777
    assert mode == os.stat(tmp_path / "other.json").st_mode & 0o777
