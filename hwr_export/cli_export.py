"""Placeholder until this command lands."""


def export_command() -> None:
    raise NotImplementedError
