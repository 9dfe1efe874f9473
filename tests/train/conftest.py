"""Tiny training runs shared by the training tests: a few seconds each on one thread."""

from collections.abc import Callable
from pathlib import Path

import pytest

from hwr_export.train import loop
from hwr_export.train.loop import TrainConfig, train


def _tiny_config(**overrides) -> TrainConfig:
    base = dict(
        data="synthetic:24",
        preset="tiny",
        epochs=2,
        batch_size=8,
        lr=3e-3,
        warmup_steps=2,
        val_limit=8,
        save_minutes=0.0,
    )
    return TrainConfig(**{**base, **overrides})


@pytest.fixture
def tiny_config() -> Callable[..., TrainConfig]:
    """A 2-epoch run of the tiny preset on 24 synthetic lines; keyword arguments override."""
    return _tiny_config


@pytest.fixture
def kill_at_step(monkeypatch) -> Callable[..., None]:
    """``kill_at_step(cfg, out, step=5)``: train until step ``step`` raises KeyboardInterrupt,
    as a kill would (step 5: mid-way through the second epoch, at 3 batches per epoch)."""

    def run(cfg: TrainConfig, out: Path, step: int = 5) -> None:
        real_step, calls = loop._train_step, {"n": 0}

        def dying_step(*args, **kwargs):
            calls["n"] += 1
            if calls["n"] == step:
                raise KeyboardInterrupt
            return real_step(*args, **kwargs)

        monkeypatch.setattr(loop, "_train_step", dying_step)
        with pytest.raises(KeyboardInterrupt):
            train(cfg, out, threads=1)
        monkeypatch.setattr(loop, "_train_step", real_step)

    return run
