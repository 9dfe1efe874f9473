"""Hugging Face Hub: model push and hf:// loading, without network (mocked client, offline mode)."""

import pytest
from typer.testing import CliRunner

from hwr_export import hub
from hwr_export.cli import app
from hwr_export.model.source import resolve_model
from runtimes.errors import HwrError


def test_repo_spec_parsing():
    assert hub.split_repo_spec("me/lines") == ("me/lines", None)
    assert hub.split_repo_spec("me/lines/onnx/model.onnx") == ("me/lines", "onnx/model.onnx")
    with pytest.raises(HwrError, match="expected hf://OWNER/REPO"):
        hub.split_repo_spec("justone")


def test_offline_download_is_a_one_line_error(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(HwrError, match=r"hf://someone/model/model.onnx: cannot download") as info:
        resolve_model("hf://someone/model/model.onnx")
    assert "\n" not in str(info.value)


def test_hf_model_resolves_to_the_downloaded_file(monkeypatch, tmp_path):
    local = tmp_path / "model.safetensors"
    local.write_bytes(b"x")
    calls = []

    def fake_download(repo_id, filename):
        calls.append((repo_id, filename))
        return str(local)

    monkeypatch.setattr("huggingface_hub.hf_hub_download", fake_download)
    monkeypatch.setattr(
        "huggingface_hub.list_repo_files", lambda repo_id: ["README.md", "model.safetensors"]
    )
    monkeypatch.setattr("hwr_export.hub._hub_unreachable", lambda: None)
    assert resolve_model("hf://me/hwr-small") == local
    assert calls == [("me/hwr-small", "model.safetensors")]


class FakeApi:
    uploads: list = []

    def create_repo(self, repo_id, private, exist_ok):
        self.uploads.append(("create", repo_id, private))

    def upload_file(self, path_or_fileobj, path_in_repo, repo_id):
        self.uploads.append(("upload", path_in_repo, repo_id))


def test_push_uploads_model_and_card(monkeypatch, tmp_path):
    model, card = tmp_path / "best.onnx", tmp_path / "CARD.md"
    model.write_bytes(b"onnx")
    card.write_text("# card")
    FakeApi.uploads = []
    monkeypatch.setattr("huggingface_hub.HfApi", FakeApi)
    result = CliRunner().invoke(app, ["push", str(model), "me/hwr", "--card", str(card)])
    assert result.exit_code == 0, result.output
    assert "hf://me/hwr/model.onnx" in result.output
    assert FakeApi.uploads == [
        ("create", "me/hwr", False),
        ("upload", "model.onnx", "me/hwr"),
        ("upload", "README.md", "me/hwr"),
    ]


def test_push_offline_is_one_line(monkeypatch, tmp_path):
    model = tmp_path / "m.safetensors"
    model.write_bytes(b"x")

    class OfflineApi:
        def create_repo(self, *args, **kwargs):
            raise ConnectionError("Failed to resolve 'huggingface.co'")

    monkeypatch.setattr("huggingface_hub.HfApi", OfflineApi)
    result = CliRunner().invoke(app, ["push", str(model), "me/hwr"])
    assert result.exit_code == 1
    assert "unreachable (offline?)" in result.output and "Traceback" not in result.output


def test_push_missing_model_is_named(tmp_path):
    result = CliRunner().invoke(app, ["push", str(tmp_path / "none.onnx"), "me/hwr"])
    assert result.exit_code == 1 and "none.onnx: model file not found" in result.output


def test_an_unreachable_hub_fails_at_once_without_retries(monkeypatch, tmp_path):
    import socket

    import huggingface_hub.constants as constants

    with socket.socket() as closed:  # a loopback port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setattr(constants, "ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    calls = []
    monkeypatch.setattr("huggingface_hub.list_repo_files", lambda *a, **k: calls.append(a))
    with pytest.raises(HwrError, match="Hugging Face Hub is unreachable") as info:
        resolve_model("hf://someone/model")
    assert "\n" not in str(info.value) and calls == []  # never reached the retrying client
