"""Data-parallel training under torchrun: the process group, the shard of each batch, and the
few collectives that keep N ranks with batch B equal to one process with batch N*B.

    torchrun --standalone --nproc-per-node 2 -m hwr_export.cli train --batch-size 8 ...

Every rank computes the same deterministic batch order with the global batch N*B and takes its
own contiguous slice of each batch. What would otherwise differ from the single process is made
equal here: batch-norm statistics are taken over the global batch (``SyncedBatchNorm2d``, which
unlike torch's SyncBatchNorm also runs on CPU with gloo), every rank pads to the global batch's
widest line (CTC reads padding frames too), and each rank's loss is weighted by its share of the
batch so DistributedDataParallel's gradient average is the mean over the whole batch.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, TypeVar

import torch
import torch.distributed as dist
from torch import nn

from runtimes.errors import HwrError

if TYPE_CHECKING:
    from hwr_export.model.crnn import CRNN

T = TypeVar("T")


@dataclass(frozen=True)
class Ranks:
    """Where this process stands among the training processes."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0  # index on this node: picks the GPU
    local_world_size: int = 1  # processes on this node: they share its cores
    backend: str | None = None  # "gloo" (CPU) or "nccl" (CUDA); None for a single process
    device: str = "cpu"  # where collectives' tensors live (nccl takes CUDA tensors only)

    @property
    def is_main(self) -> bool:
        """Rank 0 alone validates, logs and writes checkpoints."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    def describe(self, batch_size: int) -> str:
        if not self.distributed:
            return f"1 process, {batch_size} lines per step"
        return (
            f"world size {self.world_size} ({self.backend}): {self.world_size} processes x "
            f"{batch_size} lines = {self.world_size * batch_size} lines per step"
        )


def launched_ranks() -> Ranks:
    """The ranks torchrun describes in the environment (a single process without it)."""
    try:
        world = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(os.environ.get("RANK", "0"))
        local = int(os.environ.get("LOCAL_RANK", "0"))
        local_world = int(os.environ.get("LOCAL_WORLD_SIZE", str(world)))
    except ValueError:
        raise HwrError(
            "WORLD_SIZE, RANK, LOCAL_RANK and LOCAL_WORLD_SIZE must be integers (set by torchrun)"
        ) from None
    return Ranks(rank, world, local, local_world)


def join(ranks: Ranks, device: torch.device) -> Ranks:
    """Join the process group torchrun set up: gloo on CPU, nccl on CUDA."""
    if not ranks.distributed:
        return ranks
    backend = "nccl" if device.type == "cuda" else "gloo"
    if backend == "nccl":
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        # Rank 0 validates while the others wait at the next collective: allow a long validation.
        dist.init_process_group(
            backend, rank=ranks.rank, world_size=ranks.world_size, timeout=timedelta(hours=2)
        )
    return dataclasses.replace(ranks, backend=backend, device=str(device))


def leave(ranks: Ranks, finished: bool = False) -> None:
    """Tear down the process group. ``finished``: every rank got here normally, so they first
    wait for each other and none destroys its group while rank 0 still writes the last
    checkpoint (an abort seen at a worker's exit is handled by ``exit_finished_worker``). After
    an error no rank waits: the others may never arrive."""
    if ranks.distributed and dist.is_initialized():
        if finished:
            dist.barrier()
        dist.destroy_process_group()


def exit_finished_worker(ranks: Ranks) -> None:
    """End a torchrun worker whose run has finished and written its files, without the
    interpreter's exit-time teardown. In fresh-clone CI runs on a loaded 2-core machine, a
    resumed run's rank 1 aborted there after its group was destroyed (SIGABRT, "terminate called
    without an active exception": a C++ thread object destroyed while its thread still ran),
    turning a finished run into a failed torchrun. A single process exits normally."""
    if ranks.distributed:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def shard(ids: list[int], ranks: Ranks) -> tuple[int, int]:
    """This rank's contiguous slice [start, stop) of a global batch; sizes differ by at most one
    (rank 0 gets the extra lines), and a rank may get none in a short last batch."""
    base, extra = divmod(len(ids), ranks.world_size)
    start = ranks.rank * base + min(ranks.rank, extra)
    return start, start + base + (ranks.rank < extra)


def sum_across(values: list[float], ranks: Ranks) -> list[float]:
    """Element-wise sum over all ranks (the values themselves for a single process)."""
    if not ranks.distributed:
        return values
    tensor = torch.tensor(values, dtype=torch.float64, device=ranks.device)
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor.cpu().tolist()


def max_across(value: int, ranks: Ranks) -> int:
    if not ranks.distributed:
        return value
    tensor = torch.tensor([value], dtype=torch.long, device=ranks.device)
    dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
    return int(tensor.item())


def from_main(compute: Callable[[], T], ranks: Ranks) -> T:
    """``compute()`` on rank 0, its result sent to every rank. A user error on rank 0 is raised
    on every rank, so none waits forever for a rank that stopped."""
    if not ranks.distributed:
        return compute()
    box: list[object] = [None, None]
    if ranks.is_main:
        try:
            box = [compute(), None]
        except HwrError as exc:
            box = [None, str(exc)]
    dist.broadcast_object_list(box, src=0)  # our own ranks' objects, never a user file
    if box[1] is not None:
        stop(ranks, str(box[1]))
    return box[0]  # type: ignore[return-value]


def stop(ranks: Ranks, message: str) -> None:
    """End every rank on an error all of them met: rank 0 reports it, once; the others exit
    with status 1 quietly."""
    if ranks.is_main:
        raise HwrError(message)
    raise SystemExit(1)


def say(ranks: Ranks, message: str) -> None:
    """A log line, from rank 0 only."""
    if ranks.is_main:
        print(message, file=sys.stderr)


class SyncedBatchNorm2d(nn.BatchNorm2d):
    """BatchNorm2d whose training statistics cover the lines of every rank.

    The same parameters and buffers as BatchNorm2d (checkpoints do not change); in eval mode or
    outside a process group it is BatchNorm2d. The statistics are summed with the differentiable
    all_reduce, so gradients flow through them as through one large batch.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (self.training and dist.is_initialized() and dist.get_world_size() > 1):
            return super().forward(x)
        dims = (0, 2, 3)
        count = torch.tensor([x.shape[0] * x.shape[2] * x.shape[3]], dtype=x.dtype, device=x.device)
        count = all_reduce(count)
        mean = all_reduce(x.sum(dims)) / count
        centred = x - mean[None, :, None, None]
        var = all_reduce(centred.pow(2).sum(dims)) / count
        with torch.no_grad():
            momentum = self.momentum if self.momentum is not None else 0.1
            # BatchNorm2d's defaults (track_running_stats) keep these buffers
            assert self.num_batches_tracked is not None
            assert self.running_mean is not None and self.running_var is not None
            self.num_batches_tracked.add_(1)
            unbiased = var * (count / (count - 1).clamp(min=1))
            self.running_mean.mul_(1 - momentum).add_(momentum * mean.detach())
            self.running_var.mul_(1 - momentum).add_(momentum * unbiased.detach())
        scale = torch.rsqrt(var + self.eps)
        out = centred * scale[None, :, None, None]
        if self.affine:
            out = out * self.weight[None, :, None, None] + self.bias[None, :, None, None]
        return out


class _SumAcrossRanks(torch.autograd.Function):
    """All-reduce (sum) whose gradient is the sum of every rank's gradient: the derivative of
    the total loss of all ranks, as for one large batch."""

    @staticmethod
    def forward(ctx, tensor: torch.Tensor) -> torch.Tensor:
        out = tensor.clone()
        dist.all_reduce(out, op=dist.ReduceOp.SUM)
        return out

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        grad = grad.clone()
        dist.all_reduce(grad, op=dist.ReduceOp.SUM)
        return grad


def all_reduce(tensor: torch.Tensor) -> torch.Tensor:
    return _SumAcrossRanks.apply(tensor)


def sync_batch_norms(model: nn.Module) -> None:
    """Turn every BatchNorm2d of ``model`` into a SyncedBatchNorm2d, in place (same tensors)."""
    for module in model.modules():
        if type(module) is nn.BatchNorm2d:
            module.__class__ = SyncedBatchNorm2d


class TrainingForward(nn.Module):
    """The model's training forward (main and shortcut logits) as ``forward``, which is the one
    method DistributedDataParallel wraps."""

    def __init__(self, model: CRNN) -> None:
        super().__init__()
        self.model = model

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        return self.model.forward_train(images)
