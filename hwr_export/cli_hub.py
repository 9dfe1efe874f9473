"""Placeholder until this command lands."""


def push_command() -> None:
    raise NotImplementedError
