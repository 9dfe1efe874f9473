"""`hwr models` and `hwr train`."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hwr_export.cli.common import user_errors
from runtimes.errors import HwrError

if TYPE_CHECKING:
    from hwr_export.train.loop import TrainConfig


class Schedule(str, Enum):
    plateau = "plateau"
    cosine = "cosine"


@user_errors
def models_command() -> None:
    from hwr_export.model.crnn import CRNN, count_parameters, multiply_adds
    from hwr_export.model.presets import get_preset, preset_names

    typer.echo(f"{'preset':<8} {'height':>6} {'params':>11} {'GMAC/1000px':>12}  description")
    for name in preset_names():
        config = get_preset(name)
        params = count_parameters(CRNN(config))
        # Width scales with height: a line 1000 px wide at 64 px is 2000 px wide at 128 px.
        width = 1000 * config.input_height // 64
        macs = multiply_adds(config, width) / 1e9
        typer.echo(
            f"{name:<8} {config.input_height:>6} {params:>11,} {macs:>12.3f}  {config.description}"
        )
    typer.echo(
        "GMAC/1000px: multiply-adds of one forward pass on a line 1000 px wide at 64 px height."
    )


def _given(ctx: typer.Context, name: str) -> bool:
    """Whether the user set this option (not its default); compared by name, as typer may
    carry its own copy of click's ParameterSource."""
    source = ctx.get_parameter_source(name)
    return source is not None and source.name in ("COMMANDLINE", "ENVIRONMENT")


def _from_saved(saved: dict[str, Any], given: dict[str, Any]) -> TrainConfig:
    from hwr_export.train.loop import TrainConfig

    try:
        return TrainConfig(**{**saved, **given})
    except TypeError as exc:
        raise HwrError(f"the saved run's configuration does not fit this hwr ({exc})") from None


@user_errors
def train_command(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option(help="Run folder: checkpoints, state, metrics.json.")],
    data: Annotated[
        str, typer.Option(help="synthetic[:N], a local folder, or a HF dataset id.")
    ] = "synthetic",
    val_data: Annotated[str | None, typer.Option(help="Validation data (default: --data).")] = None,
    preset: Annotated[str, typer.Option(help="Architecture (see `hwr models`).")] = "small",
    epochs: Annotated[
        int, typer.Option(min=1, help="Passes over the training data (--resume: may extend).")
    ] = 10,
    batch_size: Annotated[int, typer.Option(min=1, help="Lines per training step.")] = 16,
    lr: Annotated[float, typer.Option(help="Peak learning rate (AdamW).")] = 1e-3,
    schedule: Annotated[
        Schedule, typer.Option(help="LR schedule after warm-up.")
    ] = Schedule.plateau,
    warmup_steps: Annotated[
        int, typer.Option(min=1, help="Steps of linear learning-rate warm-up.")
    ] = 200,
    augment: Annotated[bool, typer.Option(help="Slant, scale, stroke, blur, noise.")] = True,
    seed: Annotated[
        int, typer.Option(help="Seed of batch order, augmentation and initial weights.")
    ] = 0,
    limit: Annotated[int | None, typer.Option(help="Use only N training lines.")] = None,
    val_limit: Annotated[int | None, typer.Option(help="Use only N validation lines.")] = None,
    init: Annotated[Path | None, typer.Option(help="Start from this checkpoint's weights.")] = None,
    grow: Annotated[
        bool,
        typer.Option(
            help="--init is a smaller preset (e.g. small for medium, medium for wide): copy "
            "what fits, widen what is narrower (same function), start new layers fresh."
        ),
    ] = False,
    resume: Annotated[
        bool, typer.Option(help="Continue the run in --out where it stopped.")
    ] = False,
    skip_bad: Annotated[
        bool, typer.Option(help="Skip unreadable items instead of stopping.")
    ] = False,
    threads: Annotated[int | None, typer.Option(help="Torch threads (default: all cores).")] = None,
    device: Annotated[
        str, typer.Option(help="cpu, cuda, or auto (CUDA when PyTorch sees a GPU).")
    ] = "cpu",
    fresh_synthetic: Annotated[
        bool, typer.Option(help="Synthetic --data: draw new lines every epoch (pre-training).")
    ] = False,
    ema: Annotated[
        float,
        typer.Option(
            help="Also keep a moving average of the weights (decay per step, e.g. 0.999; 0: "
            "off), validated each epoch; best.safetensors keeps the better of the two."
        ),
    ] = 0.0,
    teacher: Annotated[
        Path | None,
        typer.Option(
            help="Also learn this checkpoint's per-frame outputs (knowledge distillation); "
            "it must share the line height, charset and width stride."
        ),
    ] = None,
    distill_weight: Annotated[
        float, typer.Option(help="Weight of the teacher's term next to the CTC loss.")
    ] = 1.0,
    distill_temperature: Annotated[
        float, typer.Option(help="Softens teacher and student distributions alike.")
    ] = 1.0,
    confidence_penalty: Annotated[
        float,
        typer.Option(
            help="Take this times the mean per-frame entropy off the loss, against "
            "over-confident outputs (e.g. 0.1; 0: off)."
        ),
    ] = 0.0,
) -> None:
    import dataclasses

    from hwr_export.train import distributed
    from hwr_export.train.loop import TrainConfig, train
    from hwr_export.train.state import averaged_won, epoch_cer

    cfg = TrainConfig(
        data=data,
        val_data=val_data,
        preset=preset,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        schedule=schedule.value,
        warmup_steps=warmup_steps,
        augment=augment,
        seed=seed,
        limit=limit,
        val_limit=val_limit,
        init=str(init) if init else None,
        grow=grow,
        skip_bad=skip_bad,
        fresh_synthetic=fresh_synthetic,
        ema=ema,
        teacher=str(teacher) if teacher else None,
        distill_weight=distill_weight,
        distill_temperature=distill_temperature,
        confidence_penalty=confidence_penalty,
    )
    if resume:  # the saved run's settings, except the flags given now (checked by train)
        from hwr_export.train.loop import training_device
        from hwr_export.train.state import load_run

        given = {f.name for f in dataclasses.fields(TrainConfig) if _given(ctx, f.name)}
        # Under torchrun rank 0 reads the run and sends it on: only its node needs --out.
        ranks = distributed.launched_ranks()
        ranks = distributed.join(ranks, training_device(device, ranks.local_rank))
        saved = distributed.from_main(lambda: load_run(out)["config"], ranks)
        cfg = _from_saved(saved, {name: getattr(cfg, name) for name in given})
    progress = train(cfg, out, resume=resume, threads=threads, device=device)
    best = min(progress.history, key=epoch_cer)
    prefix = "ema_" if averaged_won(best) else ""
    typer.echo(
        f"best: epoch {best['epoch']}{' (averaged weights)' if prefix else ''} "
        f"CER {best[prefix + 'val_cer']:.2%} WER {best[prefix + 'val_wer']:.2%} "
        f"-> {out / 'best.safetensors'}"
    )
    distributed.exit_finished_worker(distributed.launched_ranks())
