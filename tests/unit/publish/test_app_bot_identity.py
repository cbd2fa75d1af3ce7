"""Which author emails a GitHub App's API commits can carry (the `[bot]` account)."""

from __future__ import annotations

import pytest

from image_bot.publish.forges.github.commits import is_app_bot


@pytest.mark.parametrize(
    "email",
    ["41898282+image-bot[bot]@users.noreply.github.com", "image-bot[bot]@users.fakeforge.invalid"],
)
def test_an_app_bot_account_is_recognised(email: str) -> None:
    assert is_app_bot(email)


@pytest.mark.parametrize(
    "email", ["image-bot@example.com", "12+octocat@users.noreply.github.com", "[bot]x@example.com"]
)
def test_people_and_configured_authors_are_not_app_bots(email: str) -> None:
    assert not is_app_bot(email)
