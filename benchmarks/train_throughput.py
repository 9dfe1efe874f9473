"""Training throughput (lines/s) of each preset on this machine, for the README.

    python benchmarks/train_throughput.py [--steps 8] [--threads 1,2]

Times full optimizer steps (augmentation, forward, CTC with the shortcut head, backward, AdamW)
on batches of 16 synthetic lines 850 px wide at 64 px (the mean IAM line), scaled to each
preset's input height. Run it on an otherwise idle machine: anything else running skews it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
from torch import nn  # noqa: E402

from hwr_export.atomic import atomic_write_text  # noqa: E402
from hwr_export.bench.machine import machine_info, machine_slug  # noqa: E402
from hwr_export.model.crnn import CRNN  # noqa: E402
from hwr_export.model.presets import get_preset, preset_names  # noqa: E402

MEAN_IAM_WIDTH_AT_64 = 850
BATCH = 16
TARGET_LENGTH = 45


def lines_per_second(preset: str, threads: int, steps: int) -> float:
    torch.set_num_threads(threads)
    config = get_preset(preset)
    model = CRNN(config).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    ctc = nn.CTCLoss(zero_infinity=True)
    width = MEAN_IAM_WIDTH_AT_64 * config.input_height // 64
    images = torch.randn(BATCH, 1, config.input_height, width)
    targets = torch.randint(1, config.num_classes, (BATCH * TARGET_LENGTH,))
    lengths = torch.full((BATCH,), TARGET_LENGTH)
    timings = []
    for step in range(steps + 1):
        start = time.perf_counter()
        logits, aux = model.forward_train(images)
        loss = 0
        for out in (logits, aux) if aux is not None else (logits,):
            lp = out.log_softmax(2).transpose(0, 1)
            loss = loss + ctc(lp, targets, torch.full((BATCH,), lp.shape[0]), lengths)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
        if step:  # the first step warms up allocators and kernels
            timings.append(time.perf_counter() - start)
    return BATCH / (sum(timings) / len(timings))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--presets", default=",".join(preset_names()))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args()
    rows = []
    for preset in args.presets.split(","):
        for threads in map(int, args.threads.split(",")):
            steps = max(2, args.steps // 4) if preset == "seed" else args.steps
            rate = lines_per_second(preset, threads, steps)
            rows.append({"preset": preset, "threads": threads, "lines_per_s": round(rate, 2)})
            print(f"{preset:<6} threads={threads}: {rate:8.2f} lines/s")
    info = machine_info("cpu")
    result = {"machine": info, "batch": BATCH, "width_at_64px": MEAN_IAM_WIDTH_AT_64, "rows": rows}
    folder = args.out / machine_slug(info)
    atomic_write_text(folder / "train-throughput.json", json.dumps(result, indent=2) + "\n")
    print(f"wrote {folder / 'train-throughput.json'}")


if __name__ == "__main__":
    main()
