"""Lines from the horizontal projection profile of a deskewed page, ink assigned by pieces.

Each text line is a peak of ink per row; the page is cut at the emptiest row between two
peaks. A piece of ink (a word, a letter) belongs whole to the band holding most of it, so a
descender that crosses the cut stays with its word. Only a piece taller than ``split`` line
pitches with much ink on both sides of a cut, where strokes of two lines touch, is cut
along the rows.
"""

from __future__ import annotations

import numpy as np

from runtimes.pages._deps import require_scipy_signal
from runtimes.pages.components import InkPixels, Pieces

SMOOTH = 0.2  # profile smoothing, in writing heights (merges a line's x-height and ascenders)
MIN_DISTANCE = 0.55  # two line peaks are at least this many writing heights apart
PROMINENCE = 0.4  # a line's peak rises this share of its own height above its valleys
FAINT = 0.03  # and is at least this share of the page's median line peak
MIN_LINE = 0.5  # lines have ink at least this many writing heights high; less is a mark
SPLIT_HEIGHT = 1.2  # a piece taller than this many line pitches ...
SPLIT_SHARE = 0.3  # ... with this share of its ink in a second band joins two lines: cut it


def _smooth(profile: np.ndarray, sigma: float) -> np.ndarray:
    if sigma < 0.5:
        return profile.astype(np.float64)
    radius = int(3 * sigma)
    kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    return np.convolve(profile.astype(np.float64), kernel / kernel.sum(), mode="same")


def line_peaks(profile: np.ndarray, height: float) -> np.ndarray:
    """Rows of the line centres, top to bottom.

    A peak is a line when the valleys on both sides fall well below it (prominence relative to
    its own height, so a one-word line counts as much as a full one) and it is not a speck
    beside the page's real lines.
    """
    signal = require_scipy_signal()
    smooth = _smooth(profile, SMOOTH * height)
    if smooth.max() <= 0:
        return np.zeros(0, np.int64)
    peaks, props = signal.find_peaks(
        smooth, distance=max(1.0, MIN_DISTANCE * height), prominence=0.0
    )
    if peaks.size == 0:
        return np.asarray(peaks)
    tall = smooth[peaks]
    keep = (props["prominences"] >= PROMINENCE * tall) & (tall >= FAINT * np.median(tall))
    return np.asarray(peaks[keep])


def cut_rows(profile: np.ndarray, peaks: np.ndarray, height: float) -> np.ndarray:
    """Between each two peaks, the middle of the emptiest run of rows."""
    light = _smooth(profile, 0.05 * height)
    cuts = []
    for top, bottom in zip(peaks[:-1], peaks[1:], strict=True):
        between = light[top:bottom]
        lowest = np.flatnonzero(between <= between.min() + 1e-9)
        cuts.append(top + int(lowest[len(lowest) // 2]))
    return np.array(cuts, np.int64)


def assign_lines(pixels: InkPixels, pieces: Pieces, height: float) -> np.ndarray:
    """Line index (top to bottom) of every ink pixel, -1 for none."""
    assert pixels.ry is not None, "deskew the pixels first"
    rows = np.clip(pixels.ry.astype(np.int64), 0, pixels.frame[1] - 1)
    profile = np.bincount(rows, minlength=pixels.frame[1])
    peaks = line_peaks(profile, height)
    if peaks.size == 0 or pieces.count == 0:
        return np.full(pixels.count, -1, np.int32)
    cuts = cut_rows(profile, peaks, height)
    bands = np.searchsorted(cuts, rows, side="right").astype(np.int32)
    pitch = float(np.median(np.diff(peaks))) if peaks.size > 1 else float(pixels.frame[1])

    # The band holding most of each piece's ink: pixel counts per (piece, band).
    counts = np.bincount(
        pixels.pieces * peaks.size + bands, minlength=(pieces.count + 1) * peaks.size
    ).reshape(pieces.count + 1, peaks.size)
    lines = counts.argmax(axis=1).astype(np.int32)[pixels.pieces]
    second = np.sort(counts, axis=1)[:, -2] if peaks.size > 1 else np.zeros(len(counts))
    second_share = second / np.maximum(counts.sum(axis=1), 1)
    joined = (pieces.boxes[:, 3] > SPLIT_HEIGHT * pitch) & (second_share >= SPLIT_SHARE)
    joined[0] = False
    cut = joined[pixels.pieces]  # touching strokes of two lines: cut along the rows
    lines[cut] = bands[cut]
    return _merge_marks(lines, rows, peaks, height)


def _merge_marks(
    lines: np.ndarray, rows: np.ndarray, peaks: np.ndarray, height: float
) -> np.ndarray:
    """A "line" whose ink is shorter than ``MIN_LINE`` writing heights is a stray mark (a
    full stop, an accent): its ink joins the nearest real line; lines are renumbered."""
    count = peaks.size
    frame_rows = int(rows.max()) + 1 if rows.size else 1
    per_row = np.bincount(lines * frame_rows + rows, minlength=count * frame_rows)
    inked = per_row.reshape(count, frame_rows) > 0
    extent = np.where(
        inked.any(axis=1),
        frame_rows - inked[:, ::-1].argmax(axis=1) - inked.argmax(axis=1),
        0,
    )
    real = extent >= MIN_LINE * height
    if real.all() or not real.any():
        return lines
    real_peaks = peaks[real]
    target = np.arange(count)
    for line in np.flatnonzero(~real):
        target[line] = np.flatnonzero(real)[np.argmin(np.abs(real_peaks - peaks[line]))]
    renumber = np.cumsum(real) - 1
    numbers: np.ndarray = renumber[target][lines].astype(np.int32)
    return numbers
