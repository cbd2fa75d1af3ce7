"""What each finder finds, and the exact characters each span holds."""

from __future__ import annotations

import pytest

from image_bot.edit.find import CustomTarget, FindResult, find_in_text
from image_bot.errors import ConfigError
from image_bot.model import Occurrence, OccurrenceKind, Part
from image_bot.reference import parse_name

DIGEST = "sha256:" + "a" * 64


def find(text: str, path: str = "f.yaml", **kwargs: object) -> FindResult:
    return find_in_text(text, path, **kwargs)  # type: ignore[arg-type]


def parts(text: str, occurrence: Occurrence) -> dict[str, str]:
    """What each span of `occurrence` holds in `text`."""
    return {str(part): text[s.start : s.end] for part, s in occurrence.spans.items()}


def summary(text: str, path: str = "f.yaml", **kwargs: object) -> list[tuple[object, ...]]:
    return [
        (str(o.kind), o.yaml_path, str(o.ref.name), o.ref.tag, o.ref.digest, parts(text, o))
        for o in find(text, path, **kwargs).occurrences
    ]


# --- Kubernetes ------------------------------------------------------------------------------

POD_TEMPLATE = """\
apiVersion: apps/v1
kind: {kind}
metadata:
  name: x
spec:
  template:
    spec:
      initContainers:
        - name: init
          image: busybox:1.36
      containers:
        - name: app
          image: "ghcr.io/acme/app:1.2.3"
          imagePullPolicy: Always
      ephemeralContainers:
        - name: debug
          image: 'alpine@{digest}'
      volumes:
        - name: data
          image:
            reference: quay.io/acme/data:v1
"""


