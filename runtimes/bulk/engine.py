"""The Ray engine: Ray Data streams image paths through a pool of actors, each holding one
Recognizer, and hands the results back to the caller in input order.

Without an address it starts a local Ray cluster (as ``ray.init()`` does); with one it joins an
existing cluster (``ray start --head`` on one node, ``ray start --address`` on the others).
The model file travels to the actors as bytes, so worker nodes need hwr installed, not the model.
"""

from __future__ import annotations

import dataclasses
import logging
import signal
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from runtimes.decode import Prediction
from runtimes.errors import HwrError, RuntimeUnavailableError
from runtimes.recognizer import PathResult, Recognizer

if TYPE_CHECKING:
    import pyarrow as pa
    from ray import ObjectRef

LOCAL_OBJECT_STORE_BYTES = 256 * 1024**2  # paths and results are small; Ray's default is 30% of RAM


@dataclass(frozen=True)
class RecognizerSpec:
    """How every actor builds its Recognizer (one intra-op thread on CPU, one GPU with cuda)."""

    model: bytes | ObjectRef[bytes]  # the file's bytes, or a Ray object reference to them
    suffix: str  # picks the runtime, as the file name would
    runtime: str | None = None
    device: str = "cpu"
    decoder: str = "greedy"
    beam_width: int = 10
    lexicon: tuple[str, ...] | None = None
    batch_size: int = 16

    @classmethod
    def from_file(cls, path: Path, **options: Any) -> RecognizerSpec:
        return cls(Path(path).read_bytes(), Path(path).suffix, **options)


def require_ray() -> ModuleType:
    try:
        import ray
        import ray.data  # noqa: F401  (the data extra: pyarrow, pandas)
    except ImportError:
        raise RuntimeUnavailableError(
            "--engine ray needs Ray: pip install 'hwr[scale]' (ray[data])"
        ) from None
    return ray


class TranscribeActor:
    """One Recognizer, loaded once per actor; ``__call__`` transcribes a batch of paths."""

    def __init__(self, spec: RecognizerSpec) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="hwr-model-")
        model = Path(self._folder.name) / f"model{spec.suffix}"
        model.write_bytes(_model_bytes(spec.model))
        self.recognizer = Recognizer.load(
            model,
            runtime=spec.runtime,
            device=spec.device,
            threads=1,
            decoder=spec.decoder,
            beam_width=spec.beam_width,
            lexicon=list(spec.lexicon) if spec.lexicon is not None else None,
        )
        self.batch_size = spec.batch_size

    def __call__(self, batch: pa.Table) -> pa.Table:
        import pyarrow as pa

        paths = batch.column("path").to_pylist()
        results = list(self.recognizer.transcribe_paths(paths, self.batch_size))
        return pa.table(
            {
                "path": paths,
                "name": batch.column("name"),
                "text": [r.prediction.text if r.prediction else None for r in results],
                "confidence": [r.prediction.confidence if r.prediction else None for r in results],
                "error": [r.error for r in results],
                "warnings": [list(r.warnings) for r in results],
            },
            schema=pa.schema(
                [
                    ("path", pa.string()),
                    ("name", pa.string()),
                    ("text", pa.string()),
                    ("confidence", pa.float64()),
                    ("error", pa.string()),
                    ("warnings", pa.list_(pa.string())),
                ]
            ),
        )


