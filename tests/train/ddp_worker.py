"""Started by torchrun from test_distributed.py: train, then save this rank's own weights.

    torchrun --standalone --nproc-per-node 2 tests/train/ddp_worker.py OUT CONFIG_JSON

Only rank 0 writes checkpoints; this keeps every rank's model so the test can compare them.
"""

import json
import os
import sys
from pathlib import Path

from safetensors.torch import save_file

from hwr_export.train import loop


def main(out: Path, config: dict) -> None:
    seen = {}
    real_step = loop._train_step

    def recording_step(forward, *args, **kwargs):
        seen["forward"] = forward
        return real_step(forward, *args, **kwargs)

    loop._train_step = recording_step
    loop.train(loop.TrainConfig(**config), out, threads=1)
    model = seen["forward"].module.model  # DistributedDataParallel(TrainingForward(CRNN))
    weights = {name: t.detach().contiguous() for name, t in model.state_dict().items()}
    save_file(weights, out / f"rank{os.environ['RANK']}.safetensors")


if __name__ == "__main__":
    main(Path(sys.argv[1]), json.loads(sys.argv[2]))