@pytest.mark.parametrize("kind", ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"])
def test_every_container_list_of_a_pod_template(kind: str) -> None:
    text = POD_TEMPLATE.format(kind=kind, digest=DIGEST)
    found = summary(text)
    assert [(f[0], f[2], f[3], f[5]) for f in found] == [
        ("pod-spec", "docker.io/library/busybox", "1.36", {"whole": "busybox:1.36"}),
        ("pod-spec", "ghcr.io/acme/app", "1.2.3", {"whole": "ghcr.io/acme/app:1.2.3"}),
        ("pod-spec", "docker.io/library/alpine", None, {"whole": f"alpine@{DIGEST}"}),
        ("pod-spec", "quay.io/acme/data", "v1", {"whole": "quay.io/acme/data:v1"}),
    ]
    assert found[1][1] == ("spec", "template", "spec", "containers", 0, "image")


def test_pod_and_cronjob_specs_sit_elsewhere() -> None:
    text = (
        "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: nginx:1.25\n---\n"
        "apiVersion: batch/v1\nkind: CronJob\nspec:\n  jobTemplate:\n    spec:\n      template:\n"
        "        spec:\n          containers:\n            - image: redis:7\n"
    )
    found = find(text).occurrences
    assert [(o.document, o.yaml_path[-4:], o.ref.tag) for o in found] == [
        (0, ("spec", "containers", 0, "image"), "1.25"),
        (1, ("spec", "containers", 0, "image"), "7"),
    ]
    assert len(found[1].yaml_path) == 8


def test_templated_container_images_are_reported_not_found() -> None:
    text = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: '{{ .Values.img }}'\n"
    result = find(text)
    assert result.occurrences == ()
    assert [(s.line, s.reason[:22]) for s in result.skipped] == [(5, "templated or interpola")]


def test_image_fields_of_custom_resources() -> None:
    text = (
        "apiVersion: example.com/v1\nkind: Tenant\nspec:\n  image: minio/minio:RELEASE.1\n"
        "  sidecarImage: 'quay.io/x/sidecar:2'\n  imagePullPolicy: Always\n"
        "  fooImage: plain\n  imageName: ghcr.io/cnpg/postgresql:16\n"
    )
    found = summary(text)
    assert [(f[0], f[1][-1], f[3]) for f in found] == [
        ("image-field", "image", "RELEASE.1"),
        ("image-field", "sidecarImage", "2"),
        ("image-field", "imageName", "16"),
    ]


def test_flux_image_repository_names_what_to_scan_not_a_deployed_image() -> None:
    text = (
        "apiVersion: image.toolkit.fluxcd.io/v1\nkind: ImageRepository\n"
        "spec:\n  image: ghcr.io/acme/app\n"
    )
    assert find(text).occurrences == ()


# --- Kustomize -------------------------------------------------------------------------------


def test_kustomize_images_entries_have_a_span_per_field() -> None:
    text = (
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nimages:\n"
        "  - name: app\n    newName: ghcr.io/acme/app\n    newTag: 10\n"
        f"  - name: db\n    digest: {DIGEST}\n"
        "  - name: selector-only\n    tagSuffix: -x\n"
        "  - name: web\n    newName: nginx:1.25\n"
    )
    found = summary(text, "kustomization.yaml")
    assert found == [
        (
            "kustomize",
            ("images", 0, "newTag"),
            "ghcr.io/acme/app",
            "10",  # an int to YAML: read from the text, not skipped
            None,
            {"name": "ghcr.io/acme/app", "tag": "10"},
        ),
        (
            "kustomize",
            ("images", 1, "digest"),
            "docker.io/library/db",
            None,
            DIGEST,
            {"digest": DIGEST},
        ),
        (
            "kustomize",
            ("images", 3, "newName"),
            "docker.io/library/nginx",
            "1.25",
            None,
            {"whole": "nginx:1.25"},
        ),
    ]


def test_kustomize_entries_kustomize_would_render_wrongly_are_reported() -> None:
    text = (
        "kind: Kustomization\napiVersion: kustomize.config.k8s.io/v1beta1\nimages:\n"
        f"  - name: a\n    newTag: '1'\n    digest: {DIGEST}\n"
        f"  - name: b\n    newTag: {DIGEST}\n"
    )
    result = find(text)
    assert result.occurrences == ()
    assert [s.line for s in result.skipped] == [4, 7]


def test_flux_kustomization_spec_images_and_file_named_kustomization() -> None:
    flux = (
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nspec:\n"
        "  images:\n    - name: app\n      newTag: v2\n"
    )
    assert [f[1] for f in summary(flux)] == [("spec", "images", 0, "newTag")]
    bare = "images:\n  - name: app\n    newTag: v3\n"
    assert [f[3] for f in summary(bare, "Kustomization")] == ["v3"]


# --- Helm values -----------------------------------------------------------------------------


def test_helm_split_mappings_in_all_their_shapes() -> None:
    text = (
        "image:\n  registry: docker.io\n  repository: bitnami/redis\n  tag: 7.2.4\n  digest: ''\n"
        f"sidecar:\n  image:\n    repository: ghcr.io/acme/side\n    tag: 1.0@{DIGEST}\n"
        'named:\n  image:\n    name: quay.io/acme/named\n    tag: "3"\n'
        "images:\n  ui:\n    repository: acme/ui\n    tag: 1.10\n"
        "legacy:\n  image: jenkins/jenkins\n  tag: lts\n"
        "coreImage:\n  registry: docker.io\n  repository: bitnami/harbor-core\n  version: 2.1.3\n"
        "inline_image: docker.io/library/nginx:1.18-alpine\n"
    )
    found = summary(text, "values.yaml")
    assert [(f[2], f[3], f[4], f[5]) for f in found] == [
        (
            "docker.io/bitnami/redis",
            "7.2.4",
            None,
            {"registry": "docker.io", "name": "bitnami/redis", "tag": "7.2.4", "digest": ""},
        ),
        (
            "ghcr.io/acme/side",
            "1.0",
            DIGEST,
            {"name": "ghcr.io/acme/side", "tag": "1.0", "digest": DIGEST},
        ),
        ("quay.io/acme/named", "3", None, {"name": "quay.io/acme/named", "tag": "3"}),
        ("docker.io/acme/ui", "1.10", None, {"name": "acme/ui", "tag": "1.10"}),
        ("docker.io/jenkins/jenkins", "lts", None, {"name": "jenkins/jenkins", "tag": "lts"}),
        (
            "docker.io/bitnami/harbor-core",
            "2.1.3",
            None,
            {"registry": "docker.io", "name": "bitnami/harbor-core", "tag": "2.1.3"},
        ),
        (
            "docker.io/library/nginx",
            "1.18-alpine",
            None,
            {"whole": "docker.io/library/nginx:1.18-alpine"},
        ),
    ]
    assert {f[0] for f in found} == {"helm-values"}


def test_null_and_empty_tags_have_a_span_to_write_into() -> None:
    text = (
        "a:\n  image:\n    repository: x/a\n    tag: null\n"
        "b:\n  image:\n    repository: x/b\n    tag:\n"
    )
    found = find(text).occurrences
    null_tag, empty_tag = (o.spans[Part.TAG] for o in found)
    assert text[null_tag.start : null_tag.end] == "null"
    assert (empty_tag.start, empty_tag.end) == (len(text) - 1, len(text) - 1)  # right after `:`
    assert [o.ref.tag for o in found] == [None, None]


def test_helm_release_values_argo_values_object_and_embedded_values() -> None:
    text = (
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nspec:\n  values:\n"
        "    image:\n      repository: ghcr.io/acme/app\n      tag: 1.0.0\n---\n"
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nspec:\n  source:\n    helm:\n"
        "      valuesObject:\n        image: {repository: acme/obj, tag: '2.0'}\n"
        "      values: |\n        image:\n          repository: acme/embedded\n"
        "          tag: 3.0.0\n"
    )
    found = summary(text)
    assert [(f[1], f[3], f[5]["tag"]) for f in found] == [
        (("spec", "values", "image", "tag"), "1.0.0", "1.0.0"),
        (("spec", "source", "helm", "valuesObject", "image", "tag"), "2.0", "2.0"),
        (("spec", "source", "helm", "values", "|", "image", "tag"), "3.0.0", "3.0.0"),
    ]


def test_argo_kustomize_image_strings_and_helm_parameter_pairs() -> None:
    text = (
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nspec:\n  source:\n    kustomize:\n"
        "      images:\n        - quay.io/acme/a:0.2\n        - my-alias=gcr.io/acme/b:0.1\n"
        "    helm:\n      parameters:\n        - name: image.repository\n          value: acme/c\n"
        "        - name: image.tag\n          value: '0.3'\n        - name: other.tag\n"
        "          value: x\n"
    )
    found = summary(text)
    assert [(f[2], f[3], f[5]) for f in found] == [
        ("quay.io/acme/a", "0.2", {"whole": "quay.io/acme/a:0.2"}),
        ("gcr.io/acme/b", "0.1", {"whole": "gcr.io/acme/b:0.1"}),
        ("docker.io/acme/c", "0.3", {"name": "acme/c", "tag": "0.3"}),
    ]


# --- Compose ---------------------------------------------------------------------------------


def test_compose_services_merge_keys_and_interpolation() -> None:
    text = (
        "x-defaults: &defaults\n  image: acme/base:1.0\n  restart: always\n"
        "services:\n  web:\n    image: nginx:1.25\n  worker:\n    <<: *defaults\n"
        '  other:\n    <<: *defaults\n  env:\n    image: "$APP_IMAGE"\n'
        "  build-only:\n    build: .\n"
    )
    result = find(text, "compose.yaml")
    assert [(str(o.kind), o.ref.text) for o in result.occurrences] == [
        ("compose", "acme/base:1.0"),  # the anchor's scalar, once for both services
        ("compose", "nginx:1.25"),
    ]
    assert [s.line for s in result.skipped] == [12]


# --- Flux markers ----------------------------------------------------------------------------


def test_markers_name_the_policy_and_the_part() -> None:
    text = (
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nimages:\n"
        '  - name: app\n    newName: ghcr.io/acme/app # {"$imagepolicy": "flux:app:name"}\n'
        '    newTag: v1 # {"$imagepolicy": "flux:app:tag"}\n---\n'
        "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n"
        '    - image: nginx:1.25 # {"$imagepolicy": "flux:web"}\n'
        '    - image: redis:7 # {"$imagepolicy": "not-a-marker"}\n'
    )
    result = find(text)
    assert [(str(o.kind), o.policy, parts(text, o)) for o in result.occurrences] == [
        ("marker", "flux:app", {"name": "ghcr.io/acme/app", "tag": "v1"}),
        ("marker", "flux:web", {"whole": "nginx:1.25"}),
        ("pod-spec", None, {"whole": "redis:7"}),
    ]
    assert [s.reason for s in result.skipped] == ["malformed marker 'not-a-marker'"]


def test_a_marker_on_any_scalar_of_any_file() -> None:
    text = 'spec:\n  version: 1.2.3 # {"$imagepolicy": "ns:op:tag"}\n  repository: acme/op\n'
    (occurrence,) = find(text).occurrences
    assert (occurrence.ref.name, occurrence.ref.tag, occurrence.policy) == (
        parse_name("acme/op"),
        "1.2.3",
        "ns:op",
    )


# --- config targets --------------------------------------------------------------------------


def test_custom_targets_name_a_field_and_its_image() -> None:
    text = (
        "apiVersion: example.com/v1\nkind: Database\nspec:\n  version: '16.2'\n"
        "  engines:\n    - engine: ghcr.io/acme/engine:1.0\n    - engine: ghcr.io/acme/engine:1.1\n"
    )
    targets = [
        CustomTarget("db/**/*.yaml", "spec.version", "postgres", Part.TAG),
        CustomTarget("db/**", "spec.engines[*].engine"),
        CustomTarget("other/*.yaml", "spec.version", "never", Part.TAG),
    ]
    found = summary(text, "db/prod/db.yaml", targets=targets)
    assert [(f[0], f[1], f[2], f[3]) for f in found] == [
        ("custom", ("spec", "version"), "docker.io/library/postgres", "16.2"),
        ("custom", ("spec", "engines", 0, "engine"), "ghcr.io/acme/engine", "1.0"),
        ("custom", ("spec", "engines", 1, "engine"), "ghcr.io/acme/engine", "1.1"),
    ]
    assert summary(text, "elsewhere.yaml", targets=targets) == []


@pytest.mark.parametrize(
    ("path", "part", "image"),
    [
        ("spec..x", Part.WHOLE, None),
        ("", Part.WHOLE, None),
        ("a.b", Part.TAG, None),
        ("a", Part.DIGEST, "x"),
    ],
)
def test_bad_targets_are_config_errors(path: str, part: Part, image: str | None) -> None:
    with pytest.raises(ConfigError):
        CustomTarget("**/*.yaml", path, image, part)


# --- positions -------------------------------------------------------------------------------


def test_spans_are_text_offsets_with_bom_crlf_and_wide_characters() -> None:
    text = (
        "\ufeff# café ☕ 🐳\r\nkind: Pod\r\napiVersion: v1\r\nspec:\r\n"
        '  containers:\r\n    - image: "nginx:1.25"\r\n'
    )
    (occurrence,) = find(text).occurrences
    span = occurrence.spans[Part.WHOLE]
    assert text[span.start : span.end] == "nginx:1.25"
    assert (span.line, span.column) == (6, 15)
    assert occurrence.kind is OccurrenceKind.POD_SPEC


def test_unparsable_and_duplicate_key_files_are_skipped_with_a_reason() -> None:
    broken = find("image: [unclosed\nx: 1\n")
    assert broken.occurrences == ()
    assert broken.skipped[0].reason.startswith("not valid YAML")
    duplicate = find("image: a:1\nimage: b:2\n")
    assert "duplicate key 'image'" in duplicate.skipped[0].reason
    template = find("image: {{ .Values.image }}\n", "chart/templates/x.yaml")
    assert template.skipped[0].reason.startswith("Helm template")


# --- block scalars and declined candidates -------------------------------------------------

BLOCKS = """\
apiVersion: v1
kind: Pod
spec:
  containers:
    - image: >-
        nginx:1.25
    - image: |
        redis:7.2
    - image: >
        ghcr.io/acme/
        app:1.0
---
apiVersion: argoproj.io/v1alpha1
kind: Application
spec:
  source:
    kustomize:
      images:
        - >-
          web=quay.io/acme/web:0.8.1
---
image:
  repository: acme/api
  tag: >-
    2.0.0
"""


def test_one_line_block_scalars_are_found_and_longer_ones_reported() -> None:
    found = find(BLOCKS)
    assert [(o.line, o.column, str(o.ref)) for o in found.occurrences] == [
        (6, 9, "nginx:1.25"),
        (8, 9, "redis:7.2"),
        (20, 15, "quay.io/acme/web:0.8.1"),
        (25, 5, "acme/api:2.0.0"),
    ]
    assert [(s.line, s.reason) for s in found.skipped] == [
        (9, "a block scalar of several lines, not one reference: 'ghcr.io/acme/ app:1.0'")
    ]


def test_image_fields_that_cannot_be_read_are_reported_not_dropped() -> None:
    text = (
        "services:\n  web:\n    image: Not An Image\n"
        '  api:\n    image: "nginx:\\x31.25"\n'
        "  db:\n    image: ''\n"
    )
    assert [(s.line, s.reason.split(":")[0]) for s in find(text).skipped] == [
        (3, "repository names must be lowercase"),
        (5, "written with escapes or line breaks"),
        (7, "empty or surrounded by whitespace"),
    ]
    values = "redis:\n  image:\n    repository: Bad Name\n    tag: '7'\n"
    (skip,) = find(values).skipped
    assert skip.line == 4


def test_a_compose_service_that_builds_its_image_is_not_a_reference() -> None:
    text = (
        "services:\n  app:\n    image: acme-app-local\n    build: .\n"
        "  db:\n    image: postgres:16\n"
    )
    found = find(text, "compose.yaml")
    assert [str(o.ref) for o in found.occurrences] == ["postgres:16"]
    assert [(s.line, s.reason) for s in found.skipped] == [
        (3, "the service builds this image (`build:`)")
    ]