def transcribe_on_ray(
    spec: RecognizerSpec, paths: Sequence[str], workers: int, address: str | None = None
) -> Iterator[PathResult]:
    """One result per path, in input order, from ``workers`` actors on the cluster."""
    ray = require_ray()
    import pyarrow as pa

    with ray_cluster(ray, address, workers, spec.device):
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True
        context.enable_progress_bars = False  # the caller shows its own
        # One block per actor batch: blocks are what Ray hands out, so many small ones spread
        # the work over every actor and keep little in flight when a job is killed.
        # Actors read absolute paths (their working folder is not the caller's); results carry
        # the names as given, so they read like the in-process engine's.
        names = pa.array(list(paths), pa.string())
        absolute = pa.array([str(Path(p).absolute()) for p in paths], pa.string())
        table = pa.table({"path": absolute, "name": names})
        # The model goes to the object store once, not into every actor's constructor arguments.
        spec = dataclasses.replace(spec, model=ray.put(spec.model))
        blocks = [table.slice(i, spec.batch_size) for i in range(0, len(table), spec.batch_size)]
        resources = {"num_gpus": 1} if spec.device == "cuda" else {"num_cpus": 1}
        dataset = ray.data.from_arrow(blocks).map_batches(
            TranscribeActor,
            fn_constructor_kwargs={"spec": spec},
            batch_size=spec.batch_size,
            batch_format="pyarrow",
            compute=ray.data.ActorPoolStrategy(size=workers),
            **resources,
        )
        try:
            for batch in dataset.iter_batches(batch_size=None, batch_format="pyarrow"):
                yield from _results(batch)
        except ray.exceptions.RayError as exc:
            raise HwrError(f"the Ray job failed: {_first_line(exc)}") from None


def _model_bytes(model: bytes | ObjectRef[bytes]) -> bytes:
    if isinstance(model, bytes):
        return model
    import ray

    return ray.get(model)


def _results(batch: pa.Table) -> Iterator[PathResult]:
    columns = {name: batch.column(name).to_pylist() for name in batch.column_names}
    for path, name, text, confidence, error, warnings in zip(
        columns["path"],
        columns["name"],
        columns["text"],
        columns["confidence"],
        columns["error"],
        columns["warnings"],
        strict=True,
    ):
        prediction = Prediction(text, confidence) if text is not None else None
        if error is not None and error.startswith(path):  # errors name the file as given
            error = name + error[len(path) :]
        yield PathResult(Path(name), prediction, error, tuple(warnings or ()))


@contextmanager
def ray_cluster(ray: ModuleType, address: str | None, workers: int, device: str) -> Iterator[None]:
    """Join the cluster at ``address``, or start a local one sized for ``workers`` actors; a
    SIGTERM (a scheduler ending the job) stops like Ctrl-C, so the output keeps what is done."""
    if ray.is_initialized():
        raise HwrError("Ray is already initialised in this process")
    quiet_ray_logs()
    options = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.ERROR}
    try:
        if address:
            ray.init(address=address, **options)
        else:
            ray.init(
                address="local",  # a new cluster, even where RAY_ADDRESS or a `ray start` exists
                num_cpus=workers,  # GPUs: as Ray detects them
                object_store_memory=LOCAL_OBJECT_STORE_BYTES,
                **options,
            )
    except (ConnectionError, RuntimeError, ValueError, ray.exceptions.RayError) as exc:
        if not address:
            raise HwrError(f"cannot start a local Ray cluster ({_first_line(exc)})") from None
        raise HwrError(
            f"cannot join the Ray cluster at {address} ({_first_line(exc)}); if it uses token "
            "authentication, set RAY_AUTH_MODE=token and its token in RAY_AUTH_TOKEN "
            "(or ~/.ray/auth_token)"
        ) from None
    previous = signal.getsignal(signal.SIGTERM)
    try:
        _check_capacity(ray, workers, device, address)
        signal.signal(signal.SIGTERM, _interrupt)
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
        ray.shutdown()


def quiet_ray_logs() -> None:
    """Ray's progress and notices would bury hwr's own lines on stderr; errors still show.
    Its full logs stay in the session folder (/tmp/ray/session_*/logs)."""
    for name in ("ray", "ray.data"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _check_capacity(ray: ModuleType, workers: int, device: str, address: str | None) -> None:
    """Ray would wait forever for actors the cluster cannot place: say so instead."""
    unit = "GPU" if device == "cuda" else "CPU"
    have = int(ray.cluster_resources().get(unit, 0))
    if have < workers:
        where = f"the cluster at {address}" if address else "the local Ray cluster"
        raise RuntimeUnavailableError(
            f"--workers {workers}: {where} has {have} {unit}(s); each worker takes one"
        )


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__
