"""Hugging Face Hub: publish a model file with its card, and fetch one by ``hf://owner/repo[/file]``."""

from __future__ import annotations

from pathlib import Path

from runtimes.errors import HwrError, first_line
from runtimes.formats import model_suffixes

DEFAULT_FILENAME = "model.safetensors"


def split_repo_spec(spec: str) -> tuple[str, str | None]:
    """``owner/repo`` or ``owner/repo/path/in/repo.onnx`` -> (repo_id, filename or None)."""
    parts = spec.strip("/").split("/")
    if len(parts) < 2 or not all(parts[:2]):
        raise HwrError(f"hf://{spec}: expected hf://OWNER/REPO[/FILE]")
    filename = "/".join(parts[2:]) or None
    return "/".join(parts[:2]), filename


def download_model(spec: str) -> Path:
    """Download (or take from the local HF cache) a model file; offline gives a one-line error."""
    from huggingface_hub import hf_hub_download, list_repo_files

    repo_id, filename = split_repo_spec(spec)
    if filename is not None:
        try:  # the local cache first: no network needed for a file fetched before
            return Path(hf_hub_download(repo_id, filename, local_files_only=True))
        except Exception:  # not cached (or offline mode): go on to the network
            pass
    unreachable = _hub_unreachable()
    if unreachable:  # fail in seconds, not after the client's many retries
        raise HwrError(
            f"hf://{spec}: cannot download model (the Hugging Face Hub is unreachable: {unreachable})"
        )
    try:
        if filename is None:
            suffixes = model_suffixes()
            files = [f for f in list_repo_files(repo_id) if f.endswith(suffixes)]
            if not files:
                raise HwrError(f"hf://{spec}: no model file in the repository")
            filename = DEFAULT_FILENAME if DEFAULT_FILENAME in files else sorted(files)[0]
        return Path(hf_hub_download(repo_id, filename))
    except HwrError:
        raise
    except Exception as exc:  # huggingface_hub raises HTTP, offline and not-found errors
        raise HwrError(f"hf://{spec}: cannot download model ({hub_error_reason(exc)})") from None


def _hub_unreachable(timeout: float = 3.0) -> str | None:
    """Why the Hub cannot be reached (offline mode, DNS, connection), or None."""
    import socket
    from urllib.parse import urlparse

    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        return "HF_HUB_OFFLINE is set"
    url = urlparse(constants.ENDPOINT)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        socket.create_connection((url.hostname or "", port), timeout=timeout).close()
    except OSError as exc:
        return exc.strerror or str(exc) or type(exc).__name__
    return None


def push_model(model: Path, repo_id: str, card: Path | None = None, private: bool = False) -> str:
    """Create the repo if needed and upload the model (as model.<suffix>) and its card."""
    from huggingface_hub import HfApi

    model = Path(model)
    if not model.is_file():
        raise HwrError(f"{model}: model file not found")
    api = HfApi()
    target = "model" + model.suffix
    try:
        api.create_repo(repo_id, private=private, exist_ok=True)
        api.upload_file(path_or_fileobj=str(model), path_in_repo=target, repo_id=repo_id)
        if card is not None and card.is_file():
            api.upload_file(path_or_fileobj=str(card), path_in_repo="README.md", repo_id=repo_id)
    except Exception as exc:
        raise HwrError(
            f"{repo_id}: upload to the Hugging Face Hub failed ({hub_error_reason(exc)})"
        ) from None
    return f"hf://{repo_id}/{target}"


def hub_error_reason(exc: Exception) -> str:
    """First line of a Hub client error, saying so when the Hub is simply unreachable."""
    text = first_line(exc)
    lowered = f"{type(exc).__name__} {exc}".lower()
    offline_words = ("offline", "connection", "resolve", "network", "timeout", "timed out")
    if any(w in lowered for w in offline_words):
        return f"the Hugging Face Hub is unreachable (offline?): {text}"
    return text
