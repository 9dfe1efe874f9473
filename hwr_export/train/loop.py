"""`hwr train`: CTC training of a CRNN preset, deterministic and resumable.

Every batch's content, augmentation and dropout are derived from (seed, epoch, batch), so a run
killed at any point and resumed with ``--resume`` ends with the same weights as one never stopped.
Under torchrun the same order is shared by the ranks (``hwr_export.train.distributed``).
"""

from __future__ import annotations

import dataclasses
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from hwr_export.bench.metrics import character_error_rate, word_error_rate
from hwr_export.data.sources import (
    HELD_OUT_FRACTION,
    has_split_folders,
    has_synthetic,
    hold_out,
    open_lines,
)
from hwr_export.model.checkpoint import contract_for, load_checkpoint, save_checkpoint
from hwr_export.model.crnn import CRNN
from hwr_export.model.grow import grow_into
from hwr_export.model.presets import get_preset
from hwr_export.train import distributed
from hwr_export.train.batches import (
    PreparedLines,
    bucket_batches,
    collate,
    pad_to_width,
    prepare_lines,
    training_batch,
)
from hwr_export.train.confidence import frame_entropy
from hwr_export.train.distill import distillation_loss, load_teacher
from hwr_export.train.distributed import Ranks, say
from hwr_export.train.state import (
    BEST_NAME,
    STATE_NAME,
    Progress,
    averaged_won,
    epoch_cer,
    load_run,
    save_run,
    saved_weights_metrics,
    write_metrics,
)
from runtimes.contract import ModelContract
from runtimes.decode import greedy_decode
from runtimes.errors import HwrError


@dataclass
class TrainConfig:
    data: str = "synthetic"  # --data spec for the training split
    val_data: str | None = None  # defaults to `data`
    train_split: str = "train"
    val_split: str = "validation"
    preset: str = "small"
    epochs: int = 10
    batch_size: int = 16
    lr: float = 1e-3
    weight_decay: float = 0.01
    warmup_steps: int = 200  # linear warm-up; CTC diverges or stalls with a cold large step
    schedule: str = "plateau"  # "plateau" (ReduceLROnPlateau on val CER) or "cosine"
    plateau_patience: int = 3
    plateau_factor: float = 0.5
    clip_norm: float = 5.0
    aux_weight: float = 0.1  # weight of the shortcut head's CTC loss
    augment: bool = True
    seed: int = 0
    limit: int | None = None  # use only the first N training lines
    val_limit: int | None = None
    init: str | None = None  # start from this checkpoint's weights (e.g. synthetic pre-training)
    grow: bool = False  # --init may be a smaller preset: copy what fits, start the rest fresh
    save_minutes: float = 5.0  # also save mid-epoch this often
    skip_bad: bool = False
    fresh_synthetic: bool = False  # synthetic training data: new lines every epoch
    # Exponential moving average of the weights (decay per step; 0: off). Validated next to
    # the raw weights each epoch; best.safetensors keeps whichever reads validation better.
    ema: float = 0.0
    # Knowledge distillation: also learn this checkpoint's per-frame outputs (train/distill.py).
    teacher: str | None = None
    distill_weight: float = 1.0  # of the teacher's term, next to the CTC loss's 1
    distill_temperature: float = 1.0  # softens both distributions; > 1 shows more of the ranks
    confidence_penalty: float = 0.0  # frame entropy weight, off the loss (confidence.py)
    world_size: int = (
        1  # training processes (torchrun); each step reads world_size * batch_size lines
    )

    def __post_init__(self) -> None:
        for name in (
            "lr",
            "weight_decay",
            "clip_norm",
            "aux_weight",
            "save_minutes",
            "distill_weight",
            "distill_temperature",
            "confidence_penalty",
        ):
            value = getattr(self, name)
            positive = name in ("lr", "distill_temperature")
            if not (math.isfinite(value) and value >= 0) or (positive and value == 0):
                raise HwrError(
                    f"--{name.replace('_', '-')} must be a finite positive number, got {value}"
                )
        if not (math.isfinite(self.ema) and 0 <= self.ema < 1):
            raise HwrError(f"--ema must be in [0, 1), got {self.ema}")
        for name in ("epochs", "batch_size", "warmup_steps"):
            if getattr(self, name) < 1:
                raise HwrError(
                    f"--{name.replace('_', '-')} must be at least 1, got {getattr(self, name)}"
                )


