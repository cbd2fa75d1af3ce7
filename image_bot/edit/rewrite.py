"""One UpdatePlan + base texts -> FileChanges by splicing spans; re-parse, check nothing moved."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path

from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import ScalarNode

from image_bot.edit.files import read_file, write_file
from image_bot.edit.parallel import map_chunks
from image_bot.edit.templates.rewrite import rewrite_template
from image_bot.edit.written import holds_digest
from image_bot.edit.yaml.document import block_text
from image_bot.edit.yaml.scalars import EMBEDDED, difference, needs_quotes, quote, render
from image_bot.edit.yaml.spans import Scalar, Style, Tree, compose, index_text
from image_bot.errors import InvalidReference, ManifestError
from image_bot.model import (
    Change,
    Edit,
    FileChange,
    ImageRef,
    OccurrenceKind,
    Part,
    Skipped,
    Span,
)
from image_bot.reference import split_reference, with_tag

__all__ = ["plan_edits", "rewrite_text", "rewrite_tree", "sha256_text", "write_changes"]

_STOP_LEFT = frozenset(" \t\r\n[{,")
_STOP_RIGHT = frozenset(" \t\r\n]},")


def sha256_text(text: str) -> str:
    """The hex sha256 of `text` written as UTF-8 (the file's bytes: BOM and CRLF are in it)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def plan_edits(text: str, change: Change) -> list[Edit]:
    """The span edits one Change needs: new values, not yet quoted; no-op edits left out."""
    return [edit for edit in _planned(text, change) if edit.new != edit.old]


def rewrite_text(
    path: str, text: str, changes: Sequence[Change], *, verify: bool = True
) -> FileChange:
    """Splice `changes` into `text`; ManifestError if that is unsafe (nothing is written).

    `verify=False` skips re-parsing the result (the check that nothing else moved): for
    asking whether the edits can be made at all, when the result will not be written.
    """
    before = sha256_text(text)
    planned: dict[tuple[int, int], Edit] = {}
    for change in changes:
        for edit in _planned(text, change):
            key = (edit.span.start, edit.span.end)
            prior = planned.setdefault(key, edit)
            if prior.new != edit.new:
                reason = f"two changes disagree: {prior.new!r} and {edit.new!r}"
                raise ManifestError(path, reason, line=edit.span.line)
    wanted = sorted((e for e in planned.values() if e.new != e.old), key=lambda e: e.span.start)
    if not wanted:
        return FileChange(path, before, text, ())
    for left, right in itertools.pairwise(wanted):
        if right.span.start < left.span.end:
            raise ManifestError(path, "overlapping edits", line=right.span.line)
    if any(change.occurrence.kind is OccurrenceKind.HELM_TEMPLATE for change in changes):
        return rewrite_template(path, text, before, wanted)  # not YAML: read by lines
    try:
        tree = index_text(text)
    except YAMLError as exc:
        raise ManifestError(path, f"cannot parse: {_first_line(exc)}") from exc
    if tree.problems:
        raise ManifestError(path, f"not rewritten: {tree.problems[0]}")
    groups: dict[int, tuple[Scalar, list[Edit]]] = {}
    for edit in wanted:
        scalar = _enclosing(text, tree, edit.span)
        if scalar is None or not (
            scalar.content_start <= edit.span.start and edit.span.end <= scalar.content_end
        ):
            raise ManifestError(path, "the span is not inside a scalar", line=edit.span.line)
        groups.setdefault(scalar.start, (scalar, []))[1].append(edit)
    rendered: list[Edit] = []
    expected: dict[int, object] = {}
    for scalar, edits in groups.values():
        rendered.extend(_render(path, text, scalar, edits, tree.prefer))
        expected[id(scalar.node)] = _expected_value(text, scalar, edits)
    rendered.sort(key=lambda e: e.span.start)
    after = _splice(text, rendered)
    if verify:
        _verify(path, after, tree, rendered, expected)
    return FileChange(path, before, after, tuple(rendered))


def rewrite_tree(
    root: Path, changes: Sequence[Change], *, workers: int = 1, verify: bool = True
) -> tuple[list[FileChange], list[Skipped]]:
    """Read each file the changes touch and rewrite it; nothing is written.

    Returns the FileChanges that change something, and a Skipped per file that could not be
    rewritten safely (that file's changes are all dropped, the file is left as it is). With
    `workers` > 1 many files are rewritten in that many processes (the result is the same).
    `verify=False`: see `rewrite_text`.
    """
    by_path: dict[str, list[Change]] = {}
    for change in changes:
        by_path.setdefault(change.occurrence.path, []).append(change)
    groups = sorted(by_path.items())
    results = map_chunks(partial(_rewrite_files, root, verify=verify), groups, workers)
    return (
        [change for rewritten, _ in results for change in rewritten],
        [skip for _, skipped in results for skip in skipped],
    )


def _rewrite_files(
    root: Path, groups: Sequence[tuple[str, list[Change]]], *, verify: bool = True
) -> tuple[list[FileChange], list[Skipped]]:
    rewritten: list[FileChange] = []
    skipped: list[Skipped] = []
    for path, group in groups:
        try:
            text = read_file(root, path).decode("utf-8")  # as the finder reads it
            file_change = rewrite_text(path, text, group, verify=verify)
        except ManifestError as exc:
            skipped.append(Skipped(path, exc.reason, exc.line))
            continue
        except (OSError, UnicodeDecodeError) as exc:
            skipped.append(Skipped(path, f"cannot read: {exc}"))
            continue
        if file_change.edits:
            rewritten.append(file_change)
    return rewritten, skipped


def write_changes(root: Path, changes: Sequence[FileChange]) -> None:
    """Write each `after` as UTF-8 bytes; refuse all if any file changed since it was read.

    Paths are those finding reported (links resolved): a link is never replaced by a file.
    """
    for change in changes:
        current = read_file(root, change.path)
        if hashlib.sha256(current).hexdigest() != change.before_sha256:
            raise ManifestError(change.path, "changed on disk since it was read; not written")
    for change in changes:
        write_file(root, change.path, change.after.encode("utf-8"))


# --- what to write at each span ------------------------------------------------------------


def _planned(text: str, change: Change) -> list[Edit]:
    spans = _merge_tag_digest(text, change.occurrence.spans)
    values = _values(text, change, spans)
    return [
        Edit(spans[part], text[spans[part].start : spans[part].end], value)
        for part, value in values.items()
    ]


def _merge_tag_digest(text: str, spans: Mapping[Part, Span]) -> dict[Part, Span]:
    """A TAG and a DIGEST span in one `tag@digest` scalar become one TAG span."""
    merged = dict(spans)
    tag, digest = spans.get(Part.TAG), spans.get(Part.DIGEST)
    if tag and digest and text[tag.end : digest.start] == "@":
        merged[Part.TAG] = Span(tag.start, digest.end, tag.line, tag.column)
        del merged[Part.DIGEST]
    return merged


def _values(text: str, change: Change, spans: Mapping[Part, Span]) -> dict[Part, str]:
    occurrence, old, new = change.occurrence, change.occurrence.ref, change.new
    marker = occurrence.kind is OccurrenceKind.MARKER

    def fail(reason: str) -> ManifestError:
        return ManifestError(occurrence.path, reason, line=occurrence.line)

    if Part.WHOLE in spans:
        span = spans[Part.WHOLE]
        current = text[span.start : span.end]
        if old.text and current != old.text:
            raise fail(f"the span holds {current!r}, not the reference {old.text!r}")
        try:
            return {Part.WHOLE: _whole(old, new)}
        except InvalidReference as exc:
            raise fail(exc.message) from exc
    values: dict[Part, str] = {}
    if new.name != old.name:
        if Part.REGISTRY in spans:
            raise fail("cannot rename a reference split into registry and repository")
        if Part.NAME in spans:
            values[Part.NAME] = _name_text(new)
        elif not marker:
            raise fail("no name key to update")
    digest_in_tag = Part.DIGEST not in spans and holds_digest(occurrence)
    if Part.TAG in spans and new.tag is not None:
        span = spans[Part.TAG]
        current = text[span.start : span.end]
        if old.tag is not None and current.partition("@")[0] != old.tag:
            raise fail(f"the tag span holds {current!r}, not the tag {old.tag!r}")
        pinned = digest_in_tag and new.digest is not None
        values[Part.TAG] = new.tag + (f"@{new.digest}" if pinned else "")
    elif new.tag is not None and new.tag != old.tag and not marker:
        raise fail("no tag key to update")
    written_with_tag = digest_in_tag and Part.TAG in values
    if Part.DIGEST in spans:
        if new.digest is not None or not marker:
            values[Part.DIGEST] = new.digest or ""  # a digest that pinned the old tag goes
    elif new.digest not in (None, old.digest) and not marker and not written_with_tag:
        raise fail("no digest key to update")
    return values


def _whole(old: ImageRef, new: ImageRef) -> str:
    """`nginx:1.25` -> `nginx:1.27[@digest]`: exactly `new`, in the user's spelling of the name
    (a setter marker's policy may also rename it).
    """
    return with_tag(old if new.name == old.name and old.text else new, new.tag, new.digest).text


def _name_text(ref: ImageRef) -> str:
    return split_reference(ref.text)[0] if ref.text else str(ref.name)


# --- how to write it: the scalar's own syntax -----------------------------------------------


def _render(path: str, text: str, scalar: Scalar, edits: list[Edit], prefer: Style) -> list[Edit]:
    """Turn value edits into text edits: escape inside quotes, add quotes where plain fails."""
    if scalar.style in (Style.SINGLE, Style.DOUBLE):
        return [Edit(e.span, e.old, render(e.new, scalar.style)) for e in edits]
    if _block_line(text, scalar) is not None:
        start = _block_line(text, scalar) or 0
        line = _splice(block_text(scalar.node), edits, offset=start)
        if not line or line[0] in " \t#" or any(not ch.isprintable() for ch in line):
            raise ManifestError(path, f"{line!r} cannot be one line of a block scalar")
        return edits  # a block scalar's one line: no quotes, the indicator stays
    if scalar.style is Style.LITERAL:
        return [_render_embedded(text, edit, prefer) for edit in edits]
    if scalar.style is Style.FOLDED:
        raise ManifestError(path, "edit inside a folded block scalar", line=edits[0].span.line)
    start, end = scalar.content_start, scalar.content_end
    content = text[start:end]
    new = _splice(content, edits, offset=start)
    space = " " if start == end and text[start - 1 : start] == ":" else ""  # `tag:` + nothing
    if needs_quotes(new, flow=scalar.flow):
        return [Edit(_span(text, start, end), content, space + quote(new, prefer))]
    if space:
        return [Edit(_span(text, start, end), content, space + new)]
    return edits


def _render_embedded(text: str, edit: Edit, prefer: Style) -> Edit:
    """An edit inside a `|` block that holds YAML: apply the same rules to the inner scalar."""
    start, end = edit.span.start, edit.span.end
    before, after = text[start - 1 : start], text[end : end + 1]
    if before in ("'", '"') and after == before:
        return Edit(edit.span, edit.old, render(edit.new, Style(before)))
    while start > 0 and text[start - 1] not in _STOP_LEFT:
        start -= 1
    while end < len(text) and text[end] not in _STOP_RIGHT:
        end += 1
    token = text[start:end]
    new = _splice(token, [edit], offset=start)
    if needs_quotes(new, flow=True):
        return Edit(_span(text, start, end), token, quote(new, prefer))
    return edit


def _block_line(text: str, scalar: Scalar) -> int | None:
    """Where the one line of a block scalar (`>-`, `|`) starts when that line is the value
    itself (not YAML held in a `|` block, which is edited as embedded YAML); else None.
    """
    if scalar.style not in (Style.LITERAL, Style.FOLDED):
        return None
    line = block_text(scalar.node)
    if not line or "\n" in line:
        return None
    if scalar.style is Style.LITERAL:
        try:
            roots = compose(line)
        except YAMLError:
            roots = []
        if any(root is not None and not isinstance(root, ScalarNode) for root in roots):
            return None
    body = text.find("\n", scalar.start, scalar.end) + 1
    start = text.find(line, body, scalar.end) if body > 0 else -1
    return None if start < 0 or text[body:start].strip(" \r\n") else start


def _enclosing(text: str, tree: Tree, span: Span) -> Scalar | None:
    """The scalar holding `span`; an empty span after `key:` finds the empty (null) value."""
    found = tree.enclosing(span.start, span.end)
    if found is not None or span.start != span.end:
        return found
    position = span.start
    found = tree.empty_at(position)  # the C parser puts it right after the `:`
    if found is not None:
        return replace(found, content_start=span.start, content_end=span.start)
    while position < len(text) and text[position] in " \t\r\n#":
        position = text.find("\n", position) if text[position] == "#" else position + 1
        position = len(text) if position < 0 else position
    found = tree.empty_at(position)
    return (
        None if found is None else replace(found, content_start=span.start, content_end=span.start)
    )


def _expected_value(text: str, scalar: Scalar, edits: list[Edit]) -> object:
    """What the edited scalar must load as: the old value with the new pieces, or a marker."""
    start = _block_line(text, scalar)
    if start is not None:
        line = block_text(scalar.node)
        return _splice(line, edits, offset=start) + scalar.node.value[len(line) :]
    if scalar.style is Style.LITERAL:
        return EMBEDDED
    raw = text[scalar.content_start : scalar.content_end]
    if raw != scalar.node.value:  # escapes or line folding: only the type is checked
        return None
    return _splice(raw, edits, offset=scalar.content_start)


# --- splicing and checking -------------------------------------------------------------------


def _splice(text: str, edits: Sequence[Edit], *, offset: int = 0) -> str:
    """Replace each edit's span (minus `offset`), right to left."""
    for edit in sorted(edits, key=lambda e: e.span.start, reverse=True):
        start, end = edit.span.start - offset, edit.span.end - offset
        text = text[:start] + edit.new + text[end:]
    return text


def _span(text: str, start: int, end: int) -> Span:
    line_start = text.rfind("\n", 0, start) + 1
    return Span(start, end, text.count("\n", 0, start) + 1, start - line_start + 1)


def _verify(
    path: str, after: str, tree: Tree, edits: list[Edit], expected: Mapping[int, object]
) -> None:
    """Re-parse each edited document of `after`; only the intended scalars may differ."""

    def moved(position: int) -> int:
        return position + sum(len(e.new) - len(e.old) for e in edits if e.span.end <= position)

    for document in tree.documents:
        start, end = document.start, document.end
        if not any(start <= e.span.start < end for e in edits):
            continue
        try:
            documents = compose(after[moved(start) : moved(end)])
        except YAMLError as exc:
            raise ManifestError(path, f"the edit breaks the YAML: {_first_line(exc)}") from exc
        if len(documents) != document.count or documents[-1] is None:
            raise ManifestError(path, "the edit changes the number of documents")
        problem = difference(document.root, documents[-1], expected)
        if problem:
            raise ManifestError(path, f"the edit changes more than the reference: {problem}")


def _first_line(exc: YAMLError) -> str:
    return " ".join(str(exc).split())[:200]
