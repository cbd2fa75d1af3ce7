"""publish.marker: the hidden PR marker, its notices (added later) and rewriting it in place."""

from __future__ import annotations

from image_bot.publish.pr.marker import (
    NOTICE_CLOSED,
    NOTICE_HELD,
    PrMarker,
    decode_pr_marker,
    encode_pr_marker,
    with_pr_marker,
)

OLD = '<!-- image-bot: {"fingerprint":"f1","group":"web","proposals":["a:1"],"v":1} -->'


def test_a_marker_written_before_notices_existed_still_decodes() -> None:
    assert decode_pr_marker(f"text\n\n{OLD}\n") == PrMarker("web", "f1", ("a:1",), ())


def test_notices_round_trip_and_are_absent_from_the_text_when_empty() -> None:
    plain = PrMarker("web", "f1", ("a:1",))
    assert encode_pr_marker(plain) == OLD  # unchanged bytes: existing PRs are not rewritten
    noticed = plain.noticed(NOTICE_CLOSED).noticed(NOTICE_HELD).noticed(NOTICE_CLOSED)
    assert noticed.notices == (NOTICE_CLOSED, NOTICE_HELD)
    assert decode_pr_marker(encode_pr_marker(noticed)) == noticed


def test_malformed_notices_make_the_marker_unrecognised() -> None:
    bad = OLD.replace('"v":1', '"notices":[1],"v":1')
    assert decode_pr_marker(bad) is None


def test_with_marker_replaces_only_the_marker_and_keeps_the_human_text() -> None:
    body = f"Edited by a human.\n\n{OLD}\n\nA footer.\n"
    rewritten = with_pr_marker(body, PrMarker("web", "f1", ("a:1",), (NOTICE_HELD,)))
    assert rewritten.startswith("Edited by a human.\n\n<!-- image-bot: ")
    assert rewritten.endswith(" -->\n\nA footer.\n")
    assert decode_pr_marker(rewritten) == PrMarker("web", "f1", ("a:1",), (NOTICE_HELD,))
    appended = with_pr_marker("no marker", PrMarker("web", "f1"))
    assert decode_pr_marker(appended) == PrMarker("web", "f1")
    assert appended.startswith("no marker\n\n")


def test_a_marker_nested_past_the_json_parsers_depth_is_unrecognised_not_a_crash() -> None:
    nested = "[" * 100_000 + "]" * 100_000
    assert decode_pr_marker(f'<!-- image-bot: {{"v":1,"x":{nested}}} -->') is None
