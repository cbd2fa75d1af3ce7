"""app.logs: JSON lines with fields, text lines, and no secret ever written."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from image_bot.cli.logs import setup_logging
from image_bot.errors import register_secret


@pytest.fixture
def restore_logging() -> Iterator[None]:
    logger = logging.getLogger("image_bot")
    handlers, level, propagate = list(logger.handlers), logger.level, logger.propagate
    yield
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
