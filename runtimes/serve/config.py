"""What a server is told at start: its address, limits, batching, access; and the model it serves."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from runtimes.errors import HwrError

MIB = 1 << 20


@dataclass(frozen=True)
class ServeConfig:
    host: str = "127.0.0.1"  # loopback unless told otherwise
    port: int = 8000
    max_batch_size: int = 16  # lines run through the model together; 1 turns micro-batching off
    max_wait_ms: float = 5.0  # how long a batch's first line waits for company (only while
    #                           other requests are still being read)
    max_upload_bytes: int = 10 * MIB  # whole request body; larger is a 413, unread
    max_image_pixels: int = 16_000_000  # per image, checked on the header before decoding
    max_images: int = 64  # images in one request
    max_queue_lines: int = 1024  # lines waiting for the model; more is a 503 (back-pressure)
    request_timeout_s: float = 30.0  # upload + recognition; then 408 (upload) or 504 (model)
    api_key: str | None = None  # when set, every route but /health needs "Bearer KEY"
    cors_origins: tuple[str, ...] = ()  # browser origins allowed by CORS; none: CORS off
    log_requests: bool = True  # one log line per request

    def __post_init__(self) -> None:
        checks = {
            "max_batch_size": self.max_batch_size >= 1,
            "max_wait_ms": self.max_wait_ms >= 0,
            "max_upload_bytes": self.max_upload_bytes >= 1,
            "max_image_pixels": self.max_image_pixels >= 1,
            "max_images": self.max_images >= 1,
            "max_queue_lines": self.max_queue_lines >= 1,
            "request_timeout_s": self.request_timeout_s > 0,
            "port": 0 <= self.port <= 65535,
        }
        for name, ok in checks.items():
            if not ok:
                raise HwrError(f"serve: {name} out of range: {getattr(self, name)!r}")
        if self.api_key is not None and not self.api_key.strip():
            raise HwrError("serve: the API key is empty")


@dataclass(frozen=True)
class ServedModel:
    """The model file a server loads, as /model reports it."""

    path: Path
    sha256: str
    runtime: str  # onnx, torch, torchscript
    device: str  # cpu, cuda
    decoder: str = "greedy"
    source: Path | None = None  # the checkpoint it was exported from, when it was

    @classmethod
    def describe(
        cls,
        path: str | Path,
        runtime: str,
        device: str = "cpu",
        decoder: str = "greedy",
        source: str | Path | None = None,
    ) -> ServedModel:
        path = Path(path)
        digest = hashlib.sha256()
        try:
            with open(path, "rb") as f:
                for chunk in iter(lambda: f.read(MIB), b""):
                    digest.update(chunk)
        except OSError as exc:
            raise HwrError(f"{path}: cannot read model file ({exc.strerror or exc})") from None
        return cls(
            path, digest.hexdigest(), runtime, device, decoder, Path(source) if source else None
        )
