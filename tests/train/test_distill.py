"""Knowledge distillation: the loss pulls the student towards the teacher's frames; a teacher
whose frames cannot line up is refused; a distilled run learns the teacher and resumes exactly."""

import dataclasses
import json

import pytest
import torch

from hwr_export.model.checkpoint import contract_for, load_checkpoint, save_checkpoint
from hwr_export.model.crnn import CRNN
from hwr_export.model.presets import get_preset
from hwr_export.train.distill import distillation_loss, load_teacher
from hwr_export.train.loop import train
from hwr_export.train.state import load_run
from runtimes.errors import HwrError


def test_the_loss_is_zero_for_the_teacher_itself_and_positive_otherwise():
    torch.manual_seed(0)
    teacher = torch.randn(2, 30, 80)
    assert distillation_loss(teacher, teacher, 1.0).item() == pytest.approx(0.0, abs=1e-6)
    assert distillation_loss(torch.randn(2, 30, 80), teacher, 1.0).item() > 0.1


def test_gradient_steps_on_the_loss_move_the_student_to_the_teachers_choices():
    torch.manual_seed(0)
    teacher = torch.randn(1, 40, 10) * 4
    student = torch.zeros(1, 40, 10, requires_grad=True)
    optimizer = torch.optim.SGD([student], lr=5.0)
    for _ in range(200):
        optimizer.zero_grad()
        distillation_loss(student, teacher, 2.0).backward()
        optimizer.step()
    assert torch.equal(student.argmax(-1), teacher.argmax(-1))


def test_frames_that_do_not_line_up_are_an_error():
    with pytest.raises(HwrError, match="disagree on frames"):
        distillation_loss(torch.zeros(1, 30, 80), torch.zeros(1, 31, 80), 1.0)


@pytest.mark.parametrize(
    ("change", "field"),
    [({"input_height": 64}, "input height"), ({"charset": "abc"}, "charset")],
)
def test_a_teacher_that_reads_other_frames_is_refused(tmp_path, change, field):
    config = get_preset("tiny")
    path = tmp_path / "teacher.safetensors"
    save_checkpoint(CRNN(dataclasses.replace(config, **change)), path)
    with pytest.raises(HwrError, match=f"teacher.safetensors: cannot teach .*{field} differs"):
        load_teacher(path, contract_for(config), torch.device("cpu"))


def test_the_teacher_is_frozen_and_in_eval_mode(tmp_path):
    config = get_preset("tiny")
    save_checkpoint(CRNN(config), tmp_path / "t.safetensors")
    teacher = load_teacher(tmp_path / "t.safetensors", contract_for(config), torch.device("cpu"))
    assert not teacher.training
    assert not any(p.requires_grad for p in teacher.parameters())


def _agreement(a, b, images):
    return (a(images).argmax(-1) == b(images).argmax(-1)).float().mean().item()


def test_a_student_taught_only_by_the_teacher_learns_its_outputs(tmp_path, capsys, tiny_config):
    """With the CTC loss weighed down to nothing next to the teacher's term, the student
    ends much closer to the teacher's frame choices than where it started."""
    torch.manual_seed(5)
    teacher = CRNN(get_preset("tiny")).eval()
    save_checkpoint(teacher, tmp_path / "teacher.safetensors")
    cfg = tiny_config(
        epochs=6,
        augment=False,
        teacher=str(tmp_path / "teacher.safetensors"),
        distill_weight=1000.0,
        distill_temperature=2.0,
        clip_norm=1e3,
    )
    train(cfg, tmp_path / "run", threads=1)
    assert "distilling from" in capsys.readouterr().err
    student, _ = load_checkpoint(tmp_path / "run" / "last.safetensors")
    torch.manual_seed(0)
    start = CRNN(get_preset("tiny")).eval()  # the run's initial weights (seed 0)
    images = torch.rand(4, 1, 32, 200)
    assert _agreement(student, teacher, images) > _agreement(start, teacher, images) + 0.3


def test_a_distilled_run_resumes_to_the_same_weights(tmp_path, tiny_config, kill_at_step):
    torch.manual_seed(5)
    save_checkpoint(CRNN(get_preset("tiny")), tmp_path / "teacher.safetensors")
    cfg = tiny_config(teacher=str(tmp_path / "teacher.safetensors"), distill_weight=0.5)
    train(cfg, tmp_path / "straight", threads=1)

    kill_at_step(cfg, tmp_path / "killed")
    train(cfg, tmp_path / "killed", resume=True, threads=1)
    a, b = load_run(tmp_path / "straight"), load_run(tmp_path / "killed")
    for name, x in a["model"].items():
        assert torch.equal(x, b["model"][name]), name
    saved = json.loads((tmp_path / "killed" / "metrics.json").read_text())["config"]
    assert saved["teacher"].endswith("teacher.safetensors") and saved["distill_weight"] == 0.5


def test_a_missing_teacher_or_a_zero_temperature_is_a_one_line_error(tmp_path, tiny_config):
    with pytest.raises(HwrError, match="nowhere.safetensors: checkpoint not found"):
        train(tiny_config(teacher=str(tmp_path / "nowhere.safetensors")), tmp_path / "a", threads=1)
    with pytest.raises(HwrError, match="--distill-temperature must be a finite positive"):
        tiny_config(distill_temperature=0.0)


def test_cli_names_a_teacher_that_does_not_fit(tmp_path):
    from typer.testing import CliRunner

    from hwr_export.cli import app

    save_checkpoint(CRNN(get_preset("small")), tmp_path / "small.safetensors")
    result = CliRunner().invoke(
        app,
        [
            "train",
            "--data",
            "synthetic:8",
            "--preset",
            "tiny",
            "--epochs",
            "1",
            "--teacher",
            str(tmp_path / "small.safetensors"),
            "--distill-temperature",
            "2",
            "--out",
            str(tmp_path / "run"),
        ],
    )
    assert result.exit_code == 1
    assert "small.safetensors: cannot teach preset 'tiny'" in result.output
    assert "Traceback" not in result.output


def test_the_large_preset_can_teach_small_and_medium(tmp_path):
    torch.manual_seed(0)
    save_checkpoint(CRNN(get_preset("large")), tmp_path / "large.safetensors")
    for student in ("small", "medium"):
        contract = contract_for(get_preset(student))
        teacher = load_teacher(tmp_path / "large.safetensors", contract, torch.device("cpu"))
        images = torch.rand(1, 1, 64, 240)
        assert teacher(images).shape == CRNN(get_preset(student)).eval()(images).shape
