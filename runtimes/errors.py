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


def first_line(exc: BaseException, limit: int | None = None, last: bool = False) -> str:
    """One line of an exception's message for a one-line error (never a traceback): the first
    (or, with ``last``, the last) non-empty line, at most ``limit`` characters, or the type's
    name when the message is empty."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    return (lines[-1] if last else lines[0])[:limit]
