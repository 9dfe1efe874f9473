"""Where a model comes from: the bundled default, a local file, or the Hugging Face Hub (hf://)."""

from __future__ import annotations

from pathlib import Path

from runtimes.errors import HwrError

PRETRAINED_DIR = Path(__file__).parents[1] / "pretrained"
DEFAULT_MODEL_NAME = "hwr-wide-iam.safetensors"
HF_PREFIX = "hf://"


def default_model_path() -> Path:
    path = PRETRAINED_DIR / DEFAULT_MODEL_NAME
    if not path.is_file():
        raise HwrError(f"the bundled pretrained model is missing ({path}); pass a model path")
    return path


FLAG_VALUES = {"true", "false", "yes", "no", "on", "off", "1", "0"}


def resolve_model(spec: str | Path | None) -> Path:
    """Turn a CLI model argument into a local file path (downloading hf:// models)."""
    if spec is None or str(spec) == "":
        return default_model_path()
    text = str(spec)
    if text.startswith(HF_PREFIX):
        from hwr_export.hub import download_model

        return download_model(text[len(HF_PREFIX) :])
    path = Path(text)
    if not path.exists():
        if text.lower() in FLAG_VALUES:  # `--int8 true`: the value became the model argument
            raise HwrError(
                f"{text}: model file not found (flags such as --int8 or --force take no "
                f"value: drop the {text!r})"
            )
        raise HwrError(f"{path}: model file not found")
    return path
