"""The optional libraries of page reading, imported with a one-line error when missing."""

from __future__ import annotations

from types import ModuleType

from runtimes.errors import RuntimeUnavailableError

INSTALL_HINT = "pip install 'hwr[pages]'"


def require_cv2() -> ModuleType:
    """OpenCV (``opencv-python-headless``): binarisation, connected components, rotation."""
    try:
        import cv2
    except ImportError:
        raise RuntimeUnavailableError(
            f"reading pages needs OpenCV, which is not installed: {INSTALL_HINT}"
        ) from None
    return cv2


def require_scipy_signal() -> ModuleType:
    """SciPy's peak finding, for the lines of a projection profile."""
    try:
        import scipy.signal
    except ImportError:
        raise RuntimeUnavailableError(
            f"reading pages needs SciPy, which is not installed: {INSTALL_HINT}"
        ) from None
    signal: ModuleType = scipy.signal
    return signal


def require_page_libraries() -> None:
    """Fail before any work when page reading cannot run here."""
    require_cv2()
    require_scipy_signal()
