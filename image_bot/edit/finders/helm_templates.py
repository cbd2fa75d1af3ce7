"""Literal `image:` values in Helm chart templates, read line by line (kind `helm-template`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from image_bot.edit.refs import Found
from image_bot.edit.templates.lines import is_chart_template, read_template
from image_bot.errors import InvalidReference
from image_bot.model import Occurrence, OccurrenceKind, Part, Skipped, Span
from image_bot.reference import parse_reference

__all__ = ["HelmTemplateFinder"]


class HelmTemplateFinder:
    """`image: busybox:1.37.0` in `templates/` of a chart (test pods, jobs, init containers),
    or in another file with `{{ }}` that does not parse as YAML.

    Templated values (`{{ .Values.image }}`) are reported as skipped, never guessed.
    """

    kind: ClassVar[str] = OccurrenceKind.HELM_TEMPLATE

    def applies(self, path: str, text: str, *, not_yaml: bool) -> bool:
        """A chart template, or any file with `{{` that is not YAML (a template all the same)."""
        return is_chart_template(path, text) or (not_yaml and "{{" in text)

    def find_text(self, path: str, text: str) -> Iterator[Found]:
        read = read_template(text)
        found: list[tuple[int, Found]] = [
            (line, Skipped(path, f"Helm template: {reason}", line)) for line, reason in read.skipped
        ]
        for image in read.images:
            try:
                ref = parse_reference(image.value)
            except InvalidReference as exc:
                why = f"Helm template: {exc.why}: {image.value[:80]!r}"
                found.append((image.line, Skipped(path, why, image.line)))
                continue
            span = Span(image.start, image.end, image.line, image.column)
            occurrence = Occurrence(
                path, 0, image.path, OccurrenceKind.HELM_TEMPLATE, ref, {Part.WHOLE: span}
            )
            found.append((image.line, occurrence))
        for _, item in sorted(found, key=lambda pair: pair[0]):
            yield item
