"""The bundled model: present, small, self-describing, and it reads handwriting-like lines."""

import jiwer
import numpy as np

from hwr_export.data.synthetic import SyntheticLines
from hwr_export.model.source import default_model_path, resolve_model
from runtimes.recognizer import Recognizer

MAX_BUNDLED_BYTES = 20 * 1024 * 1024


def test_bundled_model_is_small_and_records_its_validation_figures():
    path = resolve_model(None)
    assert path == default_model_path() and path.stat().st_size < MAX_BUNDLED_BYTES
    contract = Recognizer.load(path).contract
    assert contract.preset == "wide" and contract.input_height == 64
    assert contract.metrics["val_cer"] <= 0.12 and contract.metrics["val_wer"] <= 0.40


def test_bundled_model_reads_synthetic_lines():
    # Trained on IAM only: these stroke-font lines are unseen data, so the bound is loose; a
    # broken model, contract or preprocessing reads them at CER near 100%.
    lines = SyntheticLines(8, seed=7)
    images, texts = zip(*(lines[i] for i in range(len(lines))), strict=True)
    rec = Recognizer.load(resolve_model(None), threads=1)
    predictions = rec.transcribe(list(images), batch_size=4)
    assert jiwer.cer(list(texts), [p.text for p in predictions]) < 0.35
    assert all(0.0 <= p.confidence <= 1.0 for p in predictions)
    assert np.mean([p.confidence for p in predictions]) > 0.5
