"""Splicing: the new bytes land at the spans, quoting follows the rules, nothing else moves."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from image_bot.edit.rewrite import plan_edits, rewrite_text, sha256_text, write_changes
from image_bot.edit.written import written_ref
from image_bot.errors import ManifestError
from image_bot.model import (
    Change,
    FileChange,
    ImageName,
    ImageRef,
    Occurrence,
    OccurrenceKind,
    Part,
    Span,
)
from image_bot.reference import parse_name, parse_reference

DIGEST_A = "sha256:" + "a" * 64
DIGEST_B = "sha256:" + "b" * 64
REDIS = parse_name("bitnami/redis")


def span(text: str, needle: str, nth: int = 0) -> Span:
    """The span of the `nth` occurrence of `needle` in `text`."""
    start = -1
    for _ in range(nth + 1):
        start = text.index(needle, start + 1)
    line = text.count("\n", 0, start) + 1
    return Span(start, start + len(needle), line, start - text.rfind("\n", 0, start))


def whole(
    text: str, needle: str, *, nth: int = 0, kind: OccurrenceKind = OccurrenceKind.POD_SPEC
) -> Occurrence:
    ref = parse_reference(needle)
    return Occurrence("f.yaml", 0, (), kind, ref, {Part.WHOLE: span(text, needle, nth)})


def split(text: str, ref: ImageRef, **parts: str) -> Occurrence:
    spans = {Part(name): span(text, needle) for name, needle in parts.items()}
    return Occurrence("f.yaml", 0, (), OccurrenceKind.HELM_VALUES, ref, spans)


def to(occurrence: Occurrence, tag: str | None, digest: str | None = None) -> Change:
    ref = occurrence.ref
    return Change(occurrence, ref, ImageRef(ref.name, tag, digest))


def rewrite(text: str, *changes: Change) -> str:
    return rewrite_text("f.yaml", text, changes).after


# --- whole references -------------------------------------------------------------------------


def test_whole_reference_keeps_the_users_short_spelling() -> None:
    text = "spec:\n  image: nginx:1.25 # pinned\n"
    assert rewrite(text, to(whole(text, "nginx:1.25"), "1.27")) == (
        "spec:\n  image: nginx:1.27 # pinned\n"
    )


def test_whole_reference_keeps_a_long_spelling_too() -> None:
    text = "image: docker.io/library/nginx:1.25\n"
    occurrence = whole(text, "docker.io/library/nginx:1.25")
    assert rewrite(text, to(occurrence, "1.27")) == "image: docker.io/library/nginx:1.27\n"


def test_whole_reference_without_tag_gets_one() -> None:
    text = "image: nginx\n"
    assert rewrite(text, to(whole(text, "nginx"), "1.27")) == "image: nginx:1.27\n"


def test_digest_form_is_kept_when_the_new_ref_has_one() -> None:
    text = f"image: nginx:1.25@{DIGEST_A}\n"
    occurrence = whole(text, f"nginx:1.25@{DIGEST_A}")
    assert rewrite(text, to(occurrence, "1.27", DIGEST_B)) == f"image: nginx:1.27@{DIGEST_B}\n"
    assert rewrite(text, to(occurrence, "1.27")) == "image: nginx:1.27\n"


def test_a_pinned_digest_is_written_into_a_tag_only_reference() -> None:
    text = "image: nginx:1.25\n"
    occurrence = whole(text, "nginx:1.25")
    assert rewrite(text, to(occurrence, "1.27", DIGEST_B)) == f"image: nginx:1.27@{DIGEST_B}\n"
    # the same tag with a new digest is a digest update: the digest is the change
    assert rewrite(text, to(occurrence, "1.25", DIGEST_B)) == f"image: nginx:1.25@{DIGEST_B}\n"
    # without a digest in the new reference none is written (`set`, or `digest: never`)
    assert rewrite(text, to(occurrence, "1.27")) == "image: nginx:1.27\n"


def test_digest_only_reference_stays_digest_only() -> None:
    text = f"image: nginx@{DIGEST_A}\n"
    occurrence = whole(text, f"nginx@{DIGEST_A}")
    new = written_ref(occurrence, "1.27", DIGEST_B)
    assert (new.tag, new.digest) == (None, DIGEST_B)
    after = rewrite(text, Change(occurrence, occurrence.ref, new))
    assert after == f"image: nginx@{DIGEST_B}\n"


def test_only_the_occurrence_at_the_span_changes_when_two_share_a_tag() -> None:
    text = "a:\n  image: nginx:1.25\nb:\n  image: nginx:1.25\n"
    second = whole(text, "nginx:1.25", nth=1)
    assert rewrite(text, to(second, "1.27")) == "a:\n  image: nginx:1.25\nb:\n  image: nginx:1.27\n"


def test_quoted_whole_reference_keeps_its_quotes() -> None:
    text = "a: 'nginx:1.25'\nb: \"redis:7\"\n"
    changes = [to(whole(text, "nginx:1.25"), "1.27"), to(whole(text, "redis:7"), "7.2")]
    assert rewrite(text, *changes) == "a: 'nginx:1.27'\nb: \"redis:7.2\"\n"


def test_flow_style_sequence_and_mapping_are_edited_in_place() -> None:
    text = "images: [nginx:1.25, 'redis:7']\nc: {image: nginx:1.25, x: 1}\n"
    changes = [to(whole(text, "nginx:1.25"), "1.27"), to(whole(text, "nginx:1.25", nth=1), "1.27")]
    assert (
        rewrite(text, *changes) == "images: [nginx:1.27, 'redis:7']\nc: {image: nginx:1.27, x: 1}\n"
    )


def test_marker_whole_reference_takes_the_policy_name_and_digest() -> None:
    text = 'image: image:v1.0.0 # {"$imagepolicy": "ns:p"}\n'
    occurrence = whole(text, "image:v1.0.0", kind=OccurrenceKind.MARKER)
    new = parse_reference(f"index.repo.fake/updated:v1.0.1@{DIGEST_B}")
    after = rewrite(text, Change(occurrence, occurrence.ref, new))
    assert (
        after == f'image: index.repo.fake/updated:v1.0.1@{DIGEST_B} # {{"$imagepolicy": "ns:p"}}\n'
    )


# --- split references ---------------------------------------------------------------------------


HELM = (
    "image:\n  registry: docker.io\n  repository: bitnami/redis\n  tag: {tag}\n  digest: {digest}\n"
)


def test_numeric_looking_tag_gets_quotes() -> None:
    text = HELM.format(tag="1.9", digest='""')
    occurrence = split(text, ImageRef(REDIS, "1.9"), name="bitnami/redis", tag="1.9")
    assert rewrite(text, to(occurrence, "1.10")) == HELM.format(tag='"1.10"', digest='""')


def test_added_quotes_follow_the_files_single_quote_habit() -> None:
    text = HELM.format(tag="1.9", digest="''")
    occurrence = split(text, ImageRef(REDIS, "1.9"), tag="1.9")
    assert rewrite(text, to(occurrence, "1.10")) == HELM.format(tag="'1.10'", digest="''")


def test_a_tag_that_reads_as_a_string_stays_plain_even_if_the_old_one_did_not() -> None:
    text = HELM.format(tag="1.9", digest='""')
    occurrence = split(text, ImageRef(REDIS, "1.9"), tag="1.9")
    assert rewrite(text, to(occurrence, "1.10.1")) == HELM.format(tag="1.10.1", digest='""')


@pytest.mark.parametrize("quoted", ["'1.9'", '"1.9"'])
def test_quoted_tag_keeps_its_quotes(quoted: str) -> None:
    text = HELM.format(tag=quoted, digest="x")
    occurrence = split(text, ImageRef(REDIS, "1.9"), tag="1.9")
    expected = HELM.format(tag=quoted.replace("1.9", "1.10"), digest="x")
    assert rewrite(text, to(occurrence, "1.10")) == expected


def test_separate_digest_key_is_updated_or_emptied() -> None:
    text = HELM.format(tag="7.2.0", digest=DIGEST_A)
    ref = ImageRef(REDIS, "7.2.0", DIGEST_A)
    occurrence = split(text, ref, tag="7.2.0", digest=DIGEST_A)
    assert rewrite(text, to(occurrence, "7.4.0", DIGEST_B)) == HELM.format(
        tag="7.4.0", digest=DIGEST_B
    )
    # a digest that pinned the old tag would now be wrong: it goes (quoted: empty is null)
    assert rewrite(text, to(occurrence, "7.4.0")) == HELM.format(tag="7.4.0", digest='""')


def test_tag_written_with_its_digest_in_one_value() -> None:
    text = f"image:\n  repository: ghcr.io/x/app\n  tag: 0.0.1@{DIGEST_A}\n"
    ref = ImageRef(parse_name("ghcr.io/x/app"), "0.0.1", DIGEST_A)
    occurrence = split(text, ref, tag=f"0.0.1@{DIGEST_A}")
    after = rewrite(text, to(occurrence, "0.0.2", DIGEST_B))
    assert after == f"image:\n  repository: ghcr.io/x/app\n  tag: 0.0.2@{DIGEST_B}\n"
    assert rewrite(text, to(occurrence, "0.0.2")) == (
        "image:\n  repository: ghcr.io/x/app\n  tag: 0.0.2\n"
    )


def test_tag_and_digest_spans_inside_one_value_are_merged() -> None:
    text = f"image:\n  repository: ghcr.io/x/app\n  tag: 0.0.1@{DIGEST_A}\n"
    ref = ImageRef(parse_name("ghcr.io/x/app"), "0.0.1", DIGEST_A)
    occurrence = split(text, ref, tag="0.0.1", digest=DIGEST_A)
    assert rewrite(text, to(occurrence, "0.0.2")) == (
        "image:\n  repository: ghcr.io/x/app\n  tag: 0.0.2\n"
    )


def test_kustomize_int_newtag_becomes_a_quoted_string() -> None:
    text = "images:\n- name: app\n  newTag: 10\n"
    occurrence = split(text, ImageRef(parse_name("app"), "10"), tag="10")
    assert rewrite(text, to(occurrence, "11")) == 'images:\n- name: app\n  newTag: "11"\n'


@pytest.mark.parametrize(("value", "after"), [("null", '"1.27"'), ("~", "v1.27")])
def test_null_tag_is_replaced(value: str, after: str) -> None:
    text = f"image:\n  repository: app\n  tag: {value}\n"
    occurrence = split(text, ImageRef(parse_name("app")), tag=value)
    new = after.strip('"')
    assert rewrite(text, to(occurrence, new)) == f"image:\n  repository: app\n  tag: {after}\n"


def test_empty_tag_value_gets_a_space_and_quotes_when_needed() -> None:
    text = "image:\n  repository: app\n  tag:\n  pullPolicy: x\n"
    start = text.index("tag:") + 4
    spans = {Part.TAG: Span(start, start, 4, 7)}
    occurrence = Occurrence(
        "f.yaml", 0, (), OccurrenceKind.HELM_VALUES, ImageRef(parse_name("app")), spans
    )
    assert rewrite(text, to(occurrence, "1.27")) == (
        'image:\n  repository: app\n  tag: "1.27"\n  pullPolicy: x\n'
    )
    assert rewrite(text, to(occurrence, "v2")) == (
        "image:\n  repository: app\n  tag: v2\n  pullPolicy: x\n"
    )


def test_split_reference_without_tag_key_cannot_take_a_tag() -> None:
    text = "image:\n  repository: bitnami/redis\n"
    occurrence = split(text, ImageRef(REDIS), name="bitnami/redis")
    with pytest.raises(ManifestError, match="no tag key to update"):
        rewrite(text, to(occurrence, "7.4.0"))


def test_marker_name_and_tag_parts_are_set_separately() -> None:
    text = "images:\n- name: c\n  newName: replaced\n  newTag: v1\n"
    ref = ImageRef(parse_name("replaced"), "v1")
    occurrence = Occurrence(
        "f.yaml",
        0,
        (),
        OccurrenceKind.MARKER,
        ref,
        {Part.NAME: span(text, "replaced"), Part.TAG: span(text, "v1")},
    )
    new = parse_reference("index.repo.fake/updated:v1.0.1")
    assert rewrite(text, Change(occurrence, ref, new)) == (
        "images:\n- name: c\n  newName: index.repo.fake/updated\n  newTag: v1.0.1\n"
    )


# --- bytes that must not move ---------------------------------------------------------------


def test_crlf_bom_tabs_trailing_spaces_and_no_final_newline_survive() -> None:
    text = '\ufeff# c\r\nkind: Pod  \r\nspec:\r\n  image: nginx:1.25 #\ttab\r\n  x: "1\t2"  '

    after = rewrite(text, to(whole(text, "nginx:1.25"), "1.27"))
    assert after.encode() == text.replace("1.25", "1.27").encode()


def test_multi_document_edit_only_touches_its_document() -> None:
    text = "---\na: nginx:1.25\n...\n---\n---\n# two\nb: nginx:1.25\n---\nc: &x 1\nd: *x\n"
    after = rewrite(text, to(whole(text, "nginx:1.25", nth=1), "1.27"))
    assert after == text.replace("b: nginx:1.25", "b: nginx:1.27")


def test_anchor_and_alias_are_kept() -> None:
    text = "x: &img nginx:1.25\ny: *img\n"
    assert rewrite(text, to(whole(text, "nginx:1.25"), "1.27")) == "x: &img nginx:1.27\ny: *img\n"


def test_reference_inside_a_literal_block_scalar() -> None:
    text = "values: |\n  image:\n    repository: app\n    tag: 1.9\n  other: 1\nz: 1\n"
    occurrence = split(text, ImageRef(parse_name("app"), "1.9"), tag="1.9")
    assert rewrite(text, to(occurrence, "1.10")) == text.replace("tag: 1.9", 'tag: "1.10"')


# --- refusing -----------------------------------------------------------------------------------


def test_two_changes_on_one_span_must_agree() -> None:
    text = "image: nginx:1.25\n"
    occurrence = whole(text, "nginx:1.25")
    assert rewrite(text, to(occurrence, "1.27"), to(occurrence, "1.27")) == "image: nginx:1.27\n"
    with pytest.raises(ManifestError, match="disagree"):
        rewrite(text, to(occurrence, "1.27"), to(occurrence, "1.28"))


def test_a_span_that_does_not_hold_the_reference_is_refused() -> None:
    text = "image: nginx:1.25\n"
    bad = Occurrence(
        "f.yaml",
        0,
        (),
        OccurrenceKind.POD_SPEC,
        parse_reference("nginx:1.25"),
        {Part.WHOLE: Span(1, 11, 1, 2)},
    )
    with pytest.raises(ManifestError, match="not the reference"):
        rewrite(text, to(bad, "1.27"))


def test_a_span_outside_any_scalar_is_refused() -> None:
    text = "image: x # nginx:1.25\n"
    with pytest.raises(ManifestError, match="not inside a scalar"):
        rewrite(text, to(whole(text, "nginx:1.25"), "1.27"))


def test_an_edit_spanning_two_scalars_is_refused() -> None:
    text = "a: 1.9\nb: x\n"
    occurrence = split(text, ImageRef(REDIS, "1.9"), tag="1.9\nb: x")
    with pytest.raises(ManifestError):
        rewrite(text, Change(occurrence, ImageRef(REDIS, None), ImageRef(REDIS, "2")))


def test_unparseable_or_duplicate_key_files_are_not_rewritten() -> None:
    broken = "image: nginx:1.25\n  bad: [\n"
    with pytest.raises(ManifestError, match="cannot parse"):
        rewrite(broken, to(whole(broken, "nginx:1.25"), "1.27"))
    duplicate = "image: nginx:1.25\nimage: nginx:1.25\n"
    with pytest.raises(ManifestError, match="duplicate key"):
        rewrite(duplicate, to(whole(duplicate, "nginx:1.25"), "1.27"))


def test_edits_inside_a_folded_block_of_several_lines_are_refused() -> None:
    text = "v: >\n  image: nginx:1.25\n  and more\n"
    with pytest.raises(ManifestError, match="folded"):
        rewrite(text, to(whole(text, "nginx:1.25"), "1.27"))


@pytest.mark.parametrize(
    "text",
    [
        "image: >-\n    nginx:1.25\nx: 1\n",
        "image: >\n  nginx:1.25\n\n",
        "image: |-\n  nginx:1.25\n",
        "image: |+ # keep\n  nginx:1.25\n\n",
        "images:\n- >-\n  nginx:1.25\n",
        "image: >-\r\n  nginx:1.25\r\n",
    ],
)
def test_a_one_line_block_scalar_is_edited_keeping_indicator_and_indentation(text: str) -> None:
    after = rewrite(text, to(whole(text, "nginx:1.25"), "1.27.0"))
    assert after == text.replace("nginx:1.25", "nginx:1.27.0")


def test_a_one_line_literal_block_that_holds_yaml_is_edited_as_yaml() -> None:
    text = "values: |\n  tag: 1.9\n"
    occurrence = split(text, ImageRef(REDIS, "1.9"), tag="1.9")
    assert rewrite(text, to(occurrence, "1.10")) == 'values: |\n  tag: "1.10"\n'


def test_invalid_new_tag_is_refused() -> None:
    text = "image: nginx:1.25\n"
    with pytest.raises(ManifestError, match="invalid"):
        rewrite(text, to(whole(text, "nginx:1.25"), "-bad"))


# --- the FileChange and the plan ----------------------------------------------------------------


def test_file_change_records_hash_and_the_spliced_edits() -> None:
    text = "image:\n  tag: 1.9\n"
    occurrence = split(text, ImageRef(REDIS, "1.9"), tag="1.9")
    change = rewrite_text("v.yaml", text, [to(occurrence, "1.10")])
    assert change.path == "v.yaml"
    assert change.before_sha256 == hashlib.sha256(text.encode()).hexdigest()
    assert [(e.span.start, e.old, e.new) for e in change.edits] == [(14, "1.9", '"1.10"')]
    assert [(e.old, e.new) for e in plan_edits(text, to(occurrence, "1.10"))] == [("1.9", "1.10")]
    assert plan_edits(text, to(occurrence, "1.9")) == []
    unchanged = rewrite_text("v.yaml", text, [to(occurrence, "1.9")])
    assert (unchanged.after, unchanged.edits) == (text, ())


def test_write_changes_writes_exact_bytes_and_refuses_stale_files(tmp_path: Path) -> None:
    text = "\ufeffa: 1\r\nimage: nginx:1.25"
    (tmp_path / "d").mkdir()
    target = tmp_path / "d" / "f.yaml"
    target.write_bytes(text.encode())
    change = rewrite_text("d/f.yaml", text, [to(whole(text, "nginx:1.25"), "1.27")])
    write_changes(tmp_path, [change])
    assert target.read_bytes() == "\ufeffa: 1\r\nimage: nginx:1.27".encode()
    stale = FileChange("d/f.yaml", sha256_text(text), "x", ())
    with pytest.raises(ManifestError, match="changed on disk"):
        write_changes(tmp_path, [stale])
    assert target.read_bytes() == "\ufeffa: 1\r\nimage: nginx:1.27".encode()
    assert sorted(p.name for p in target.parent.iterdir()) == ["f.yaml"]


def test_image_name_of_changes_does_not_matter_for_whole_spelling() -> None:
    text = "image: nginx:1.25\n"
    occurrence = whole(text, "nginx:1.25")
    new = ImageRef(ImageName("docker.io", "library/nginx"), "1.27", None, "")
    assert rewrite(text, Change(occurrence, occurrence.ref, new)) == "image: nginx:1.27\n"
