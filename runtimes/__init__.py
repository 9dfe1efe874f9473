"""Torch-free inference for hwr models: preprocessing, runtimes, decoding.

Importing this package must never import torch, and nothing here imports the training package:
the PyTorch and TorchScript adapters live with the torch code and plug in through the
``hwr.runtimes`` entry points (``runtimes.plugins``).

One module a job: ``formats`` (the format registry), ``contract``, ``preprocess``, ``batching``,
``threads`` (the thread plan), ``ort_runtime``, ``plugins``, ``decode``, ``recognizer`` (the
whole pipeline), ``errors``; ``serve/`` and ``pages/`` build on them.
"""

from runtimes.contract import IAM_CHARSET, REFERENCE_CHARSET, ModelContract
from runtimes.errors import HwrError, ImageError, ModelContractError, RuntimeUnavailableError
from runtimes.lazy import lazy_exports

__all__ = [
    "IAM_CHARSET",
    "REFERENCE_CHARSET",
    "HwrError",
    "ImageError",
    "ModelContract",
    "ModelContractError",
    "RuntimeUnavailableError",
]

# The inference pipeline, loaded on first use (PEP 562) so that importing the contract or the
# errors stays free of numpy and Pillow.
_LAZY_EXPORTS = {
    "Recognizer": "runtimes.recognizer",
    "Runtime": "runtimes.base",
    "OrtRuntime": "runtimes.ort_runtime",
    "Prediction": "runtimes.decode",
    "Lexicon": "runtimes.decode",
    "greedy_decode": "runtimes.decode",
    "beam_decode": "runtimes.decode",
    "load_image": "runtimes.preprocess",
    "to_model_input": "runtimes.preprocess",
    "make_batch": "runtimes.preprocess",
}
__all__ += list(_LAZY_EXPORTS)

__getattr__ = lazy_exports(__name__, _LAZY_EXPORTS)
