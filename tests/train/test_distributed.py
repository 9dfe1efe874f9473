"""Data-parallel training under real torchrun processes (gloo on CPU): the ranks agree, they
match one process with the doubled batch, and --resume continues under torchrun."""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from hwr_export.model.checkpoint import load_checkpoint
from hwr_export.train import distributed
from hwr_export.train.distributed import Ranks
from hwr_export.train.loop import TrainConfig, batch_part, train
from hwr_export.train.state import load_run

pytestmark = pytest.mark.slow

TORCHRUN = Path(sys.executable).parent / "torchrun"
WORKER = Path(__file__).parent / "ddp_worker.py"
# 37 lines: 5 global batches of 8 per epoch, the last one 5 lines split 3 + 2 over the ranks.
# Augmentation on, so the per-line generators count.
RUN = dict(
    data="synthetic:37",
    preset="tiny",
    epochs=2,
    lr=3e-3,
    warmup_steps=2,
    val_limit=8,
    save_minutes=0.0,
)


NO_FONTS = tempfile.mkdtemp(prefix="hwr-no-fonts-")  # as the in-process runs see (conftest)


def torchrun(*args: str, ok: bool = True) -> subprocess.CompletedProcess:
    # Synthetic lines depend on the fonts installed: none, as in CI and the in-process runs.
    env = {**os.environ, "GLOO_SOCKET_IFNAME": "lo", "OMP_NUM_THREADS": "1"}
    env["HWR_FONTS_DIR"] = NO_FONTS
    result = subprocess.run(
        [str(TORCHRUN), "--standalone", "--nproc-per-node", "2", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
    )
    assert (result.returncode == 0) == ok, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def bias_before_batch_norm(name: str, model: torch.nn.Module) -> bool:
    """A convolution's bias that batch norm subtracts again: its gradient is zero but for
    rounding, which Adam scales up to full-size random steps, so it is noise in both runs."""
    layers = list(model.cnn)
    if not name.startswith("cnn.") or not name.endswith(".bias"):
        return False
    index = int(name.split(".")[1])
    return isinstance(layers[index], torch.nn.Conv2d) and isinstance(
        layers[index + 1], torch.nn.BatchNorm2d
    )


@pytest.fixture(scope="module")
def ddp_run(tmp_path_factory) -> tuple[Path, str]:
    """2 ranks x 4 lines, 2 epochs straight through; its folder and log."""
    ddp = tmp_path_factory.mktemp("ddp")
    config = json.dumps({**RUN, "batch_size": 4})
    return ddp, torchrun(str(WORKER), str(ddp), config).stderr


def test_two_ranks_agree_and_match_one_process_with_the_doubled_batch(ddp_run, tmp_path):
    ddp, log = ddp_run
    assert "world size 2 (gloo): 2 processes x 4 lines = 8 lines per step" in log
    assert log.count("epoch 2: loss") == 1  # rank 0 alone logs

    rank0 = load_file(ddp / "rank0.safetensors")
    rank1 = load_file(ddp / "rank1.safetensors")
    for name in rank0:
        assert torch.equal(rank0[name], rank1[name]), name

    single = tmp_path / "single"
    progress = train(TrainConfig(**RUN, batch_size=8), single, threads=1)
    ddp_run, single_run = load_run(ddp), load_run(single)
    assert ddp_run["progress"].step == progress.step == 10
    assert ddp_run["config"]["world_size"] == 2 and single_run["config"]["world_size"] == 1
    for a, b in zip(ddp_run["progress"].history, progress.history, strict=True):
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-4)

    model, _ = load_checkpoint(single / "last.safetensors")
    reference = model.state_dict()
    compared = 0
    for name, value in reference.items():
        if bias_before_batch_norm(name, model) or name.endswith("running_mean"):
            continue  # the running mean follows those biases
        torch.testing.assert_close(rank0[name], value, atol=1e-3, rtol=1e-3, msg=name)
        compared += 1
    assert compared > 30

    # The function itself: the same logits (batch statistics, where those biases cancel).
    ddp_model, _ = load_checkpoint(ddp / "last.safetensors")
    images = torch.rand(4, 1, 32, 96)
    with torch.no_grad():
        torch.testing.assert_close(
            ddp_model.train()(images), model.train()(images), atol=2e-3, rtol=1e-3
        )


