"""edit.spans.compose: every parse of file content is bounded (issue 14, item 8)."""

from __future__ import annotations

import time

import pytest

from image_bot.edit.find import find_in_text
from image_bot.edit.yaml.limits import YamlLimits, YamlTooComplex
from image_bot.edit.yaml.spans import compose


def alias_bomb(levels: int = 9, indent: str = "") -> str:
    lines = [f"{indent}a0: &a0 [image, image, image, image, image, image, image, image, image]"]
    lines += [f"{indent}a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_in_linear_time() -> None:
    started = time.monotonic()
    with pytest.raises(YamlTooComplex, match="nodes with aliases expanded"):
        compose(alias_bomb())
    assert time.monotonic() - started < 5  # 9^9 nodes expanded would take hours


@pytest.mark.parametrize("bom", ["", "\ufeff"])  # with a BOM the pure-Python parser reads it
@pytest.mark.parametrize(
    "text",
    ["x: " + "[" * 10_000 + "]" * 10_000, "x: " + "{a: " * 10_000 + "1" + "}" * 10_000],
    ids=["sequences", "mappings"],
)
def test_deep_nesting_is_refused_not_a_recursion_error(bom: str, text: str) -> None:
    with pytest.raises(YamlTooComplex, match="nested deeper than 200 levels"):
        compose(bom + text)
    assert compose("ok: [1]")[0] is not None  # the loader is usable afterwards


def test_nesting_through_aliases_counts_as_deep() -> None:
    chain = ["a0: &a0 [[[[[[[[[[1]]]]]]]]]]"]
    chain += [f"a{i}: &a{i} [[[[[[[[[[*a{i - 1}]]]]]]]]]]" for i in range(1, 30)]
    with pytest.raises(YamlTooComplex, match="nested deeper"):
        compose("\n".join(chain))


def test_an_alias_that_contains_itself_is_refused() -> None:
    with pytest.raises(YamlTooComplex, match="contains itself"):
        compose("a: &a [*a]\n")


def test_ordinary_anchors_and_merges_stay_within_bounds() -> None:
    text = "base: &base {image: nginx:1.25, pull: Always}\n" + "".join(
        f"s{i}: {{<<: *base, name: s{i}}}\n" for i in range(500)
    )
    (root,) = compose(text)
    assert root is not None
    with pytest.raises(YamlTooComplex, match="more than 100 YAML nodes"):
        compose(text, YamlLimits(nodes=100))


def test_find_skips_a_file_whose_values_block_holds_a_bomb_and_names_why() -> None:
    text = "kind: HelmRelease\nspec:\n  values: |\n" + alias_bomb(indent="    ")
    result = find_in_text(text + "    image: nginx:1.25\n", "release.yaml")
    assert result.occurrences == ()
    (skipped,) = result.skipped
    assert skipped.path == "release.yaml"
    assert skipped.reason.startswith("not read: more than 1000000 YAML nodes")


def test_a_parse_over_its_time_bound_is_refused() -> None:
    text = "".join(f"k{i}: [a, b, {{c: d}}]\n" for i in range(2000))
    assert compose(text)[0] is not None
    with pytest.raises(YamlTooComplex, match="took more than 0 s to read"):
        compose(text, YamlLimits(seconds=0))
    aliased = "base: &b {x: 1}\n" + text.replace("[a, b,", "[*b, b,")
    with pytest.raises(YamlTooComplex, match="took more than 0 s to read"):
        compose(aliased, YamlLimits(seconds=0))
