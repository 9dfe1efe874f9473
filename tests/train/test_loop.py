"""Training: the loss goes down, checkpoints and logs are written, a killed run resumes exactly."""

import json
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from hwr_export.cli import app
from hwr_export.model.checkpoint import load_checkpoint
from hwr_export.train import loop
from hwr_export.train.loop import train
from hwr_export.train.state import epoch_cer, load_run, saved_weights_metrics
from runtimes.errors import HwrError


def test_a_few_steps_reduce_the_loss(tmp_path, tiny_config):
    progress = train(tiny_config(epochs=4, augment=False, data="synthetic:16"), tmp_path, threads=1)
    losses = [r["train_loss"] for r in progress.history]
    assert losses[-1] < losses[0] * 0.9
    log = json.loads((tmp_path / "metrics.json").read_text())
    assert [r["epoch"] for r in log["epochs"]] == [1, 2, 3, 4]
    assert {"val_cer", "val_wer", "val_loss", "lines_per_s"} <= log["epochs"][0].keys()
    model, contract = load_checkpoint(tmp_path / "best.safetensors")
    assert contract.preset == "tiny" and contract.metrics["val_cer"] == log["best"]["val_cer"]


def test_killed_run_resumes_to_the_same_weights(tmp_path, tiny_config, kill_at_step):
    straight = tmp_path / "straight"
    train(tiny_config(), straight, threads=1)

    killed = tmp_path / "killed"
    kill_at_step(tiny_config(), killed)
    saved = load_run(killed)["progress"]
    assert (saved.epoch, saved.batch, saved.step) == (1, 1, 4)

    train(tiny_config(), killed, resume=True, threads=1)
    a, _ = load_checkpoint(straight / "last.safetensors")
    b, _ = load_checkpoint(killed / "last.safetensors")
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert torch.equal(x, y), name
    assert load_run(killed)["progress"].step == load_run(straight)["progress"].step == 6
    # The log too: the resumed epoch's training loss covers the steps before the kill.
    logs = [json.loads((run / "metrics.json").read_text())["epochs"] for run in (straight, killed)]
    assert [r["train_loss"] for r in logs[0]] == [r["train_loss"] for r in logs[1]]


def test_weight_average_is_validated_kept_and_resumed_exactly(tmp_path, tiny_config, kill_at_step):
    straight = tmp_path / "straight"
    train(tiny_config(ema=0.5), straight, threads=1)
    log = json.loads((straight / "metrics.json").read_text())
    assert {"ema_val_cer", "ema_val_wer", "ema_val_loss"} <= log["epochs"][0].keys()
    best = log["best"]
    assert best == min(log["epochs"], key=lambda r: min(r["val_cer"], r["ema_val_cer"]))
    _, contract = load_checkpoint(straight / "best.safetensors")
    # The contract's val_* are the figures of the weights in the file, whichever won.
    assert contract.metrics["val_cer"] == epoch_cer(best)
    if contract.metrics["weights"] == "ema":
        assert contract.metrics["raw_val_cer"] == best["val_cer"]
        assert contract.metrics["val_wer"] == best["ema_val_wer"]
        assert not any(key.startswith("ema_val_") for key in contract.metrics)
    else:
        assert (
            contract.metrics["weights"] == "raw" and contract.metrics["val_wer"] == best["val_wer"]
        )

    killed = tmp_path / "killed"
    kill_at_step(tiny_config(ema=0.5), killed)
    train(tiny_config(ema=0.5), killed, resume=True, threads=1)
    a, b = load_run(straight), load_run(killed)
    for name, x in a["ema"].items():
        assert torch.equal(x, b["ema"][name]), name
    # The average is not the last weights: it remembers earlier steps.
    assert not torch.equal(a["ema"]["module.head.weight"], a["model"]["head.weight"])


