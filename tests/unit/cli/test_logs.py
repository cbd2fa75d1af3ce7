"""app.logs: JSON lines with fields, text lines, and no secret ever written."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from image_bot.cli.logs import UVICORN, setup_logging
from image_bot.errors import register_secret


@pytest.fixture
def restore_logging() -> Iterator[None]:
    loggers = [logging.getLogger(name) for name in ("image_bot", *UVICORN, "uvicorn.access")]
    saved = [(list(lg.handlers), lg.level, lg.propagate) for lg in loggers]
    yield
    for logger, (handlers, level, propagate) in zip(loggers, saved, strict=True):
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate


@pytest.mark.usefixtures("restore_logging")
def test_json_lines_carry_the_extra_fields() -> None:
    out = io.StringIO()
    setup_logging("json", stream=out)
    logging.getLogger("image_bot.pipeline").info(
        "branch %s", "create", extra={"branch": "image-bot/nginx", "changes": 2}
    )
    entry = json.loads(out.getvalue())
    assert entry["level"] == "info"
    assert entry["logger"] == "image_bot.pipeline"
    assert entry["message"] == "branch create"
    assert (entry["branch"], entry["changes"]) == ("image-bot/nginx", 2)


@pytest.mark.usefixtures("restore_logging")
def test_secrets_are_masked_in_messages_arguments_and_fields() -> None:
    out = io.StringIO()
    setup_logging("json", stream=out)
    register_secret("s3cr3t-token-value")
    log = logging.getLogger("image_bot.test")
    log.warning("fetch https://bot:pa55word-x@git.example.com/r.git failed")
    log.warning("token %s", "s3cr3t-token-value", extra={"error": "Bearer abcdefgh12345678"})
    text = out.getvalue()
    for secret in ("pa55word-x", "s3cr3t-token-value", "abcdefgh12345678"):
        assert secret not in text
    assert len(text.splitlines()) == 2


@pytest.mark.usefixtures("restore_logging")
def test_text_lines_read_as_level_message_and_fields() -> None:
    out = io.StringIO()
    setup_logging("text", stream=out)
    logging.getLogger("image_bot.x").warning("scan failed", extra={"image": "docker.io/a/b"})
    assert out.getvalue() == "warning: scan failed (image=docker.io/a/b)\n"


@pytest.mark.usefixtures("restore_logging")
def test_uvicorn_logs_go_through_the_same_json_formatter_and_redaction() -> None:
    out = io.StringIO()
    setup_logging("json", stream=out, libraries=UVICORN)
    register_secret("uvicorn-secret-token")
    error_log = logging.getLogger("uvicorn.error")
    error_log.info(
        "Uvicorn running on %s://%s:%d (Press CTRL+C to quit)",
        "http",
        "127.0.0.1",
        8080,
        extra={"color_message": "Uvicorn running on \x1b[1m%s://%s:%d\x1b[0m"},
    )
    access = logging.getLogger("uvicorn.access")
    access.info('%s - "%s %s HTTP/%s" %d', "1.2.3.4", "GET", "/healthz", "1.1", 200)
    error_log.error("bad request from uvicorn-secret-token")
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(line["logger"], line["level"]) for line in lines] == [
        ("uvicorn.error", "info"),
        ("uvicorn.error", "error"),  # access lines (one per request) only at debug
    ]
    assert lines[0]["message"] == "Uvicorn running on http://127.0.0.1:8080 (Press CTRL+C to quit)"
    assert "color_message" not in lines[0]
    assert "uvicorn-secret-token" not in out.getvalue()


@pytest.mark.usefixtures("restore_logging")
def test_access_lines_appear_at_debug() -> None:
    out = io.StringIO()
    setup_logging("text", stream=out, level=logging.DEBUG, libraries=UVICORN)
    logging.getLogger("uvicorn.access").info('%s - "%s %s" %d', "1.2.3.4", "GET", "/", 200)
    assert out.getvalue() == 'info: 1.2.3.4 - "GET /" 200\n'
