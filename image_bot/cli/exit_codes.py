"""Turn ImageBotError into a one-line message on stderr and the error's exit code."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

import click

from image_bot.errors import ImageBotError

__all__ = ["exits_on_errors"]

P = ParamSpec("P")
R = TypeVar("R")


def exits_on_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Wrap a click command: an ImageBotError prints `error: ...` and exits with its code."""

    @wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except ImageBotError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(error.exit_code)

    return wrapper