def train(
    cfg: TrainConfig,
    out: Path,
    resume: bool = False,
    threads: int | None = None,
    device: str = "cpu",
) -> Progress:
    """Train ``cfg`` into ``out``. ``device``: "cpu", "cuda" or "auto" (CUDA when present).

    The device is not part of the run's configuration: a run may resume on another machine.
    The first Ctrl-C saves after the running step and names the command that resumes.
    """
    ranks = distributed.launched_ranks()
    dev = training_device(device, ranks.local_rank)
    ranks = distributed.join(ranks, dev)
    finished = False
    try:
        with ctrl_c_flag(announce=ranks.is_main) as interrupted:
            progress = _train(cfg, out, resume, threads, dev, ranks, interrupted)
        finished = True
        return progress
    finally:
        distributed.leave(ranks, finished)


def _train(
    cfg: TrainConfig,
    out: Path,
    resume: bool,
    threads: int | None,
    dev: torch.device,
    ranks: Ranks,
    interrupted: threading.Event,
) -> Progress:
    # Ranks sharing a machine share its cores.
    torch.set_num_threads(threads or max(1, (os.cpu_count() or 1) // ranks.local_world_size))
    out = Path(out)
    state: dict[str, Any] | None = None
    if resume:
        state = distributed.from_main(lambda: load_run(out), ranks)
        cfg = resumed_config(state["config"], cfg)
        if cfg.world_size != ranks.world_size:
            distributed.stop(
                ranks,
                f"{out}: this run trains on {cfg.world_size} process(es) x {cfg.batch_size} lines; "
                f"resume it on {cfg.world_size} (torchrun --nnodes x --nproc-per-node), "
                f"not {ranks.world_size}",
            )
    else:
        cfg = dataclasses.replace(cfg, world_size=ranks.world_size)
        distributed.from_main(lambda: _check_new_run(out), ranks)
    config = get_preset(cfg.preset)
    contract = contract_for(config)
    drawn_epoch = state["progress"].epoch if state else 0
    train_data = _training_lines(cfg, contract, drawn_epoch)
    val_spec = cfg.val_data or cfg.data
    val_samples = open_lines(val_spec, cfg.val_split, None if _holds_out(cfg) else cfg.val_limit)
    if _holds_out(cfg):
        print(
            f"hwr: {cfg.data} has no split folders: validating on {HELD_OUT_FRACTION:.0%} of its "
            "lines held out from training (or give --val-data)",
            file=sys.stderr,
        )
        val_samples = hold_out(val_samples, "validation")
    val_samples = val_samples[: cfg.val_limit] if cfg.val_limit else val_samples
    val_data = prepare_lines(val_samples, contract, cfg.skip_bad)
    say(
        ranks,
        f"hwr: {len(train_data)} training lines, {len(val_data)} validation lines, on {dev}; "
        + ranks.describe(cfg.batch_size),
    )

    model = _initial_model(cfg, config, ranks, resuming=state is not None).to(dev)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    step_lines = cfg.batch_size * ranks.world_size  # one step reads this many lines in all
    steps_per_epoch = math.ceil(len(train_data) / step_lines)
    scheduler = _scheduler(cfg, optimizer, steps_per_epoch)
    progress = Progress()
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        progress = state["progress"]
        say(ranks, f"hwr: resuming at epoch {progress.epoch + 1}, step {progress.step}")
    ema = weight_average(model, cfg.ema, state.get("ema") if state else None)
    teacher = _teacher(cfg, contract, dev, ranks)
    forward = _training_forward(model, ranks, dev, uses_shortcut=cfg.aux_weight > 0)
    ctc = nn.CTCLoss(blank=0, zero_infinity=True)
    config_dict = dataclasses.asdict(cfg)

    while progress.epoch < cfg.epochs:
        epoch_start, last_save = time.time(), time.time()
        if cfg.fresh_synthetic and drawn_epoch != progress.epoch:
            drawn_epoch = progress.epoch
            train_data = _training_lines(cfg, contract, drawn_epoch)
        batches = bucket_batches(train_data.widths, step_lines, _rng(cfg.seed, progress.epoch))
        forward.train()
        if progress.batch == 0:
            progress.epoch_losses = []
        losses = progress.epoch_losses  # saved with the run: a resumed epoch logs all its steps
        bar = tqdm(
            total=len(batches),
            initial=progress.batch,
            desc=f"epoch {progress.epoch + 1}/{cfg.epochs}",
            unit="batch",
            file=sys.stderr,
            dynamic_ncols=True,
            mininterval=1 if sys.stderr.isatty() else 30,  # a log file gets a line every 30 s
            disable=not ranks.is_main,
        )
        lines = 0
        while progress.batch < len(batches):
            ids = batches[progress.batch]
            part = batch_part(ids, ranks, (cfg.seed, progress.epoch, progress.batch))
            torch.manual_seed(cfg.seed * 1_000_003 + progress.step)
            _plateau_warmup(cfg, optimizer, progress.step)
            loss_sum = _train_step(
                forward, optimizer, ctc, cfg, train_data, part, contract, dev, ranks, teacher
            )
            # One collective per step: the batch's mean loss and whether any rank was interrupted,
            # so every rank takes the same decision below.
            total, stops = distributed.sum_across([loss_sum, float(interrupted.is_set())], ranks)
            loss = total / len(ids)
            if not math.isfinite(loss):
                distributed.stop(
                    ranks,
                    f"training diverged at step {progress.step + 1} (loss {loss}); the run in "
                    f"{out} keeps its last finite state (try a lower --lr)",
                )
            if cfg.schedule == "cosine":
                scheduler.step()
            if ema is not None:
                ema.update_parameters(model)
            losses.append(loss)
            lines += len(ids)
            progress.batch += 1
            progress.step += 1
            bar.update(1)
            bar.set_postfix(
                loss=f"{np.mean(losses[-50:]):.3f}", lr=f"{optimizer.param_groups[0]['lr']:.2e}"
            )
            if stops:  # Ctrl-C, taken between two steps: a consistent state
                if ranks.is_main:
                    save_run(out, model, optimizer, scheduler, progress, config_dict, ema)
                distributed.stop(
                    ranks,
                    f"interrupted; saved at epoch {progress.epoch + 1}, step {progress.step}: "
                    f"continue with `hwr train --out {out} --resume`"
                    + (" under the same torchrun" if ranks.distributed else ""),
                )
            if time.time() - last_save > cfg.save_minutes * 60:
                progress.seconds += time.time() - last_save
                last_save = time.time()
                if ranks.is_main:
                    save_run(out, model, optimizer, scheduler, progress, config_dict, ema)
        bar.close()
        progress.seconds += time.time() - last_save
        metrics = distributed.from_main(
            lambda: evaluate(model, val_data, contract, cfg.batch_size, ctc), ranks
        )
        if ema is not None:
            averaged = distributed.from_main(
                lambda: evaluate(averaged_crnn(ema), val_data, contract, cfg.batch_size, ctc),
                ranks,
            )
            metrics.update({f"ema_{name}": value for name, value in averaged.items()})
        elapsed = time.time() - epoch_start
        record = {
            "epoch": progress.epoch + 1,
            "step": progress.step,
            "train_loss": float(np.mean(losses)) if losses else None,
            **metrics,
            "lr": optimizer.param_groups[0]["lr"],
            "lines_per_s": lines / elapsed if lines else None,
            "seconds": round(progress.seconds, 1),
        }
        progress.history.append(record)
        _epoch_end_schedule(cfg, scheduler, metrics["val_cer"], progress.step)
        say(
            ranks,
            f"epoch {record['epoch']}: loss {record['train_loss']:.3f} val_loss {metrics['val_loss']:.3f} "
            f"CER {metrics['val_cer']:.2%} WER {metrics['val_wer']:.2%}"
            + (
                f"; averaged weights CER {metrics['ema_val_cer']:.2%} WER {metrics['ema_val_wer']:.2%}"
                if ema is not None
                else ""
            ),
        )
        if epoch_cer(record) < progress.best_cer:
            progress.best_cer = epoch_cer(record)
            ema_won = averaged_won(record)
            if ranks.is_main:
                save_checkpoint(
                    averaged_crnn(ema) if ema is not None and ema_won else model,
                    out / BEST_NAME,
                    {**saved_weights_metrics(record), "data": cfg.data, "val_data": val_spec},
                )
        progress.epoch += 1
        progress.batch = 0
        if ranks.is_main:
            save_run(out, model, optimizer, scheduler, progress, config_dict, ema)
            write_metrics(out, config_dict, progress)
    return progress


@dataclass(frozen=True)
class BatchPart:
    """This rank's lines of one global batch, each with its own augmentation generator."""

    ids: list[int]
    rngs: list[np.random.Generator]
    share: float  # this rank's lines / the batch's lines, times the world size (loss weight)


def batch_part(ids: list[int], ranks: Ranks, key: tuple[int, int, int]) -> BatchPart:
    """The slice of global batch ``ids`` this rank trains on; line j of the batch is augmented
    with generator (seed, epoch, batch, j) whichever rank holds it. A rank left without lines
    (a last batch shorter than the world) runs the batch's first line with weight 0, as every
    rank must join the gradient average."""
    start, stop = distributed.shard(ids, ranks)
    if start == stop:
        return BatchPart(ids[:1], [_rng(*key, 0)], 0.0)
    share = (stop - start) * ranks.world_size / len(ids)
    return BatchPart(ids[start:stop], [_rng(*key, j) for j in range(start, stop)], share)


def _check_new_run(out: Path) -> None:
    if (out / STATE_NAME).exists():
        raise HwrError(
            f"{out}: holds a training run already; pass --resume or choose another --out"
        )
    check_writable(out)  # now, not after the first epoch


def _training_forward(
    model: CRNN, ranks: Ranks, device: torch.device, uses_shortcut: bool
) -> nn.Module:
    """The module a step calls: the model's training forward, wrapped in DistributedDataParallel
    (with batch norm over the global batch) under torchrun."""
    forward = distributed.TrainingForward(model)
    if not ranks.distributed:
        return forward
    from torch.nn.parallel import DistributedDataParallel

    distributed.sync_batch_norms(model)
    return DistributedDataParallel(
        forward,
        device_ids=[device.index] if device.type == "cuda" else None,
        # --aux-weight 0 leaves the shortcut head out of the loss: DDP must not wait for it
        find_unused_parameters=model.shortcut is not None and not uses_shortcut,
    )


@contextmanager
def ctrl_c_flag(announce: bool = True) -> Iterator[threading.Event]:
    """An event set by the first Ctrl-C (the loop saves and stops after the running step);
    a second Ctrl-C interrupts at once. Only the main thread can take signals."""
    flag = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return
    previous = signal.getsignal(signal.SIGINT)

    def first(signum: int, frame: object) -> None:
        flag.set()
        signal.signal(signal.SIGINT, previous)
        if announce:  # under torchrun every rank gets the Ctrl-C; rank 0 says it
            print("hwr: stopping after this step (Ctrl-C again to stop at once)", file=sys.stderr)

    signal.signal(signal.SIGINT, first)
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)


def check_writable(out: Path) -> None:
    """Create ``out`` and prove a file can be written there, before any training."""
    import tempfile

    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as exc:
        raise HwrError(f"{out}: cannot write the run here ({exc.strerror or exc})") from None


# What may change when a run resumes; everything else must match the saved run.
# (--ema only watches the weights: added on resume, it starts from the weights of that moment.)
CHANGEABLE_ON_RESUME = ("epochs", "save_minutes", "skip_bad", "ema")


def resumed_config(saved: dict[str, Any], asked: TrainConfig) -> TrainConfig:
    """The saved run's configuration, with the changes a resume may make (logged);
    any other difference is an error rather than a silently ignored flag."""
    try:
        config = TrainConfig(**saved)
    except TypeError as exc:
        raise HwrError(f"the saved run's configuration does not fit this hwr ({exc})") from None
    conflicts = [
        f"--{name.replace('_', '-')} {getattr(asked, name)!r} (the run has {getattr(config, name)!r})"
        for name in (f.name for f in dataclasses.fields(TrainConfig))
        if name not in CHANGEABLE_ON_RESUME and getattr(asked, name) != getattr(config, name)
    ]
    if conflicts:
        raise HwrError(
            "--resume continues the saved run; these differ from it: " + "; ".join(conflicts)
        )
    changes = {
        name: getattr(asked, name)
        for name in CHANGEABLE_ON_RESUME
        if getattr(asked, name) != getattr(config, name)
    }
    for name, value in changes.items():
        print(
            f"hwr: resuming with --{name.replace('_', '-')} {value} (was {getattr(config, name)})",
            file=sys.stderr,
        )
    return dataclasses.replace(config, **changes)


def _holds_out(cfg: TrainConfig) -> bool:
    """Training and validation would read the same lines: hold some out instead."""
    return cfg.val_data in (None, cfg.data) and not has_split_folders(cfg.data)


def _training_lines(cfg: TrainConfig, contract: ModelContract, epoch: int) -> PreparedLines:
    """The training split; with ``fresh_synthetic``, epoch ``epoch``'s own synthetic lines."""
    if cfg.fresh_synthetic and not has_synthetic(cfg.data):
        raise HwrError(f"--fresh-synthetic needs synthetic training data, not {cfg.data!r}")
    draw = epoch + 1 if cfg.fresh_synthetic else 0
    samples = open_lines(cfg.data, cfg.train_split, cfg.limit, draw=draw)
    if _holds_out(cfg):
        samples = hold_out(samples, "train")
    return prepare_lines(samples, contract, cfg.skip_bad)


def training_device(name: str, local_rank: int = 0) -> torch.device:
    """The device to train on; asking for CUDA where there is none is an error, never a fallback.
    Under torchrun each process on a node takes the GPU of its local rank."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise HwrError("--device cuda: no CUDA GPU is available to PyTorch here")
    if name not in ("cpu", "cuda"):
        raise HwrError(f"unknown device {name!r}; use cpu, cuda or auto")
    if name == "cuda":
        if local_rank >= torch.cuda.device_count():
            raise HwrError(
                f"local rank {local_rank} has no GPU: this node has {torch.cuda.device_count()} "
                "(start at most that many processes per node)"
            )
        return torch.device("cuda", local_rank)
    return torch.device("cpu")


def _teacher(
    cfg: TrainConfig, contract: ModelContract, device: torch.device, ranks: Ranks
) -> CRNN | None:
    if cfg.teacher is None:
        return None
    teacher = load_teacher(Path(cfg.teacher), contract, device)
    say(
        ranks,
        f"hwr: distilling from {cfg.teacher} (preset {teacher.config.name!r}): weight "
        f"{cfg.distill_weight}, temperature {cfg.distill_temperature}",
    )
    return teacher


def _train_step(
    forward, optimizer, ctc, cfg, data, part, contract, device, ranks, teacher=None
) -> float:
    """One optimizer step on this rank's part of the batch; returns its summed line loss.

    CTC's mean is over lines (each divided by its target length), so the batch mean is the
    sum over ranks of each rank's mean times its share of the lines; DistributedDataParallel
    averages gradients over ranks, hence the weight ``share`` (lines here x world / batch).
    """
    images, targets, lengths = training_batch(data, part.ids, contract, part.rngs, cfg.augment)
    if ranks.distributed:  # every rank pads to the global batch's widest line, as one process would
        images = pad_to_width(images, distributed.max_across(images.shape[-1], ranks), contract)
    images = images.to(device)
    logits, aux = forward(images)
    loss = _ctc_loss(ctc, logits, targets, lengths)
    if aux is not None and cfg.aux_weight > 0:
        loss = loss + cfg.aux_weight * _ctc_loss(ctc, aux, targets, lengths)
    if teacher is not None and cfg.distill_weight > 0:
        with torch.no_grad():
            taught = teacher(images)
        loss = loss + cfg.distill_weight * distillation_loss(
            logits, taught, cfg.distill_temperature
        )
    if cfg.confidence_penalty > 0:
        loss = loss - cfg.confidence_penalty * frame_entropy(logits)
    optimizer.zero_grad(set_to_none=True)
    (loss * part.share if ranks.distributed else loss).backward()
    nn.utils.clip_grad_norm_(forward.parameters(), cfg.clip_norm)
    optimizer.step()
    return float(loss.detach()) * len(part.ids) * (part.share > 0)


def _ctc_loss(ctc: nn.CTCLoss, logits: torch.Tensor, targets: torch.Tensor, lengths: torch.Tensor):
    # Every frame, padding included, takes part: the model learns to emit blank on padding, so a
    # padded batch at inference decodes like a single line. Targets stay on the CPU: CTC on CUDA
    # accepts them there and then uses its deterministic native kernel rather than cuDNN's.
    log_probs = logits.float().log_softmax(2).transpose(0, 1)
    frames = torch.full((logits.shape[0],), logits.shape[1], dtype=torch.long)
    return ctc(log_probs, targets, frames, lengths)


@torch.inference_mode()
def evaluate(
    model: CRNN, data: PreparedLines, contract: ModelContract, batch_size: int, ctc: nn.CTCLoss
) -> dict[str, float]:
    model.eval()
    device = next(model.parameters()).device
    order = np.argsort(data.widths, kind="stable")
    hyps: dict[int, str] = {}
    losses = []
    for start in range(0, len(order), batch_size):
        ids = order[start : start + batch_size].tolist()
        logits = model(collate([data.images[i] for i in ids], contract).to(device)).cpu()
        targets, lengths = data.targets(ids)
        losses.append(float(_ctc_loss(ctc, logits, targets, lengths)) * len(ids))
        for i, row in zip(ids, logits.numpy(), strict=False):
            hyps[i] = greedy_decode(row, contract.charset)[0]
    refs = data.texts
    preds = [hyps[i] for i in range(len(refs))]
    cer, wer = character_error_rate(refs, preds), word_error_rate(refs, preds)
    return {  # prepared lines always hold text, so the rates exist
        "val_loss": sum(losses) / len(refs),
        "val_cer": cer if cer is not None else float("nan"),
        "val_wer": wer if wer is not None else float("nan"),
    }


def weight_average(
    model: CRNN, decay: float, saved: dict[str, Any] | None
) -> torch.optim.swa_utils.AveragedModel | None:
    """The moving average of ``model``'s weights and buffers (BatchNorm statistics too), or
    None when ``decay`` is 0; ``saved``: its state from the run being resumed."""
    if decay <= 0:
        return None
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)
    if saved is not None:
        ema.load_state_dict(saved)
    return ema


def averaged_crnn(ema: torch.optim.swa_utils.AveragedModel) -> CRNN:
    """The CRNN inside the average (evaluated and saved like any model)."""
    module = ema.module
    assert isinstance(module, CRNN)
    return module


def _initial_model(cfg: TrainConfig, config, ranks: Ranks, resuming: bool = False) -> CRNN:
    """A fresh model, or ``--init``'s weights; a resumed run takes its weights from its state,
    so the --init file need not exist any more."""
    torch.manual_seed(cfg.seed)
    model = CRNN(config)
    if cfg.init and not resuming:
        source, _ = load_checkpoint(Path(cfg.init))
        if cfg.grow:
            report = grow_into(model, source, cfg.init)
            say(ranks, f"hwr: grew {source.config.name!r} into {config.name!r}: {report.summary()}")
        elif source.config != config:
            raise HwrError(
                f"{cfg.init}: preset {source.config.name!r} does not match {cfg.preset!r} "
                "(--grow starts a larger preset from a smaller one)"
            )
        else:
            model.load_state_dict(source.state_dict())
    elif cfg.grow and not resuming:
        raise HwrError("--grow needs --init: the checkpoint to grow from")
    return model


def _scheduler(cfg: TrainConfig, optimizer, steps_per_epoch: int):
    if cfg.schedule == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, mode="min", factor=cfg.plateau_factor, patience=cfg.plateau_patience
        )
    if cfg.schedule == "cosine":
        total = max(1, cfg.epochs * steps_per_epoch)

        def factor(step: int) -> float:
            if step < cfg.warmup_steps:
                return (step + 1) / cfg.warmup_steps
            t = min(1.0, (step - cfg.warmup_steps) / max(1, total - cfg.warmup_steps))
            return 0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * t))

        return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    raise HwrError(f"unknown schedule {cfg.schedule!r}; use plateau or cosine")


def _plateau_warmup(cfg: TrainConfig, optimizer, step: int) -> None:
    """Linear warm-up before ReduceLROnPlateau takes over (cosine has it in its lambda)."""
    if cfg.schedule == "plateau" and step <= cfg.warmup_steps:
        for group in optimizer.param_groups:
            group["lr"] = cfg.lr * min(1.0, (step + 1) / cfg.warmup_steps)


def _epoch_end_schedule(cfg: TrainConfig, scheduler, val_cer: float, step: int) -> None:
    if cfg.schedule == "plateau" and step >= cfg.warmup_steps:
        scheduler.step(val_cer)


def _rng(*key: int) -> np.random.Generator:
    return np.random.default_rng(list(key))
