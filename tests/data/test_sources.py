"""Every --data source loads, and bad items give one-line errors naming the item."""

import json

import pytest
from PIL import Image

from hwr_export.data import sources
from hwr_export.data.sources import open_lines
from hwr_export.model.checkpoint import contract_for
from hwr_export.model.presets import get_preset
from hwr_export.train.batches import prepare_lines
from runtimes.errors import HwrError

CONTRACT = contract_for(get_preset("tiny"))


def _line(width=120, height=40):
    image = Image.new("L", (width, height), 255)
    image.paste(0, (10, 15, width - 10, 25))
    return image


def _imagefolder(root, rows):
    root.mkdir(parents=True)
    with open(root / "metadata.jsonl", "w") as f:
        for name, text in rows:
            _line().save(root / name)
            f.write(json.dumps({"file_name": name, "text": text}) + "\n")
    return root


def test_imagefolder_with_split_folders(tmp_path):
    _imagefolder(tmp_path / "train", [("a.png", "hello"), ("b.png", "world")])
    _imagefolder(tmp_path / "validation", [("c.png", "again")])
    assert [s.text for s in open_lines(str(tmp_path), "train")] == ["hello", "world"]
    lines = open_lines(str(tmp_path), "validation")
    assert [s.text for s in lines] == ["again"]
    assert lines[0].image.size == (120, 40)


def test_folder_of_image_and_text_pairs(tmp_path):
    for name, text in [("x", "first line"), ("y", "second")]:
        _line().save(tmp_path / f"{name}.png")
        (tmp_path / f"{name}.txt").write_text(text + "\n")
    assert [s.text for s in open_lines(str(tmp_path))] == ["first line", "second"]


def test_a_plus_mix_holds_both_sources_and_fresh_draws_change_only_the_synthetic_part(tmp_path):
    _imagefolder(tmp_path / "train", [("a.png", "hello"), ("b.png", "world")])
    spec = f"{tmp_path}+synthetic:3"
    first, fresh = open_lines(spec, "train", draw=1), open_lines(spec, "train", draw=2)
    assert [s.text for s in first[:2]] == ["hello", "world"] == [s.text for s in fresh[:2]]
    assert len(first) == 5 and [s.text for s in first[2:]] != [s.text for s in fresh[2:]]
    assert sources.has_split_folders(spec) and sources.has_synthetic(spec)
    assert not sources.has_synthetic(str(tmp_path))
    with pytest.raises(HwrError, match="empty part"):
        open_lines(f"{tmp_path}+", "train")


def test_a_folder_whose_name_holds_a_plus_is_one_source(tmp_path):
    folder = tmp_path / "a+b"
    _imagefolder(folder / "train", [("a.png", "plus")])
    assert [s.text for s in open_lines(str(folder), "train")] == ["plus"]


def test_hub_id_loads_through_datasets(monkeypatch):
    rows = [{"image": _line(), "text": "from the hub"}]
    calls = []

    def fake_load(dataset_id, split):
        calls.append((dataset_id, split))
        return rows

    monkeypatch.setattr("datasets.load_dataset", fake_load)
    lines = open_lines("someone/iam-like", "test")
    assert calls == [("someone/iam-like", "test")]
    assert lines[0].text == "from the hub" and lines[0].image.size == (120, 40)


def test_hub_id_offline_is_a_one_line_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")

    def offline(*args, **kwargs):
        raise ConnectionError("Couldn't reach 'Teklia/IAM-line' on the Hub (OfflineModeIsEnabled)")

    monkeypatch.setattr("datasets.load_dataset", offline)
    with pytest.raises(HwrError, match="offline") as info:
        open_lines("Teklia/IAM-line", "train")
    assert "\n" not in str(info.value) and "Teklia/IAM-line" in str(info.value)


def test_synthetic_lines_are_deterministic_and_split_apart():
    a = open_lines("synthetic:3", "train")
    b = open_lines("synthetic:3", "train")
    c = open_lines("synthetic:3", "validation")
    assert [s.text for s in a] == [s.text for s in b]
    assert [s.text for s in a] != [s.text for s in c]
    assert a[0].image.tobytes() == b[0].image.tobytes()