@pytest.mark.parametrize(("ema_cer", "weights", "cer"), [(0.2, "ema", 0.2), (0.4, "raw", 0.3)])
def test_a_checkpoint_carries_the_figures_of_its_own_weights(ema_cer, weights, cer):
    record = {"epoch": 4, "val_cer": 0.3, "val_wer": 0.6, "val_loss": 1.0}
    record |= {"ema_val_cer": ema_cer, "ema_val_wer": 0.5, "ema_val_loss": 0.9}
    metrics = saved_weights_metrics(record)
    assert (metrics["weights"], metrics["val_cer"], metrics["epoch"]) == (weights, cer, 4)
    if weights == "ema":
        assert (metrics["val_wer"], metrics["val_loss"]) == (0.5, 0.9)
        assert (metrics["raw_val_cer"], metrics["raw_val_wer"]) == (0.3, 0.6)
        assert "ema_val_cer" not in metrics
    else:  # the average lost: its figures stay beside the raw ones, under their own names
        assert (metrics["val_wer"], metrics["ema_val_cer"]) == (0.6, 0.4)
        assert "raw_val_cer" not in metrics


def test_weight_averaging_may_start_when_a_run_resumes(tmp_path, capsys, tiny_config):
    train(tiny_config(epochs=1), tmp_path, threads=1)
    assert "ema" not in load_run(tmp_path)
    train(tiny_config(epochs=2, ema=0.9), tmp_path, resume=True, threads=1)
    assert "resuming with --ema 0.9" in capsys.readouterr().err
    assert "ema" in load_run(tmp_path)
    assert "ema_val_cer" in json.loads((tmp_path / "metrics.json").read_text())["epochs"][1]


@pytest.mark.parametrize("decay", [-0.1, 1.0, float("nan")])
def test_a_bad_average_decay_is_a_one_line_error(decay, tiny_config):
    with pytest.raises(HwrError, match="--ema must be in"):
        tiny_config(ema=decay)


def test_a_run_started_from_init_resumes_without_the_init_file(tmp_path, tiny_config):
    """The init weights are only the start: resuming reads the state, not --init again."""
    first = tmp_path / "first"
    train(tiny_config(epochs=1), first, threads=1)
    init = tmp_path / "init.safetensors"
    (first / "best.safetensors").rename(init)
    run = tmp_path / "run"
    train(tiny_config(epochs=1, init=str(init)), run, threads=1)
    init.unlink()
    progress = train(tiny_config(epochs=2, init=str(init)), run, resume=True, threads=1)
    assert progress.epoch == 2


def test_existing_run_is_not_overwritten_without_resume(tmp_path, tiny_config):
    train(tiny_config(epochs=1), tmp_path, threads=1)
    with pytest.raises(HwrError, match="pass --resume"):
        train(tiny_config(epochs=1), tmp_path, threads=1)


def test_resume_without_a_run_is_a_clear_error(tmp_path, tiny_config):
    with pytest.raises(HwrError, match="nothing to resume"):
        train(tiny_config(), tmp_path / "empty", resume=True, threads=1)


