"""A chart's templates decide whether a values `repository` is an image or a registry prefix."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from image_bot.edit.files import LINK_OUT
from image_bot.edit.find import find_references
from image_bot.edit.templates.charts import Use, uses_of

VALUES = """\
images:
  repository: ghcr.io/acme/shop
  tag: "1.4.0"
web:
  name: web
proxy:
  repository: envoyproxy/envoy
  tag: v1.31.0
sidecar:
  image: busybox:1.37.0
"""
SHOP = """\
spec:
  containers:
    - name: web
      image: {{ .Values.images.repository }}/{{ .Values.web.name }}:{{ .Values.images.tag }}
    - name: proxy
      image: "{{ .Values.proxy.repository }}:{{ .Values.proxy.tag }}"
    - name: sidecar
      image: {{ .Values.sidecar.image | quote }}
"""


def chart(root: Path, templates: dict[str, str], *, with_chart_yaml: bool = True) -> Path:
    base = root / "charts" / "shop"
    (base / "templates").mkdir(parents=True)
    (base / "values.yaml").write_text(VALUES)
    if with_chart_yaml:
        (base / "Chart.yaml").write_text("apiVersion: v2\nname: shop\nversion: 1.0.0\n")
    for name, text in templates.items():
        (base / "templates" / name).write_text(text)
    return base


def test_a_repository_the_templates_join_with_more_is_a_registry_prefix(tmp_path: Path) -> None:
    chart(tmp_path, {"deploy.yaml": SHOP})
    found = find_references(tmp_path)
    values = [o for o in found.occurrences if o.path.endswith("values.yaml")]
    assert [str(o.ref) for o in values] == ["envoyproxy/envoy:v1.31.0", "busybox:1.37.0"]
    (prefix,) = [s for s in found.skipped if s.path.endswith("values.yaml")]
    assert prefix.line == 3  # the tag of `images`
    assert prefix.reason == (
        "a registry prefix, not an image: charts/shop/templates/deploy.yaml:4"
        " joins it with more after a `/`"
    )


def test_without_a_chart_the_structure_decides(tmp_path: Path) -> None:
    chart(tmp_path, {"deploy.yaml": SHOP}, with_chart_yaml=False)
    found = find_references(tmp_path)
    values = [str(o.ref) for o in found.occurrences if o.path.endswith("values.yaml")]
    assert values == ["ghcr.io/acme/shop:1.4.0", "envoyproxy/envoy:v1.31.0", "busybox:1.37.0"]


def test_a_key_used_both_ways_or_not_at_all_stays_a_reference(tmp_path: Path) -> None:
    helpers = (
        '{{- define "shop.image" -}}\n'
        '{{ printf "%s:%s" .Values.images.repository .Values.images.tag }}\n{{- end }}\n'
    )
    chart(tmp_path, {"deploy.yaml": SHOP, "_helpers.tpl": helpers})
    found = find_references(tmp_path)
    assert "ghcr.io/acme/shop:1.4.0" in [str(o.ref) for o in found.occurrences]


def test_an_empty_tag_the_chart_fills_with_its_app_version_is_not_set(tmp_path: Path) -> None:
    base = chart(tmp_path, {})
    (base / "values.yaml").write_text(
        "image:\n  repository: ghcr.io/acme/shop\n  tag: ''\n"
        "proxy:\n  repository: envoy\n  tag: ''\n"
    )
    (base / "templates" / "deploy.yaml").write_text(
        'image: "{{ .Values.image.repository }}:'
        '{{ .Values.image.tag | default .Chart.AppVersion }}"\n'
        'image: "{{ .Values.proxy.repository }}:{{ .Values.proxy.tag }}"\n'
    )
    found = find_references(tmp_path)
    assert [str(o.ref) for o in found.occurrences] == ["envoy"]  # no default: the tag is unset
    (skip,) = [s for s in found.skipped if s.path.endswith("values.yaml")]
    assert (skip.line, skip.reason) == (
        3,
        "the chart's own image: its empty tag is the chart's appVersion"
        " (charts/shop/templates/deploy.yaml:1)",
    )


@pytest.mark.parametrize(
    ("template", "use"),
    [
        ("image: {{ .Values.x.repository }}/{{ .Values.y }}", Use.PREFIX),
        ("image: {{ $.Values.x.repository }}/redis:7", Use.PREFIX),
        ('image: "{{ .Values.x.repository }}:{{ .Values.x.tag }}"', Use.IMAGE),
        ("image: {{ .Values.x.repository }}@{{ .Values.x.digest }}", Use.IMAGE),
        ("image: {{ default .Chart.Name .Values.x.repository }}\n", Use.IMAGE),
        ('{{ printf "%s/%s:%s" .Values.r .Values.x.repository .Values.t }}', Use.IMAGE),
        (
            '{{ printf "%s/%s:%s" .Values.x.repository .Values.n (default "1" .Values.t) }}',
            Use.PREFIX,
        ),
        ("{{- if .Values.x.repository }}\n", Use.UNKNOWN),
        ('{{ include "img" (dict "repo" .Values.x.repository) }}', Use.UNKNOWN),
        ("value: {{ .Values.x.repository }}", Use.IMAGE),  # written out alone
        ("{{ .Values.x.repository | quote }} {{ .Values.x.tag }}", Use.UNKNOWN),
    ],
)
def test_how_a_template_uses_a_values_key(template: str, use: Use) -> None:
    found = list(uses_of([("t.yaml", template)], ".Values.x.repository"))
    assert [u for u, _ in found] == [use]


def test_chart_templates_are_read_without_following_links_out_or_opening_pipes(
    tmp_path: Path,
) -> None:
    base = chart(tmp_path, {})
    outside = tmp_path / "outside.yaml"
    outside.write_text(SHOP)  # would make `images` a prefix if it were read
    (base / "templates" / "linked.yaml").symlink_to(outside)
    os.mkfifo(base / "templates" / "pipe.yaml")  # opening it would block the pass
    found = find_references(tmp_path / "charts")
    assert "ghcr.io/acme/shop:1.4.0" in [str(o.ref) for o in found.occurrences]
    reasons = {s.path: s.reason for s in found.skipped}
    assert reasons["shop/templates/pipe.yaml"] == "not a regular file"  # by the manifest walk
    assert reasons["shop/templates/linked.yaml"] == LINK_OUT


def test_a_template_linked_inside_the_repository_is_read_at_its_target(tmp_path: Path) -> None:
    base = chart(tmp_path, {})
    shared = tmp_path / "shared" / "deploy.yaml"
    shared.parent.mkdir()
    shared.write_text(SHOP)
    (base / "templates" / "deploy.yaml").symlink_to(shared)
    found = find_references(tmp_path)
    assert "ghcr.io/acme/shop:1.4.0" not in [str(o.ref) for o in found.occurrences]
    (prefix,) = [s for s in found.skipped if s.path.endswith("values.yaml")]
    assert prefix.reason.startswith("a registry prefix, not an image: ")
    # the same link is out of bounds when only the chart is the repository
    alone = find_references(tmp_path / "charts", boundary=tmp_path / "charts")
    assert "ghcr.io/acme/shop:1.4.0" in [str(o.ref) for o in alone.occurrences]


def test_a_templates_folder_linked_out_of_the_repository_is_not_read(tmp_path: Path) -> None:
    base = chart(tmp_path / "repo", {})
    (base / "templates").rmdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "deploy.yaml").write_text(SHOP)
    (base / "templates").symlink_to(elsewhere)
    found = find_references(tmp_path / "repo")
    assert "ghcr.io/acme/shop:1.4.0" in [str(o.ref) for o in found.occurrences]
    assert not [s for s in found.skipped if s.path.endswith("values.yaml")]
