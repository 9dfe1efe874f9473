"""The export pipeline behind `hwr export` (and the benchmark's export cache).

``export_all`` turns a checkpoint into the exported formats of ``runtimes.formats`` (TorchScript;
ONNX fp32, int8, fp16, ORT format), each named ``<stem><suffix>`` as the registry says.
Each is written to a temporary file and verified against the PyTorch model; all are renamed
together at the end (``hwr_export.atomic.Outputs``): a failed step leaves nothing behind, so the
retry is not refused, and an existing file is kept unless ``force``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from hwr_export.atomic import Outputs
from runtimes.errors import HwrError
from runtimes.formats import FORMATS

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy as np

    from hwr_export.export.verify import CheckResult, RunFn
    from hwr_export.model.crnn import CRNN
    from runtimes.contract import ModelContract

VERIFY_LINES = 64  # lines of the --verify set (or synthetic lines) for the int8/fp16 check


@dataclass(frozen=True)
class ExportRequest:
    checkpoint: Path  # the .safetensors checkpoint
    out_dir: Path
    formats: frozenset[str]  # exported format names of runtimes.formats ("onnx", "onnx-int8")
    calibration: str | None = None  # int8 calibration lines (None: the quantizer's default)
    verify: str | None = None  # lines for the int8/fp16 check (None: the calibration source)
    force: bool = False  # replace existing files


def export_all(
    request: ExportRequest, log: Callable[[str], None] = lambda line: None
) -> dict[str, Path]:
    """Export the checkpoint into ``out_dir``; returns {format name: path}.

    ONNX int8/fp16/ORT files are made from the fp32 ONNX graph, which goes to a scratch folder
    when "onnx" itself is not wanted.
    """
    from hwr_export.export import verify as checks
    from hwr_export.export.quantize import line_batches
    from hwr_export.model.checkpoint import load_checkpoint

    checkpoint, out_dir = Path(request.checkpoint), Path(request.out_dir)
    wanted = set(request.formats)
    exportable = [f.name for f in FORMATS.values() if f.exported]
    unknown = sorted(wanted - set(exportable))
    if unknown:
        raise HwrError(f"unknown export format {unknown[0]!r}; choose from {', '.join(exportable)}")
    targets = {name: out_dir / f"{checkpoint.stem}{FORMATS[name].suffix}" for name in wanted}
    calibration, verify = request.calibration, request.verify
    model, contract = load_checkpoint(checkpoint)
    # One thread: a check needs no speed, and on a busy machine two OpenMP threads waiting for
    # each other made the PyTorch reference over 100x slower.
    with (
        checks.torch_threads(1),
        tempfile.TemporaryDirectory(prefix="hwr-export-") as scratch,
        Outputs(request.force) as outputs,
    ):
        for path in targets.values():  # refuse before any work, not after minutes of calibration
            outputs.stage(path)
        run = _Exports(model, contract, outputs, log)
        if "torchscript" in wanted:
            run.torchscript(targets["torchscript"])
        if wanted <= {"torchscript"}:
            return run.done
        fp32 = run.onnx(
            targets.get("onnx", Path(scratch) / f"{checkpoint.stem}.onnx"), "onnx" in wanted
        )
        if "ort" in wanted:
            run.ort(fp32, targets["ort"])
        if wanted & {"onnx-int8", "onnx-fp16"}:
            source = verify or calibration or f"synthetic:{VERIFY_LINES}"
            splits = ("validation", "test", "train")
            lines = line_batches(source, splits, run.contract, VERIFY_LINES, batch_size=8)
            on = f"{sum(len(b) for b in lines)} lines of {source}"
            if "onnx-int8" in wanted:
                run.int8(fp32, targets["onnx-int8"], calibration, lines, on)
            if "onnx-fp16" in wanted:
                run.fp16(fp32, targets["onnx-fp16"], lines, on)
    run.report()
    return run.done


class _Exports:
    """One export run: each method writes a file through its checker and logs what it found."""

    def __init__(
        self, model: CRNN, contract: ModelContract, outputs: Outputs, log: Callable[[str], None]
    ) -> None:
        from hwr_export.export import verify

        self.checks = verify  # imported here: `hwr --help` must not pay for numpy
        self.model, self.contract, self.outputs, self.log = model, contract, outputs, log
        self.original = verify.memoized(verify.reference_runner(model, contract))
        self.done: dict[str, Path] = {}
        self._found: list[CheckResult] = []  # what the check of the last file found
        self._lines: list[str] = []  # logged once every file has reached its final name
        self._fp32: RunFn | None = None

    def _exact(self, name: str, runner: Callable[[Path], RunFn]) -> Callable[[Path], None]:
        def check(path: Path) -> None:
            found = self.checks.verify_exact(name, self.original, runner(path), self.contract)
            self._found.append(found)

        return check

    def _close(
        self, name: str, runner: Callable[[Path], RunFn], lines: Sequence[np.ndarray], on: str
    ) -> Callable[[Path], None]:
        def check(path: Path) -> None:
            assert self._fp32 is not None
            found = self.checks.verify_close(
                self.checks.compare(name, self._fp32, runner(path), lines, self.contract, on)
            )
            self._found.append(found)

        return check

    def _staged(
        self,
        name: str,
        target: Path,
        write: Callable[[Path], object],
        check: Callable[[Path], None],
    ) -> Path:
        """Write and check ``target``'s temporary file; returns it (renamed at the end)."""
        tmp = self.outputs.write_verified(target, write, check)
        self.done[name] = target
        size = tmp.stat().st_size / 1e6
        self._lines.append(f"{name}: {target} ({size:.2f} MB); {self._found[-1].summary()}")
        return tmp

    def report(self) -> None:
        for line in self._lines:
            self.log(line)

    def torchscript(self, target: Path) -> Path:
        from hwr_export.export.torchscript import write_torchscript

        check = self._exact("torchscript", self.checks.torchscript_runner)
        write = partial(write_torchscript, self.model, self.contract)
        return self._staged("torchscript", target, write, check)

    def onnx(self, target: Path, keep: bool) -> Path:
        """The fp32 graph: staged with the others when kept, else a file in a scratch folder."""
        from hwr_export.export.onnx import write_onnx

        write = partial(write_onnx, self.model, self.contract)
        check = self._exact("onnx", self.checks.onnx_runner)
        if keep:
            path = self._staged("onnx", target, write, check)
        else:
            path = target
            write(path)
            check(path)
        self._fp32 = self.checks.memoized(self.checks.onnx_runner(path))
        return path

    def ort(self, fp32: Path, target: Path) -> Path:
        from hwr_export.export.onnx import write_ort

        check = self._exact("ort", self.checks.onnx_runner)
        path = self._staged("ort", target, lambda tmp: write_ort(fp32, tmp, check), lambda _: None)
        self._reduced_build_config(path, target)
        return path

    def _reduced_build_config(self, ort_file: Path, target: Path) -> None:
        """The operator list for a custom ONNX Runtime build, beside the .ort file."""
        from hwr_export.export.reduced_build import config_path, write_required_operators

        config = config_path(target)
        write = partial(write_required_operators, ort_file, name=target.name)
        tmp = self.outputs.write_verified(config, write)
        self._lines.append(f"ort operators: {config} ({tmp.stat().st_size / 1e6:.3f} MB)")

    def int8(
        self,
        fp32: Path,
        target: Path,
        calibration: str | None,
        lines: Sequence[np.ndarray],
        on: str,
    ) -> Path:
        from hwr_export.export.quantize import calibration_batches, write_int8

        batches = calibration_batches(calibration, self.contract)
        check = self._close("int8", self.checks.onnx_runner, lines, on)
        return self._staged("onnx-int8", target, lambda tmp: write_int8(fp32, tmp, batches), check)

    def fp16(self, fp32: Path, target: Path, lines: Sequence[np.ndarray], on: str) -> Path:
        from hwr_export.export.quantize import write_fp16

        check = self._close("fp16", fp16_runner(), lines, on)
        return self._staged("onnx-fp16", target, lambda tmp: write_fp16(fp32, tmp), check)


def fp16_runner() -> Callable[[Path], RunFn]:
    """CUDA where ONNX Runtime has it (what fp16 is for), else the CPU provider (OrtRuntime
    carries the fp16 workaround)."""
    import onnxruntime as ort

    from hwr_export.export import verify as checks

    device = "cuda" if "CUDAExecutionProvider" in ort.get_available_providers() else "cpu"
    return partial(checks.onnx_runner, device=device)
