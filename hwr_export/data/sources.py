"""Line datasets behind one spec string: synthetic, a local folder, or a Hugging Face dataset id.

open_lines("synthetic:500", "train")
open_lines("../shared/data/iam-lines-64", "validation")   # imagefolder with split folders
open_lines("my_pairs/")                                    # NAME.png + NAME.txt pairs
open_lines("Teklia/IAM-line", "test")                      # Hugging Face Hub
open_lines("../shared/data/iam-lines-64+synthetic:2000")   # a mix: both sources, one list
"""

from __future__ import annotations

import hashlib
import json
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path, PurePath
from typing import Any

from PIL import Image

from runtimes.errors import HwrError
from runtimes.preprocess import IMAGE_SUFFIXES

SYNTHETIC_DEFAULT_COUNT = 1000
SPLIT_SEEDS = {"train": 0, "validation": 1, "test": 2}  # disjoint synthetic lines per split


@dataclass
class LineSample:
    """One text line. The image is read on first access, so opening a dataset is cheap."""

    name: str  # file name or dataset row id, used in every error message
    text: str
    loader: Callable[[], Image.Image]
    writer: str | None = None  # who wrote it, where the dataset says (IAM's metadata does)

    @property
    def image(self) -> Image.Image:
        try:
            image = self.loader()
            image.load()
        except FileNotFoundError:
            raise HwrError(f"{self.name}: image file not found") from None
        except (OSError, ValueError, SyntaxError) as exc:
            raise HwrError(f"{self.name}: cannot read image ({exc})") from None
        if image.width == 0 or image.height == 0:
            raise HwrError(f"{self.name}: image has zero size")
        return image


def open_lines(
    spec: str, split: str = "train", limit: int | None = None, draw: int = 0
) -> Sequence[LineSample]:
    """Resolve a ``--data`` spec to a list of samples (images not yet decoded).

    ``draw`` > 0 gives synthetic data a fresh set of lines (same count), e.g. one per epoch.
    Specs joined by ``+`` are mixed (e.g. real lines plus synthetic ones, so that fine-tuning
    keeps what pre-training taught); ``limit`` applies to each part.
    """
    parts = mix_parts(spec)
    if len(parts) > 1:
        return [sample for part in parts for sample in open_lines(part, split, limit, draw)]
    if spec == "synthetic" or spec.startswith("synthetic:"):
        samples = _synthetic(spec, split, limit, draw)
    elif Path(spec).exists():
        samples = _local(Path(spec), split)
    elif "/" in spec and not spec.startswith((".", "/")):
        samples = _hub(spec, split)
    else:
        raise HwrError(f"{spec}: data not found (a folder, 'synthetic[:N]' or a Hugging Face id)")
    samples = list(samples[:limit] if limit else samples)
    if not samples:
        raise HwrError(f"{spec}: no lines found for split {split!r}")
    return samples


HELD_OUT_FRACTION = 0.1  # of a folder without split subfolders, kept for validation


def mix_parts(spec: str) -> list[str]:
    """The sources of a ``+``-joined spec; a path that exists as written is one source."""
    if "+" not in spec or Path(spec).exists():
        return [spec]
    parts = [part.strip() for part in spec.split("+")]
    if not all(parts):
        raise HwrError(f"{spec}: an empty part in a '+' mix of data sources")
    return parts


def has_synthetic(spec: str) -> bool:
    return any(part.startswith("synthetic") for part in mix_parts(spec))


def has_split_folders(spec: str) -> bool:
    """False for a local folder that holds its lines directly (no train/ validation/ ...):
    its "train" and "validation" splits would be the same lines."""
    parts = mix_parts(spec)
    if len(parts) > 1:
        return all(has_split_folders(part) for part in parts)
    root = Path(spec)
    if spec.startswith("synthetic") or not root.is_dir():
        return True
    return any((root / split).is_dir() for split in SPLIT_SEEDS)


