"""Placeholder until this command lands."""


def transcribe_command() -> None:
    raise NotImplementedError
