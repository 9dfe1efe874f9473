"""Placeholder until this command lands."""


def bench_command() -> None:
    raise NotImplementedError


def parity_command() -> None:
    raise NotImplementedError
