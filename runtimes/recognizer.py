"""The whole pipeline behind one object: images -> preprocess -> any runtime -> decode -> text.

    rec = Recognizer.load("model.onnx")            # or .ort / .safetensors / .pt
    [pred] = rec.transcribe(["line.png"])
    pred.text, pred.confidence

The runtime is picked by file type; the PyTorch and TorchScript ones are plugins
(``runtimes.plugins``), so torch is imported only when a torch or TorchScript model is loaded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from runtimes.base import RUNTIME_NAMES, Runtime
from runtimes.batching import run_batched
from runtimes.contract import ModelContract
from runtimes.decode import Lexicon, Prediction, decode
from runtimes.errors import HwrError, ImageError
from runtimes.formats import format_of, model_suffixes
from runtimes.lm import LanguageModel
from runtimes.plugins import runtime_factory
from runtimes.preprocess import ImageLike, decode_image, load_image, to_model_input
from runtimes.threads import ThreadPlan, plan_threads

DECODERS = ("greedy", "beam")
# A line is wider than high and, even scanned at 600 dpi, rarely over 600 px high.
MIN_LINE_ASPECT = 1.0
MAX_LINE_HEIGHT = 600
PATHS_PER_CHUNK = 8  # batches' worth of paths read at once: room to sort by width, bounded memory

Input = ImageLike | str | Path | bytes


@dataclass(frozen=True)
class PathResult:
    """The outcome for one image file: a prediction, or the one-line reason it has none."""

    path: Path
    prediction: Prediction | None = None
    error: str | None = None
    warnings: tuple[str, ...] = ()  # e.g. a whole page, or nothing recognised


def not_a_line(width: int, height: int) -> str | None:
    """Why an image does not look like one text line (a page, a photo), or None."""
    if height > MAX_LINE_HEIGHT or width < height * MIN_LINE_ASPECT:
        return (
            f"{width}x{height} px does not look like a single text line "
            "(hwr reads one line per image; crop pages into lines first)"
        )
    return None


def runtime_for(path: Path, runtime: str | None) -> str:
    """The runtime a model file needs; an explicit choice must fit the file type."""
    model_format = format_of(path)
    expected = model_format.runtime if model_format is not None else None
    if runtime is not None and runtime not in RUNTIME_NAMES:
        raise HwrError(f"unknown runtime {runtime!r}; choose one of {', '.join(RUNTIME_NAMES)}")
    if expected is None:
        if runtime is None:
            known = ", ".join(model_suffixes())
            raise HwrError(f"{path}: unknown model file type {path.suffix!r} (expected {known})")
        return runtime
    if runtime is not None and runtime != expected:
        raise HwrError(
            f"{path}: a {path.suffix} file runs with runtime {expected!r}, not {runtime!r}"
            + (
                f" (for ONNX, export it first: hwr export {path} --format onnx)"
                if runtime == "onnx"
                else ""
            )
        )
    return expected


def open_runtime(
    path: str | Path, runtime: str | None = None, device: str = "cpu", threads: int | None = None
) -> Runtime:
    path = Path(path)
    factory = runtime_factory(runtime_for(path, runtime), path)
    return factory(path, device=device, threads=threads)


class Recognizer:
    def __init__(
        self,
        runtime: Runtime,
        decoder: str = "greedy",
        beam_width: int = 10,
        lexicon: Sequence[str] | None = None,
        threads: ThreadPlan | None = None,
        lm: LanguageModel | None = None,
    ) -> None:
        """``threads``: how the runtime was opened and how many batches run at once (default:
        one at a time, the runtime as it is)."""
        if decoder not in DECODERS:
            raise HwrError(f"unknown decoder {decoder!r}; choose one of {', '.join(DECODERS)}")
        if beam_width < 1:
            raise HwrError(f"beam width must be at least 1, got {beam_width}")
        self.runtime = runtime
        self.decoder = decoder
        self.beam_width = beam_width
        self.lexicon = Lexicon(lexicon, runtime.contract.charset) if lexicon is not None else None
        self.threads = threads or ThreadPlan(None, 1, "one batch at a time")
        self.lm = lm  # when set, lines are decoded by its prefix beam search (runtimes.lm)

    @classmethod
    def load(
        cls,
        path: str | Path,
        runtime: str | None = None,
        device: str = "cpu",
        threads: int | None = None,
        decoder: str = "greedy",
        beam_width: int = 10,
        lexicon: Sequence[str] | None = None,
        lm: LanguageModel | str | Path | None = None,
    ) -> Recognizer:
        """``threads`` None: the measured default of ``runtimes.threads.plan_threads``.
        ``lm``: "en" (the bundled English model), an ARPA / KenLM binary file, or a loaded
        LanguageModel; it needs the lm extra (``pip install 'hwr[lm]'``)."""
        if decoder not in DECODERS:  # checked before a model is loaded for nothing
            raise HwrError(f"unknown decoder {decoder!r}; choose one of {', '.join(DECODERS)}")
        if lm is not None and not isinstance(lm, LanguageModel):
            lm = LanguageModel.load(lm)
        plan = plan_threads(runtime_for(Path(path), runtime), device, threads)
        loaded = open_runtime(path, runtime, device, plan.intra_op)
        return cls(loaded, decoder, beam_width, lexicon, threads=plan, lm=lm)

    @property
    def contract(self) -> ModelContract:
        return self.runtime.contract

    def prepare(self, item: Input) -> np.ndarray:
        """One image (object, path, or encoded bytes) as normalized model input; ImageError
        names the file."""
        if isinstance(item, (bytes, bytearray, memoryview)):
            return to_model_input(decode_image(bytes(item)), self.contract)
        if not isinstance(item, (str, Path, Image.Image, np.ndarray)):
            raise ImageError(
                f"cannot read image from a {type(item).__name__} (give a path, a PIL image, "
                "a numpy array or encoded bytes)"
            )
        if isinstance(item, (str, Path)):
            return self._prepare_file(Path(item))[0]
        return to_model_input(item, self.contract)

    def _prepare_file(self, path: Path) -> tuple[np.ndarray, str | None]:
        """Model input of an image file, and a warning if it does not look like one line."""
        try:
            image = load_image(path)
            return to_model_input(image, self.contract), not_a_line(image.width, image.height)
        except ImageError as exc:
            message = str(exc)
            raise ImageError(
                message if message.startswith(str(path)) else f"{path}: {message}"
            ) from None

    def transcribe_prepared(
        self,
        arrays: Sequence[np.ndarray],
        batch_size: int = 16,
        on_model_batch: Callable[[int], None] | None = None,
    ) -> list[Prediction]:
        """Predictions for inputs made by ``prepare`` (or ``to_model_input``), in their order.

        Lets a caller prepare images elsewhere (e.g. a server's request threads) and bring only
        model input to the thread that owns the runtime. ``on_model_batch`` is told the size of
        every batch the runtime runs (lines of equal padded width only, see ``run_batched``).
        """
        if not arrays:
            return []
        if batch_size < 1:
            raise HwrError(f"batch size must be at least 1, got {batch_size}")

        def run(batch: np.ndarray) -> np.ndarray:
            if on_model_batch is not None:
                on_model_batch(len(batch))
            return self.runtime.run(batch)

        def read(logits: np.ndarray) -> Prediction:
            if self.lm is not None:
                return self.lm.predict(logits, self.contract.charset, self.lexicon)
            return decode(
                logits, self.contract.charset, self.decoder, self.beam_width, self.lexicon
            )

        return run_batched(
            arrays, self.contract, run, batch_size, self.threads.parallel_batches, then=read
        )

    def transcribe(
        self, images: Sequence[Input] | str | Path | bytes | Image.Image, batch_size: int = 16
    ) -> list[Prediction]:
        """Predictions in input order; an unreadable image raises ImageError. A single item
        (a path string, bytes, an image) is one image, not a sequence of characters."""
        items: Sequence[Input] = (
            [images] if isinstance(images, (str, Path, bytes, Image.Image)) else images
        )
        arrays = [self.prepare(item) for item in items]
        return self.transcribe_prepared(arrays, batch_size)

    def transcribe_paths(
        self, paths: Iterable[str | Path], batch_size: int = 16
    ) -> Iterator[PathResult]:
        """One result per path in input order, with an error message for an unreadable image;
        reads a few batches of paths at a time, so any number of files fits in memory."""
        chunk: list[Path] = []
        for path in paths:
            chunk.append(Path(path))
            if len(chunk) >= batch_size * PATHS_PER_CHUNK:
                yield from self._transcribe_chunk(chunk, batch_size)
                chunk = []
        if chunk:
            yield from self._transcribe_chunk(chunk, batch_size)

    def _try_prepare_file(self, path: Path) -> tuple[np.ndarray, str | None] | str:
        try:
            return self._prepare_file(path)
        except ImageError as exc:
            return str(exc)

    def _transcribe_chunk(self, paths: list[Path], batch_size: int) -> Iterator[PathResult]:
        arrays: dict[int, np.ndarray] = {}
        errors: dict[int, str] = {}
        shape_warnings: dict[int, str | None] = {}
        workers = min(self.threads.parallel_batches, len(paths))
        if workers > 1:  # decoding and resizing release the GIL, like the runtime
            with ThreadPoolExecutor(workers, thread_name_prefix="hwr-read") as pool:
                prepared = list(pool.map(self._try_prepare_file, paths))
        else:
            prepared = [self._try_prepare_file(path) for path in paths]
        for i, outcome in enumerate(prepared):
            if isinstance(outcome, str):
                errors[i] = outcome
            else:
                arrays[i], shape_warnings[i] = outcome
        readable = sorted(arrays)
        predictions = self.transcribe_prepared([arrays[i] for i in readable], batch_size)
        found = dict(zip(readable, predictions, strict=True))
        for i, path in enumerate(paths):
            prediction = found.get(i)
            warnings = [shape_warnings.get(i)]
            if prediction is not None and not prediction.text:
                warnings.append("no text recognised")
            yield PathResult(path, prediction, errors.get(i), tuple(w for w in warnings if w))