def test_cli_trains_and_reports_the_best_epoch(tmp_path):
    out = tmp_path / "run"
    result = CliRunner().invoke(
        app,
        [
            "train",
            "--data",
            "synthetic:16",
            "--preset",
            "tiny",
            "--epochs",
            "1",
            "--batch-size",
            "8",
            "--val-limit",
            "4",
            "--threads",
            "1",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "best: epoch 1" in result.output
    assert (out / "best.safetensors").is_file()


def test_cli_bad_data_is_one_line_without_traceback(tmp_path):
    result = CliRunner().invoke(
        app, ["train", "--data", str(tmp_path / "nope"), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 1
    assert "data not found" in result.output and "Traceback" not in result.output


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error where there is no GPU")
def test_cuda_asked_without_a_gpu_is_an_error_not_a_fallback(tmp_path, tiny_config):
    with pytest.raises(HwrError, match="no CUDA GPU"):
        train(tiny_config(epochs=1), tmp_path, threads=1, device="cuda")
    assert not (tmp_path / "last_state.pt").exists()


def test_auto_device_trains_where_torch_can(tmp_path, tiny_config):
    progress = train(tiny_config(epochs=1), tmp_path, threads=1, device="auto")
    assert progress.epoch == 1 and (tmp_path / "best.safetensors").is_file()


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_training_on_cuda_resumes_on_cpu(tmp_path, tiny_config):
    train(tiny_config(epochs=1), tmp_path, threads=1, device="cuda")
    progress = train(tiny_config(epochs=2), tmp_path, resume=True, threads=1, device="cpu")
    assert progress.epoch == 2
    losses = [r["train_loss"] for r in progress.history]
    assert all(loss == loss for loss in losses)  # finite on both devices


class _RunsCode:
    """A pickle that creates a marker file when it is unpickled."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        import os

        return (os.system, (f"touch {self.marker}",))


def test_crafted_state_file_is_refused_without_running_it(tmp_path, tiny_config):
    train(tiny_config(epochs=1), tmp_path, threads=1)
    marker = tmp_path / "pwned"
    genuine = torch.load(tmp_path / "last_state.pt", weights_only=True)
    torch.save({**genuine, "config": _RunsCode(marker)}, tmp_path / "last_state.pt")
    result = CliRunner().invoke(
        app, ["train", "--out", str(tmp_path), "--data", "synthetic:24", "--resume"]
    )
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "refused" in lines[0] and "last_state.pt" in lines[0]
    assert not marker.exists()
    # The file really is an exploit: its pickle calls os.system (read, never run).
    assert any(name.endswith(" system") for name in _pickled_strings(tmp_path / "last_state.pt"))


def _pickled_strings(path):
    """The strings in a torch.save file's pickle, "module name" of each global it imports."""
    import pickletools
    import zipfile

    with zipfile.ZipFile(path) as archive:
        data = archive.read(next(n for n in archive.namelist() if n.endswith("data.pkl")))
    return {arg for _, arg, _ in pickletools.genops(data) if isinstance(arg, str)}


def test_a_bare_pickle_that_runs_code_is_refused_in_one_line(tmp_path):
    """Not torch.save's zip: a plain pickle (protocol 4) as an attacker would write it."""
    import pickle

    marker = tmp_path / "pwned"
    (tmp_path / "last_state.pt").write_bytes(pickle.dumps(_RunsCode(marker), protocol=4))
    result = CliRunner().invoke(
        app, ["train", "--out", str(tmp_path), "--data", "synthetic:24", "--resume"]
    )
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "refused" in lines[0], result.output
    assert not marker.exists()


def test_a_file_that_is_not_a_state_is_refused_in_one_line(tmp_path):
    torch.save({"model": {}}, tmp_path / "last_state.pt")
    with pytest.raises(HwrError, match="not a training state"):
        load_run(tmp_path)
    (tmp_path / "last_state.pt").write_bytes(b"garbage")
    with pytest.raises(HwrError, match="cannot read training state") as info:
        load_run(tmp_path)
    assert "\n" not in str(info.value)


def test_resume_keeps_the_runs_settings_and_refuses_conflicting_flags(
    tmp_path, tiny_config, kill_at_step
):
    out = tmp_path / "run"
    kill_at_step(tiny_config(epochs=1), out, step=2)
    runner = CliRunner()
    bad = runner.invoke(app, ["train", "--out", str(out), "--resume", "--lr", "999"])
    assert bad.exit_code == 1 and "--lr 999.0" in bad.output and "0.003" in bad.output
    assert len(bad.output.strip().splitlines()) == 1
    bad = runner.invoke(app, ["train", "--out", str(out), "--resume", "--data", "/nonexistent"])
    assert bad.exit_code == 1 and "--data '/nonexistent'" in bad.output
    # No flags: the saved run's own settings (1 epoch), not the CLI defaults (10 epochs).
    done = runner.invoke(app, ["train", "--out", str(out), "--resume", "--threads", "1"])
    assert done.exit_code == 0, done.output
    assert load_run(out)["progress"].epoch == 1
    more = runner.invoke(app, ["train", "--out", str(out), "--resume", "--epochs", "2"])
    assert more.exit_code == 0 and "resuming with --epochs 2 (was 1)" in more.output
    assert load_run(out)["progress"].epoch == 2


@pytest.mark.parametrize("lr", ["-1", "nan", "inf", "0"])
def test_bad_learning_rates_are_one_line_errors(tmp_path, lr):
    result = CliRunner().invoke(app, ["train", "--out", str(tmp_path / "r"), "--lr", lr])
    assert result.exit_code == 1 and "--lr must be a finite positive number" in result.output
    assert len(result.output.strip().splitlines()) == 1 and not (tmp_path / "r").exists()


def test_an_unwritable_run_folder_is_refused_before_training(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = CliRunner().invoke(
        app, ["train", "--out", str(blocker / "run"), "--data", "synthetic:8", "--preset", "tiny"]
    )
    assert result.exit_code == 1 and "cannot write the run here" in result.output
    assert "training lines" not in result.output  # refused before any data was made


def test_a_diverging_run_stops_and_never_saves_non_finite_weights(tmp_path, tiny_config):
    with pytest.raises(HwrError, match="training diverged"):
        train(tiny_config(lr=1e30), tmp_path, threads=1)
    for name in ("best.safetensors", "last.safetensors"):
        if (tmp_path / name).exists():
            model, _ = load_checkpoint(tmp_path / name)
            assert all(torch.isfinite(p).all() for p in model.parameters()), name


def test_ctrl_c_saves_after_the_step_and_names_the_resume_command(
    tmp_path, monkeypatch, tiny_config
):
    import os
    import signal

    real_step, calls = loop._train_step, {"n": 0}
    handler_before = signal.getsignal(signal.SIGINT)  # SIG_IGN under `nohup ... &`

    def step_then_ctrl_c(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            os.kill(os.getpid(), signal.SIGINT)  # a real Ctrl-C, in the middle of a step
        return real_step(*args, **kwargs)

    monkeypatch.setattr(loop, "_train_step", step_then_ctrl_c)
    with pytest.raises(HwrError, match="--resume") as info:
        train(tiny_config(save_minutes=60.0), tmp_path, threads=1)
    assert f"hwr train --out {tmp_path} --resume" in str(info.value)
    assert load_run(tmp_path)["progress"].step == 2
    assert signal.getsignal(signal.SIGINT) is handler_before  # the caller's handler is back


def test_a_folder_without_splits_holds_out_validation_lines(tmp_path, capsys, tiny_config):
    from PIL import Image

    from hwr_export.data.sources import hold_out, open_lines

    folder = tmp_path / "lines"
    folder.mkdir()
    rows = []
    for i in range(40):
        Image.new("L", (64, 32), 255).save(folder / f"l{i}.png")
        rows.append(json.dumps({"file_name": f"l{i}.png", "text": f"word {i}"}))
    (folder / "metadata.jsonl").write_text("\n".join(rows) + "\n")
    samples = open_lines(str(folder), "train")
    train_part, val_part = hold_out(samples, "train"), hold_out(samples, "validation")
    assert val_part and train_part and len(train_part) + len(val_part) == 40
    assert not {s.name for s in train_part} & {s.name for s in val_part}
    # the split follows the file names, not where the folder lies
    moved = tmp_path / "elsewhere"
    folder.rename(moved)
    moved_val = hold_out(open_lines(str(moved), "train"), "validation")
    assert [Path(s.name).name for s in moved_val] == [Path(s.name).name for s in val_part]
    moved.rename(folder)
    progress = train(
        tiny_config(data=str(folder), epochs=1, val_limit=None), tmp_path / "r", threads=1
    )
    err = capsys.readouterr().err
    assert "no split folders" in err
    assert f"{len(train_part)} training lines, {len(val_part)} validation lines" in err
    assert progress.epoch == 1


def test_a_larger_preset_grows_from_a_smaller_run_only_when_asked(tmp_path, capsys, tiny_config):
    small = tmp_path / "small"
    train(tiny_config(preset="small", epochs=1, data="synthetic:8", val_limit=4), small, threads=1)
    init = str(small / "best.safetensors")
    with pytest.raises(HwrError, match="does not match 'medium' \\(--grow starts"):
        train(tiny_config(preset="medium", epochs=1, init=init), tmp_path / "strict", threads=1)
    with pytest.raises(HwrError, match="--grow needs --init"):
        train(tiny_config(preset="medium", epochs=1, grow=True), tmp_path / "bare", threads=1)

    grown = tmp_path / "grown"
    cfg = tiny_config(
        preset="medium", epochs=1, data="synthetic:8", val_limit=4, init=init, grow=True
    )
    train(cfg, grown, threads=1)
    assert (
        "grew 'small' into 'medium': copied 64 tensors; widened: none; fresh: rnn.l2"
        in capsys.readouterr().err
    )
    model, contract = load_checkpoint(grown / "best.safetensors")
    assert contract.preset == "medium" and model.config.lstm_layers == 3