def test_unknown_spec_is_an_error():
    with pytest.raises(HwrError, match="data not found"):
        open_lines("no_such_folder")
    with pytest.raises(HwrError, match="synthetic:N"):
        open_lines("synthetic:many")


@pytest.mark.parametrize(
    ("problem", "message"),
    [
        ("missing", "image file not found"),
        ("corrupt", "cannot read image"),
        ("empty", "empty transcription"),
    ],
)
def test_bad_item_is_named(tmp_path, problem, message):
    root = _imagefolder(tmp_path / "train", [("good.png", "fine"), ("bad.png", "text")])
    if problem == "missing":
        (root / "bad.png").unlink()
    elif problem == "corrupt":
        (root / "bad.png").write_bytes(b"not a png")
    else:
        (root / "metadata.jsonl").write_text(
            '{"file_name": "good.png", "text": "fine"}\n{"file_name": "bad.png", "text": "  "}\n'
        )
    samples = open_lines(str(tmp_path), "train")
    with pytest.raises(HwrError, match=rf"bad\.png: {message}") as info:
        prepare_lines(samples, CONTRACT)
    assert "\n" not in str(info.value)
    kept = prepare_lines(samples, CONTRACT, skip_bad=True)
    assert kept.texts == ["fine"]


def test_malformed_metadata_row_names_the_line(tmp_path):
    root = tmp_path / "train"
    root.mkdir()
    (root / "metadata.jsonl").write_text('{"file_name": "a.png"}\n')
    with pytest.raises(HwrError, match=r"metadata.jsonl:1: malformed metadata row"):
        open_lines(str(root))


def test_characters_outside_the_charset_are_reported(tmp_path, capsys):
    _imagefolder(tmp_path / "train", [("a.png", "café")])
    data = prepare_lines(open_lines(str(tmp_path), "train"), CONTRACT)
    assert data.texts == ["caf"]
    assert "'é' x1" in capsys.readouterr().err


def test_lines_are_resized_to_model_height(tmp_path):
    _imagefolder(tmp_path / "train", [("a.png", "abc")])
    data = prepare_lines(open_lines(str(tmp_path), "train"), CONTRACT)
    assert data.images[0].size == (96, 32)


def test_synthetic_splits_hold_different_lines():
    train = [s.text for s in open_lines("synthetic:6", "train")]
    validation = [s.text for s in open_lines("synthetic:6", "validation")]
    assert not set(train) & set(validation)


def test_training_sees_the_pixels_inference_sees(tmp_path):
    """RGBA and 16-bit lines go through runtimes.preprocess in training too: transparent ink
    on white paper, 16-bit values scaled, never a bare convert("L")."""
    import numpy as np

    from runtimes.preprocess import to_model_input

    rgba = Image.new("RGBA", (120, 40), (0, 0, 0, 0))
    rgba.paste((20, 20, 20, 255), (10, 10, 100, 30))
    wide = Image.fromarray((np.asarray(_line(), dtype=np.uint16) * 257).astype(np.uint16))
    _imagefolder(tmp_path / "train", [("a.png", "abc"), ("b.png", "de")])
    rgba.save(tmp_path / "train" / "a.png")
    wide.save(tmp_path / "train" / "b.png")
    samples = open_lines(str(tmp_path), "train")
    data = prepare_lines(samples, CONTRACT)
    for sample, image in zip(samples, data.images, strict=True):
        np.testing.assert_array_equal(
            to_model_input(image, CONTRACT), to_model_input(sample.image, CONTRACT)
        )
    assert np.asarray(data.images[0]).max() == 255  # transparent paper became white


def test_a_line_left_without_any_known_character_does_not_train(capsys):
    from PIL import Image

    from hwr_export.data.sources import LineSample

    def paper():
        return Image.new("L", (100, 40), 255)

    samples = [
        LineSample("greek.png", "\u03b1\u03b2\u03b3", paper),
        LineSample("ok.png", "ok", paper),
    ]
    data = prepare_lines(samples, CONTRACT)
    assert data.texts == ["ok"]
    assert "1 lines left out" in capsys.readouterr().err
