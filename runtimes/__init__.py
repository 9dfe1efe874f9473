"""Torch-free inference for hwr models: preprocessing, runtimes, decoding.

Importing this package must never import torch; the PyTorch adapters import it lazily.
"""

from runtimes.contract import IAM_CHARSET, REFERENCE_CHARSET, ModelContract
from runtimes.errors import HwrError, ImageError, ModelContractError, RuntimeUnavailableError

__all__ = [
    "IAM_CHARSET",
    "REFERENCE_CHARSET",
    "HwrError",
    "ImageError",
    "ModelContract",
    "ModelContractError",
    "RuntimeUnavailableError",
]
