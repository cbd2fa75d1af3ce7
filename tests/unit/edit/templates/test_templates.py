"""Helm chart templates: literal `image:` lines are found and edited byte-exactly, templated
ones reported; hostile templates are read in bounded time and memory, never crash.
"""

from __future__ import annotations

import tracemalloc

import pytest

from image_bot.edit.find import find_in_text
from image_bot.edit.rewrite import rewrite_text
from image_bot.edit.templates.lines import MAX_LINE
from image_bot.edit.templates.rewrite import rewrite_template
from image_bot.errors import ManifestError
from image_bot.model import Change, Edit, ImageRef, OccurrenceKind, Part

DIGEST = "sha256:" + "0123456789abcdef" * 4
TEST_POD = f"""\
{{{{- if .Values.tests.enabled }}}}
apiVersion: v1
kind: Pod
metadata:
  name: "{{{{ include "chart.fullname" . }}}}-test"
  annotations:
    "helm.sh/hook": test
spec:
  initContainers:
  - name: wait
    image: busybox:1.37.0 # wait for the service
  containers:
    - name: check
      image: "redis:alpine@{DIGEST}"
      command:
        - sh
        - -c
      args: |
        image: not-an-image:1.0
    {{{{- if .Values.extra }}}}
        image: nor-this-one:1.0
    {{{{- end }}}}
    - name: app
      image: {{{{ .Values.image.repository }}}}:{{{{ .Values.image.tag }}}}
    - name: curl
      image: 'curlimages/curl:8.1.0'
{{{{/* image: commented-out:1.0
*/}}}}
{{{{- end }}}}
"""
PATH = "charts/app/templates/tests/test-connection.yaml"


def test_literal_images_are_found_and_templated_ones_reported() -> None:
    found = find_in_text(TEST_POD, PATH)
    assert [(o.line, o.column, o.ref.text, o.kind) for o in found.occurrences] == [
        (11, 12, "busybox:1.37.0", OccurrenceKind.HELM_TEMPLATE),
        (14, 15, f"redis:alpine@{DIGEST}", OccurrenceKind.HELM_TEMPLATE),
        (26, 15, "curlimages/curl:8.1.0", OccurrenceKind.HELM_TEMPLATE),
    ]
    assert [o.yaml_path for o in found.occurrences] == [
        ("spec", "initContainers", 0, "image"),
        ("spec", "containers", 0, "image"),
        ("spec", "containers", 2, "image"),
    ]
    assert [(s.line, s.reason[:40]) for s in found.skipped] == [
        (24, "Helm template: templated value '{{ .Valu")
    ]


def test_a_template_edit_changes_only_the_reference_bytes() -> None:
    found = find_in_text(TEST_POD, PATH)
    new = {"busybox": ("1.38.0", None), "redis": ("7.4-alpine", DIGEST[::-1][:7] + "0" * 57)}
    changes = []
    for occurrence in found.occurrences:
        short = occurrence.ref.name.repository.removeprefix("library/")
        tag, digest = new.get(short, ("8.2.0", None))
        digest = "sha256:" + "f" * 64 if digest else None
        changes.append(
            Change(occurrence, occurrence.ref, ImageRef(occurrence.ref.name, tag, digest))
        )
    after = rewrite_text(PATH, TEST_POD, changes).after
    assert after == (
        TEST_POD.replace("busybox:1.37.0", "busybox:1.38.0")
        .replace(f"redis:alpine@{DIGEST}", "redis:7.4-alpine@sha256:" + "f" * 64)
        .replace("curl:8.1.0", "curl:8.2.0")
    )
    again = find_in_text(after, PATH)
    assert [o.ref.tag for o in again.occurrences] == ["1.38.0", "7.4-alpine", "8.2.0"]


def test_a_template_edit_that_would_not_read_back_is_refused() -> None:
    text = "spec:\n  image: busybox:1.37.0\n  x: {{ .Values.x }}\n"
    (occurrence,) = find_in_text(text, "templates/job.yaml").occurrences
    span = occurrence.spans[Part.WHOLE]
    for new in ("busybox:1.0 # x", "busybox:{{ .Values.tag }}", "busybox:1.0: x"):
        edit = Edit(span, "busybox:1.37.0", new)
        with pytest.raises(ManifestError, match="cannot be written there"):
            rewrite_template("templates/job.yaml", text, "sha", [edit])


def test_a_file_with_template_actions_that_is_not_yaml_is_read_by_lines() -> None:
    text = 'kind: Pod\nspec:\n  containers:\n  - image: busybox\n  {{- include "x" . }}\n'
    found = find_in_text(text, "deploy/pod.yaml")  # not under templates/, not YAML either
    assert [(o.ref.text, o.kind) for o in found.occurrences] == [
        ("busybox", OccurrenceKind.HELM_TEMPLATE)
    ]


# --- hostile templates -------------------------------------------------------------------------


def test_an_unclosed_action_is_reported_and_stops_the_reading() -> None:
    text = "spec:\n  x: {{ if .Values.x\n  image: a:1\n  image: b:2\n"
    found = find_in_text(text, "templates/x.yaml")
    assert found.occurrences == ()
    assert [(s.line, s.reason) for s in found.skipped] == [
        (2, "Helm template: a `{{` that never closes: the lines after it are not read")
    ]


def test_a_megabyte_line_is_not_read_and_says_so() -> None:
    line = "  image: " + "a" * 1_000_000
    text = "{{- if .Values.x }}\nspec:\n" + line + "\n  image: busybox:1.0\n{{- end }}\n"
    found = find_in_text(text, "templates/x.yaml")
    assert [o.ref.text for o in found.occurrences] == ["busybox:1.0"]
    assert [(s.line, s.reason) for s in found.skipped] == [
        (3, f"Helm template: a line of {len(line)} characters is not read")
    ]
    assert len(line) > MAX_LINE


def test_a_ten_megabyte_template_is_read_in_bounded_memory() -> None:
    block = (
        "{{- range .Values.jobs }}\n- name: {{ .name }}\n  labels: {app: x, tier: {{ .tier }}}\n"
        f"  command: [sh, -c, 'echo {'hello world ' * 80}']\n# {'-' * 1000}\n{{{{- end }}}}\n"
    )
    text = "spec:\n  image: busybox:1.37.0\n" + block * (10_000_000 // len(block))
    tracemalloc.start()
    try:
        found = find_in_text(text, "charts/x/templates/jobs.yaml")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [o.ref.text for o in found.occurrences] == ["busybox:1.37.0"]
    assert peak < len(text) // 10  # one line at a time, never a copy of the file


def test_control_characters_are_a_skip_not_a_crash() -> None:
    template = "spec:\n  image: busy\x01box:1.0\n  x: {{ .Values.x }}\n"
    found = find_in_text(template, "templates/x.yaml")
    assert found.occurrences == ()
    assert found.skipped[0].line == 2
    block = "spec:\n  image: |\n    busy\x01box:1.0\n"
    found = find_in_text(block, "values.yaml")
    assert found.occurrences == ()
    assert found.skipped and "YAML" in found.skipped[0].reason