def test_resume_under_torchrun_continues_from_the_saved_step(ddp_run, tmp_path):
    out = tmp_path / "run"
    common = ["-m", "hwr_export.cli", "train", "--out", str(out), "--threads", "1"]
    options = ["--data", "synthetic:37", "--preset", "tiny", "--batch-size", "4"]
    options += ["--lr", "3e-3", "--warmup-steps", "2", "--val-limit", "8"]
    torchrun(*common, *options, "--epochs", "1")
    assert load_run(out)["progress"].step == 5

    log = torchrun(*common, "--resume", "--epochs", "2").stderr
    assert "resuming at epoch 2, step 5" in log
    assert "world size 2" in log
    run = load_run(out)
    assert run["progress"].step == 10
    assert [r["epoch"] for r in run["progress"].history] == [1, 2]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["config"]["world_size"] == 2
    # Stopped after epoch 1 and resumed, it ends where the straight run ends, bit for bit.
    straight = load_file(ddp_run[0] / "rank0.safetensors")
    resumed = load_file(out / "last.safetensors")
    for name, value in straight.items():
        assert torch.equal(resumed[name], value), name


def test_a_run_resumes_only_with_its_own_world_size(tmp_path):
    out = tmp_path / "run"
    train(TrainConfig(**{**RUN, "epochs": 1}, batch_size=8), out, threads=1)
    result = torchrun("-m", "hwr_export.cli", "train", "--out", str(out), "--resume", ok=False)
    message = "this run trains on 1 process(es) x 8 lines; resume it on 1 (torchrun --nnodes x"
    assert result.stderr.count(message) == 1  # from rank 0; the other rank exits quietly
    assert "hwr_export/" not in result.stderr  # torchrun's own report, no traceback of ours


def test_shards_cover_a_batch_once_with_their_own_augmentation():
    ids = list(range(10, 17))  # 7 lines on 3 ranks: 3 + 2 + 2
    parts = [batch_part(ids, Ranks(r, 3), (0, 1, 2)) for r in range(3)]
    assert [p.ids for p in parts] == [[10, 11, 12], [13, 14], [15, 16]]
    # DistributedDataParallel divides the summed gradients by 3: the weights make it the mean
    # over the 7 lines, each rank's mean loss counting as many times as it has lines.
    assert [p.share for p in parts] == pytest.approx([9 / 7, 6 / 7, 6 / 7])
    whole = batch_part(ids, Ranks(0, 1), (0, 1, 2))
    draws = [rng.random() for p in parts for rng in p.rngs]
    assert draws == [rng.random() for rng in whole.rngs]


def test_a_rank_without_lines_joins_with_weight_zero():
    part = batch_part([5], Ranks(1, 2), (0, 0, 0))
    assert part.ids == [5] and part.share == 0.0
    assert distributed.shard([5], Ranks(0, 2)) == (0, 1)


def test_share_weighted_rank_losses_average_to_the_batch_loss():
    """CTC's mean divides each line's loss by its target length, then averages over lines; DDP
    averages gradients over ranks. With each rank's loss weighted by its share, the average of
    the ranks' gradients is the gradient of the whole batch's loss, for an uneven split too."""
    from hwr_export.model.crnn import CRNN
    from hwr_export.model.presets import get_preset
    from hwr_export.train.loop import _ctc_loss

    torch.manual_seed(0)
    model = CRNN(get_preset("tiny")).eval()  # eval: batch norm does not couple the lines here
    ctc = torch.nn.CTCLoss(blank=0, zero_infinity=True)
    images = torch.rand(7, 1, 32, 64)
    labels = [[1 + (i * 3 + k) % 20 for k in range(2 + i % 4)] for i in range(7)]

    def gradients(ids: list[int], weight: float) -> list[torch.Tensor]:
        model.zero_grad()
        targets = torch.tensor([c for i in ids for c in labels[i]])
        lengths = torch.tensor([len(labels[i]) for i in ids])
        (weight * _ctc_loss(ctc, model(images[ids]), targets, lengths)).backward()
        return [p.grad.clone() for p in model.parameters() if p.grad is not None]

    whole = gradients(list(range(7)), 1.0)
    world = 3
    averaged = [torch.zeros_like(g) for g in whole]
    for rank in range(world):
        part = batch_part(list(range(7)), Ranks(rank, world), (0, 0, 0))
        for total, grad in zip(averaged, gradients(part.ids, part.share), strict=True):
            total += grad / world
    for a, b in zip(averaged, whole, strict=True):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-4)
