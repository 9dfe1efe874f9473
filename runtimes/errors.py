"""User-facing errors: one line, naming the item and the problem, never a traceback."""


class HwrError(Exception):
    """An error caused by the user's input (file, option, model) rather than a bug."""


class ModelContractError(HwrError):
    """A model file is missing its contract or carries one that does not fit."""


class ImageError(HwrError):
    """An input image could not be read or is unusable."""


class ImageTooLargeError(ImageError):
    """An input image has more pixels than the caller allows."""


class RuntimeUnavailableError(HwrError):
    """The requested runtime or device is not available on this machine."""


def printable(text: str) -> str:
    """``text`` as valid UTF-8 text: the undecodable bytes of a file name (which Python keeps as
    lone surrogates) become visible ``\\xNN`` escapes, so JSON and terminals never choke on them."""
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # surrogates that are not escaped bytes
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return raw.decode("utf-8", "backslashreplace")