def hold_out(samples: Sequence[LineSample], split: str) -> list[LineSample]:
    """A seeded split of one list of lines: ``HELD_OUT_FRACTION`` of them (chosen by a hash of
    the file name, so the choice never changes, also when the folder moves) for validation, the
    rest for training."""

    def held(sample: LineSample) -> bool:
        key = PurePath(sample.name).name  # not the folder: a moved dataset keeps its split
        digest = hashlib.sha256(key.encode("utf-8", "surrogateescape")).digest()
        return int.from_bytes(digest[:4], "big") < HELD_OUT_FRACTION * 2**32

    return [s for s in samples if held(s) == (split != "train")]


def _synthetic(spec: str, split: str, limit: int | None, draw: int = 0) -> list[LineSample]:
    from hwr_export.data.synthetic import SyntheticLines

    _, _, count_text = spec.partition(":")
    try:
        count = int(count_text) if count_text else SYNTHETIC_DEFAULT_COUNT
    except ValueError:
        raise HwrError(f"{spec}: expected synthetic:N with N a number") from None
    if split == "validation" and not count_text:
        count = 200
    count = min(count, limit) if limit else count
    # Draws are spaced by 100 so they never meet the split seeds 0-3 (validation stays apart).
    lines = SyntheticLines(count, seed=SPLIT_SEEDS.get(split, 3) + 100 * draw)
    # Text comes from the generator's own text source; rendering happens on access.
    return [
        LineSample(f"synthetic-{split}-{i}", lines.text(i), partial(lines.image, i))
        for i in range(count)
    ]


def _local(root: Path, split: str) -> list[LineSample]:
    for folder in (root / split, root):
        if (folder / "metadata.jsonl").is_file():
            return _imagefolder(folder)
    for folder in (root / split, root):
        if folder.is_dir() and any(folder.glob("*.txt")):
            return _pairs(folder)
    raise HwrError(
        f"{root}: no metadata.jsonl or NAME.png + NAME.txt pairs found (also looked in {split}/)"
    )


def _imagefolder(folder: Path) -> list[LineSample]:
    """Hugging Face imagefolder layout: metadata.jsonl rows with file_name and text."""
    meta = folder / "metadata.jsonl"
    samples = []
    for number, line in enumerate(meta.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{meta}:{number}"
        try:
            row = json.loads(line)
            file_name, text = row["file_name"], row["text"]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise HwrError(f"{where}: malformed metadata row ({exc})") from None
        path = folder / file_name
        writer = None if row.get("writer") is None else str(row["writer"])
        samples.append(LineSample(str(path), str(text), partial(Image.open, path), writer))
    return samples


def _pairs(folder: Path) -> list[LineSample]:
    samples = []
    for txt in sorted(folder.glob("*.txt")):
        image_path = next(
            (txt.with_suffix(s) for s in IMAGE_SUFFIXES if txt.with_suffix(s).exists()),
            txt.with_suffix(".png"),
        )
        text = txt.read_text(encoding="utf-8").strip("\r\n")
        samples.append(LineSample(str(image_path), text, partial(Image.open, image_path)))
    return samples


def _hub(dataset_id: str, split: str) -> list[LineSample]:
    rows = load_hub_split(dataset_id, split)
    samples = []
    for i, row in enumerate(rows):
        if "image" not in row or "text" not in row:
            raise HwrError(f"{dataset_id}: expected columns 'image' and 'text', got {sorted(row)}")
        samples.append(
            LineSample(
                f"{dataset_id}[{split}][{i}]",
                str(row["text"]),
                partial(operator.itemgetter("image"), row),
            )
        )
    return samples


def load_hub_split(dataset_id: str, split: str) -> Any:
    """Load one split with `datasets`; offline or unknown ids become a one-line HwrError."""
    import datasets

    from hwr_export.hub import hub_error_reason

    try:
        return datasets.load_dataset(dataset_id, split=split)
    except Exception as exc:  # datasets raises many types (connection, offline, not found)
        reason = hub_error_reason(exc)
        raise HwrError(f"{dataset_id}: cannot load split {split!r} ({reason})") from None
