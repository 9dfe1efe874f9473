"""Property-based fuzzing: preprocessing and contract loading raise hwr's own errors or nothing."""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays
from PIL import Image

from runtimes.contract import IAM_CHARSET, ModelContract
from runtimes.errors import HwrError
from runtimes.preprocess import load_image, to_model_input

CONTRACT = ModelContract(preset="tiny", input_height=32, charset=IAM_CHARSET)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
fields = st.sampled_from(list(CONTRACT.to_dict()) + ["unknown"])


@FUZZ
@given(st.dictionaries(fields, json_values, max_size=8), st.booleans())
def test_contract_loading_never_raises_anything_but_hwr_errors(changes, start_from_good):
    data = {**CONTRACT.to_dict(), **changes} if start_from_good else changes
    try:
        contract = ModelContract.from_json(json.dumps(data))
    except HwrError:
        return
    assert np.isfinite(contract.pad_value) and 1 <= contract.min_width <= 4096


@FUZZ
@given(st.binary(max_size=2000))
def test_contract_loading_of_arbitrary_text(raw):
    with contextlib.suppress(HwrError):
        ModelContract.from_json(raw.decode("utf-8", "replace"))


pixel_types = st.sampled_from([np.uint8, np.uint16, np.int32, np.float32, np.float64, np.bool_])


@FUZZ
@given(
    arrays(
        pixel_types,
        array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=40),
    )
)
def test_preprocessing_any_array(array):
    try:
        out = to_model_input(array, CONTRACT)
    except HwrError:
        return
    assert out.dtype == np.float32 and out.shape[0] == CONTRACT.input_height
    assert np.isfinite(out).all()


@FUZZ
@given(
    st.sampled_from(["1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16", "F", "CMYK"]),
    st.integers(1, 60),
    st.integers(1, 60),
    st.sampled_from(["PNG", "TIFF", "BMP", "GIF", "JPEG", "WEBP"]),
    st.binary(max_size=64),
    st.integers(0, 400),
)
def test_preprocessing_any_file(mode, width, height, fmt, noise, cut):
    image = Image.new(mode, (width, height))
    buffer = io.BytesIO()
    try:
        image.save(buffer, fmt)
    except (OSError, ValueError, KeyError):
        return  # this format cannot hold this mode: nothing to fuzz
    data = buffer.getvalue()
    data = data[:cut] + noise + data[cut:] if noise else data  # damaged files too
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"x.{fmt.lower()}"
        path.write_bytes(data)
        try:
            out = to_model_input(load_image(path), CONTRACT)
        except HwrError:
            return
    assert np.isfinite(out).all()
