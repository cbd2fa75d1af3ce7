"""Logging setup: plain text or one JSON object per line, always through a redaction filter.

`--log-level` is an option of the `image-bot` group and of `run`/`serve` (theirs wins);
`chosen_level` finds it. uvicorn's loggers go through the same handler (`setup_logging(...,
libraries=UVICORN)`): its access lines (one per HTTP request, probes included) only at debug.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Literal, TextIO

import click

from image_bot.cli import LOG_LEVELS, LogLevelChoice
from image_bot.errors import redact

__all__ = [
    "LOG_LEVELS",
    "UVICORN",
    "JsonFormatter",
    "LogLevelChoice",
    "RedactingFilter",
    "chosen_level",
    "setup_logging",
]

LogFormat = Literal["text", "json"]
UVICORN = ("uvicorn", "uvicorn.error")
_ACCESS = "uvicorn.access"

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",  # uvicorn's ANSI-coloured copy of the message
}


def _extras(record: logging.LogRecord) -> dict[str, object]:
    return {key: value for key, value in vars(record).items() if key not in _STANDARD}


class RedactingFilter(logging.Filter):
    """Masks secrets in the message, its arguments and every `extra` string value."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        for key, value in _extras(record).items():
            if isinstance(value, str):
                setattr(record, key, redact(value))
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


class JsonFormatter(logging.Formatter):
    """`{"time", "level", "logger", "message", ...extra}` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in _extras(record).items():
            payload[key] = value if isinstance(value, int | float | bool | None) else str(value)
        if record.exc_text:
            payload["exception"] = record.exc_text
        return json.dumps(payload, sort_keys=False)


class _TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        extras = " ".join(f"{key}={value}" for key, value in _extras(record).items())
        line = f"{record.levelname.lower()}: {record.getMessage()}"
        return f"{line} ({extras})" if extras else line


class _CurrentStderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is now, so a live progress display can redirect it."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def setup_logging(
    log_format: LogFormat = "text",
    *,
    level: int = logging.INFO,
    stream: TextIO | None = None,
    libraries: Sequence[str] = (),
) -> logging.Handler:
    """Send image-bot's logs (and those of the `libraries` loggers, such as `UVICORN`) to
    `stream` (stderr) in `log_format`, at `level`; returns the handler."""
    handler: logging.Handler = (
        logging.StreamHandler(stream) if stream is not None else _CurrentStderr(sys.stderr)
    )
    handler.addFilter(RedactingFilter())  # on the handler: library records are redacted too
    handler.setFormatter(JsonFormatter() if log_format == "json" else _TextFormatter())
    for name in ("image_bot", *libraries):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(level)
        logger.propagate = False
    if "uvicorn" in libraries:  # a line per request: only when debugging
        access = logging.getLogger(_ACCESS)
        access.handlers = [handler]
        access.setLevel(level if level <= logging.DEBUG else logging.WARNING)
        access.propagate = False
    return handler


def chosen_level(own: str | None, default: int) -> int:
    """The command's `--log-level`, else the group's (`image-bot --log-level ...`), else
    `default`, as a logging level number."""
    context = click.get_current_context(silent=True)
    group = context.find_root().params.get("log_level") if context is not None else None
    name = own or (group if isinstance(group, str) else None)
    return logging.getLevelNamesMapping()[name.upper()] if name else default
