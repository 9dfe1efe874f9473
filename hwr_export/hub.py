"""Hugging Face Hub: publish a model file with its card, and fetch one by ``hf://owner/repo[/file]``."""

from __future__ import annotations

from pathlib import Path

from runtimes.errors import HwrError
from runtimes.recognizer import SUFFIX_RUNTIME

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
    try:
        if filename is None:
            suffixes = tuple(SUFFIX_RUNTIME)
            files = [f for f in list_repo_files(repo_id) if f.endswith(suffixes)]
            if not files:
                raise HwrError(f"hf://{spec}: no model file in the repository")
            filename = DEFAULT_FILENAME if DEFAULT_FILENAME in files else sorted(files)[0]
        return Path(hf_hub_download(repo_id, filename))
    except HwrError:
        raise
    except Exception as exc:  # huggingface_hub raises HTTP, offline and not-found errors
        raise HwrError(f"hf://{spec}: cannot download model ({hub_error_reason(exc)})") from None


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
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    lowered = f"{type(exc).__name__} {exc}".lower()
    offline_words = ("offline", "connection", "resolve", "network", "timeout", "timed out")
    if any(w in lowered for w in offline_words):
        return f"the Hugging Face Hub is unreachable (offline?): {text}"
    return text
