"""Knowledge distillation: the student also learns the teacher's per-frame distributions.

A larger or better-trained network (a teacher, say one pre-trained for hours on a GPU) carries
more than the transcript: which characters it hesitated between, where it puts blanks. The
student adds ``weight * T^2 * KL(teacher || student)`` over every frame, both softened by the
temperature ``T`` (Hinton et al., 2015), to its CTC loss. Frame by frame only makes sense when
both networks read a line into the same frames over the same characters, so the teacher must
share the student's line height, charset and width stride; anything else is refused.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

from hwr_export.model.checkpoint import load_checkpoint
from hwr_export.model.crnn import CRNN
from runtimes.contract import ModelContract
from runtimes.errors import HwrError


def load_teacher(path: Path, student: ModelContract, device: torch.device) -> CRNN:
    """The teacher in eval mode (no dropout, fixed BatchNorm statistics), frozen, on ``device``."""
    teacher, contract = load_checkpoint(path)
    for field in ("input_height", "charset", "width_stride"):
        if getattr(contract, field) != getattr(student, field):
            raise HwrError(
                f"{path}: cannot teach preset {student.preset!r}: the teacher's "
                f"{field.replace('_', ' ')} differs ({getattr(contract, field)!r} vs "
                f"{getattr(student, field)!r}), so their frames do not line up"
            )
    teacher.requires_grad_(False)
    return teacher.to(device).eval()


def distillation_loss(
    student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float
) -> torch.Tensor:
    """Mean over frames of ``T^2 * KL(teacher || student)``, both (batch, time, classes).

    The T^2 keeps the gradient's size independent of the temperature."""
    if student_logits.shape != teacher_logits.shape:
        raise HwrError(
            f"teacher and student disagree on frames: {tuple(teacher_logits.shape)} vs "
            f"{tuple(student_logits.shape)}"
        )
    classes = student_logits.shape[-1]
    student = F.log_softmax(student_logits.float() / temperature, -1).reshape(-1, classes)
    teacher = F.log_softmax(teacher_logits.float() / temperature, -1).reshape(-1, classes)
    kl = F.kl_div(student, teacher, reduction="batchmean", log_target=True)
    return kl * temperature**2
