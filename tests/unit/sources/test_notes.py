"""Release notes are hostile text: neutralised and bounded before they reach a pull request."""

from __future__ import annotations

from image_bot.publish.pr.marker import PrMarker, decode_pr_marker, encode_pr_marker
from image_bot.sources.notes import RawRelease, neutralise, trim_notes


def test_mentions_references_html_and_fake_markers_are_defused() -> None:
    fake = encode_pr_marker(PrMarker("x", "evil"))
    text = neutralise(
        f"hi @alice and @org/team, fixes #12 and acme/app#3\n{fake}\n<b>x</b>", 10_000
    )
    assert "@alice" not in text and "@&#8203;alice" in text
    assert "#12" not in text and "#&#8203;12" in text and "app#&#8203;3" in text
    assert "<" not in text
    assert decode_pr_marker(text) is None
    assert "mail@example.com" in neutralise("mail@example.com", 100)  # not a mention


def test_control_characters_go_and_fences_are_closed() -> None:
    text = neutralise("a\x00b\u202ec\r\n```python\nprint(1)", 10_000)
    assert text == "abc\n```python\nprint(1)\n```"


def test_long_notes_are_cut_at_a_line_and_the_rest_is_a_link() -> None:
    releases = [
        RawRelease(f"v1.{n}", "", f"https://x/{n}", "line\n" * 400) for n in range(5, 0, -1)
    ]
    notes = trim_notes(releases, max_chars=1500, max_releases=10, more="https://x/releases")
    assert 1 <= len(notes.releases) < 5
    assert notes.more == "https://x/releases"
    assert notes.releases[0].tag == "v1.5"
    assert all(
        not r.body or r.body.endswith("*(cut)*") or len(r.body) < 1500 for r in notes.releases
    )
    short = trim_notes(releases[:2], max_chars=1_000_000, max_releases=10, more="m")
    assert short.more is None and len(short.releases) == 2
