"""Quoting rules: a plain value that would not load back as the same string gets quotes."""

from __future__ import annotations

import warnings

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from image_bot.edit.yaml.scalars import needs_quotes, quote, render
from image_bot.edit.yaml.spans import Style, index_text


def _load(text: str, version: tuple[int, int] | None) -> object:
    yaml = YAML(typ="safe", pure=True)
    if version is not None:
        yaml.version = version
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # YAML 1.1 float warnings: the value is what counts
        loaded = yaml.load(text)
    assert isinstance(loaded, dict)
    return loaded["k"]


def _loads_as_itself(value: str, *, flow: bool = False) -> bool:
    """True when `k: value` (or `k: [value]`) loads back as the string under YAML 1.1 and 1.2."""
    text = f"k: [{value}]\n" if flow else f"k: {value}\n"
    for version in (None, (1, 1)):
        try:
            loaded = _load(text, version)
        except YAMLError:
            return False
        if flow:
            if not (isinstance(loaded, list) and loaded == [value]):
                return False
        elif loaded != value or not isinstance(loaded, str):
            return False
    return True


NON_STRINGS = [
    "1.10", "10", "2e5", "1e+5", "0x1f", "0o17", "0b101", "017", "on", "On", "OFF", "yes", "no",
    "y", "n", "null", "Null", "~", "true", "False", "1_000", ".inf", "-.inf", ".NaN", "1.",
    ".5", "+1", "-1.5", "2024-01-01", "2001-12-14t21:59:43.10-05:00", "1:20",
    "<<", "=",
]  # fmt: skip
IMPOSSIBLE_PLAIN = [
    "", " x", "x ", "a: b", "a #b", "&x", "*x", "!x", "[x", "{x", "]x", "}x", ",x", "'x", '"x',
    "%x", "@x", "`x", "#x", "|x", ">x", "- x", "? x", "x:", "a\nb", "a\tb",
]  # fmt: skip
PLAIN_OK = [
    "1.25.0", "v1.10", "1.10-alpine", "nginx:1.25", "sha256:0123abcd", "latest", "0.0.1-rc1",
    "3.6.1@sha256:e817106edd5a8aa5", "localhost:5000/app:1", "1.2.3_4", "2024-01-01-abc",
    "v2", "yes-please", "null_tag", "x#y", "x:y", "0x1g", "1.0.0+build.1", "1e", "e5",
]  # fmt: skip


@pytest.mark.parametrize("value", NON_STRINGS)
def test_values_yaml_reads_as_other_types_need_quotes(value: str) -> None:
    assert needs_quotes(value)
    assert not _loads_as_itself(value)


@pytest.mark.parametrize("value", ["2024-1-1", "tRuE", "nULL", "1_2_3.4_5"])
def test_some_strings_are_quoted_to_be_safe_with_other_parsers(value: str) -> None:
    """Wider than ruamel: other YAML libraries (Go's, PyYAML) resolve some of these."""
    assert needs_quotes(value)


@pytest.mark.parametrize("value", IMPOSSIBLE_PLAIN)
def test_values_that_cannot_be_plain_need_quotes(value: str) -> None:
    assert needs_quotes(value)
    assert not _loads_as_itself(value)


@pytest.mark.parametrize("value", PLAIN_OK)
def test_ordinary_references_and_tags_stay_plain(value: str) -> None:
    assert not needs_quotes(value)
    assert _loads_as_itself(value)


@pytest.mark.parametrize("value", ["a,b", "a]", "a}", "a[0]", "{a}"])
def test_flow_indicators_need_quotes_only_in_flow_context(value: str) -> None:
    assert needs_quotes(value, flow=True)
    assert not _loads_as_itself(value, flow=True)


@pytest.mark.parametrize("value", ["a,b", "a]", "a}", "a[0]"])
def test_flow_indicators_are_fine_in_block_context(value: str) -> None:
    assert not needs_quotes(value)
    assert _loads_as_itself(value)


@given(st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}", fullmatch=True))
def test_every_tag_left_plain_loads_back_as_itself(tag: str) -> None:
    """The property behind the rule: whatever needs_quotes lets through stays a string."""
    if not needs_quotes(tag):
        assert _loads_as_itself(tag)


@given(st.text(alphabet="0123456789._-eExXoObBnNuUlLtTrRfFaAsS:+~", min_size=1, max_size=8))
@example("._")  # YAML 1.1 reads `\.[0-9_]+` as a float (and ruamel fails to convert it)
@example("+_")  # ruamel resolves `[-+]?[0-9_]+` as an int (and fails to convert it)
def test_numeric_looking_text_left_plain_loads_back_as_itself(value: str) -> None:
    if not needs_quotes(value):
        assert _loads_as_itself(value)


@pytest.mark.parametrize(
    ("value", "style", "written"),
    [
        ("1.10", Style.DOUBLE, '"1.10"'),
        ("1.10", Style.SINGLE, "'1.10'"),
        ("it's", Style.SINGLE, "'it''s'"),
        ('a"b\\c', Style.DOUBLE, '"a\\"b\\\\c"'),
        ("a\nb", Style.SINGLE, '"a\\nb"'),  # single quotes cannot hold a line break as is
        ("a\tb", Style.DOUBLE, '"a\\tb"'),
    ],
)
def test_quote_writes_a_scalar_that_loads_back(value: str, style: Style, written: str) -> None:
    assert quote(value, style) == written
    assert _load(f"k: {written}\n", None) == value


def test_render_escapes_only_what_the_quote_style_needs() -> None:
    assert render("it's", Style.SINGLE) == "it''s"
    assert render('say "hi"', Style.DOUBLE) == 'say \\"hi\\"'
    assert render("plain's", Style.PLAIN) == "plain's"


def test_index_finds_the_scalar_around_a_span_and_its_quotes() -> None:
    text = "a: &x 'one'\nb: [two, \"three\"]\nc: *x\n"
    tree = index_text(text)
    one = tree.enclosing(text.index("one"), text.index("one") + 3)
    assert one is not None
    assert one.style is Style.SINGLE
    assert text[one.content_start : one.content_end] == "one"
    two = tree.enclosing(text.index("two"), text.index("two") + 3)
    assert two is not None
    assert two.flow
    assert two.style is Style.PLAIN
    assert tree.enclosing(0, 1) is not None  # the key `a`
    assert tree.enclosing(text.index("&x"), text.index("&x") + 1) is not None
    assert tree.enclosing(text.index("b:") + 2, text.index("b:") + 3) is None  # ": " is no scalar


def test_preferred_quote_follows_the_file_majority() -> None:
    assert index_text("a: 'x'\nb: 'y'\nc: \"z\"\n").prefer is Style.SINGLE
    assert index_text("a: 'x'\nc: \"z\"\n").prefer is Style.DOUBLE
    assert index_text("a: x\n").prefer is Style.DOUBLE


def test_index_reports_duplicate_keys() -> None:
    assert index_text("a: 1\na: 2\n").problems == ("duplicate key 'a' on line 2",)
    assert index_text("a: 1\n<<: {b: 2}\n<<: {c: 3}\n").problems == ()
