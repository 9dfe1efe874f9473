"""Training data in memory: lines decoded once at model height, encoded labels, width buckets.

Decoding every image up front costs seconds for IAM-sized sets and turns each training step
into pure compute, which is what a 2-core CPU needs. Bad items are found here, before training.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from hwr_export.data.augment import augment_line
from hwr_export.data.sources import LineSample
from runtimes.contract import ModelContract
from runtimes.errors import HwrError
from runtimes.preprocess import make_batch, resized_width, to_model_input
from runtimes.resize import resize_gray


@dataclass
class PreparedLines:
    images: list[Image.Image]  # grayscale, at model height
    labels: list[list[int]]  # class indices (1-based into the charset)
    texts: list[str]  # targets as the model can learn them (unknown characters removed)
    names: list[str]

    def __len__(self) -> int:
        return len(self.images)

    @property
    def widths(self) -> np.ndarray:
        return np.array([im.width for im in self.images])

    def targets(self, ids: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """Concatenated labels and their lengths, as CTC loss takes them."""
        labels = torch.tensor([c for i in ids for c in self.labels[i]], dtype=torch.long)
        lengths = torch.tensor([len(self.labels[i]) for i in ids], dtype=torch.long)
        return labels, lengths


def prepare_lines(
    samples: Sequence[LineSample], contract: ModelContract, skip_bad: bool = False
) -> PreparedLines:
    """Decode, resize and encode every sample; report bad items and characters outside the charset."""
    index = {ch: i + 1 for i, ch in enumerate(contract.charset)}
    out = PreparedLines([], [], [], [])
    problems: list[str] = []
    unknown: Counter[str] = Counter()
    empty_after_removal: list[str] = []
    for sample in samples:
        try:
            if not sample.text.strip():
                raise HwrError(f"{sample.name}: empty transcription")
            image = resize_to_height(sample.image.convert("L"), contract.input_height)
        except HwrError as exc:
            problems.append(str(exc))
            continue
        unknown.update(ch for ch in sample.text if ch not in index)
        text = "".join(ch for ch in sample.text if ch in index)
        if not text.strip():  # nothing left to learn: CTC would teach it to output nothing
            empty_after_removal.append(sample.name)
            continue
        out.images.append(image)
        out.labels.append([index[ch] for ch in text])
        out.texts.append(text)
        out.names.append(sample.name)
    if problems and not skip_bad:
        more = f" (and {len(problems) - 1} more bad items)" if len(problems) > 1 else ""
        raise HwrError(f"{problems[0]}{more}; fix the data or pass --skip-bad")
    for problem in problems:
        print(f"hwr: skipped {problem}", file=sys.stderr)
    if unknown:
        chars = ", ".join(f"{ch!r} x{n}" for ch, n in unknown.most_common())
        print(
            f"hwr: warning: characters outside the model charset were removed from targets: {chars}",
            file=sys.stderr,
        )
    if empty_after_removal:
        print(
            f"hwr: warning: {len(empty_after_removal)} lines left out, no character of their "
            f"text is in the model charset (first: {empty_after_removal[0]})",
            file=sys.stderr,
        )
    if not out.images:
        raise HwrError("no usable lines in the data")
    return out


def resize_to_height(image: Image.Image, height: int) -> Image.Image:
    if image.height == height:
        return image
    width = resized_width(image.width, image.height, height)
    return Image.fromarray(resize_gray(np.asarray(image.convert("L")), width, height))


def bucket_batches(
    widths: np.ndarray, batch_size: int, rng: np.random.Generator
) -> list[list[int]]:
    """Batches of similar widths (little padding), in random order.

    Lines are shuffled, then sorted by width within chunks of 50 batches, so batches differ
    from epoch to epoch while padding stays small.
    """
    order = rng.permutation(len(widths))
    chunk = batch_size * 50
    batches = []
    for start in range(0, len(order), chunk):
        part = order[start : start + chunk]
        part = part[np.argsort(widths[part], kind="stable")]
        batches += [part[i : i + batch_size].tolist() for i in range(0, len(part), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def collate(images: list[Image.Image], contract: ModelContract) -> torch.Tensor:
    """The runtimes' own preprocessing, so training sees exactly what inference will feed."""
    return torch.from_numpy(make_batch([to_model_input(im, contract) for im in images], contract))


def training_batch(
    data: PreparedLines,
    ids: list[int],
    contract: ModelContract,
    rng: np.random.Generator,
    augment: bool = True,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Images (augmented unless ``augment`` is False), targets and target lengths for CTC."""
    images = [augment_line(data.images[i], rng) if augment else data.images[i] for i in ids]
    return (collate(images, contract), *data.targets(ids))
