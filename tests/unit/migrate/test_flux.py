"""Flux image automation objects (the projects' documentation examples) -> image-bot config."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from image_bot.migrate.flux import from_flux, marker_notes
from image_bot.migrate.objects import read_objects
from image_bot.migrate.result import Migration
from image_bot.model import ImageName, ImageRef, Occurrence, OccurrenceKind, Part, Span

FLUX = Path(__file__).resolve().parents[2] / "fixtures" / "migrate" / "flux"


def imported(*names: str) -> Migration:
    objects = []
    for name in names:
        read, unreadable = read_objects(FLUX / name)
        assert unreadable == []
        objects += read
    return from_flux(objects)


def notes(migration: Migration) -> list[str]:
    return [str(note) for note in migration.notes]


@pytest.mark.parametrize("version", ["v1", "v1beta2"])
def test_the_automation_example_becomes_a_policy_a_repository_and_a_schedule(version: str) -> None:
    migration = imported(f"automation-{version}")
    assert migration.config() == {
        "policies": {"default:podinfo-policy": {"semver": "5.0.x"}},
        "repositories": [
            {
                "url": "https://github.com/fluxcd/example",
                "forge": {"type": "github", "token": "${GITHUB_TOKEN}"},
                "base": "main",
                "paths": ["."],
                "update": "configured",
                "commit": {
                    "author_name": "fluxcdbot",
                    "author_email": "fluxcdbot@users.noreply.github.com",
                },
            }
        ],
        "service": {"schedule": {"interval": "30m"}},
    }
    assert notes(migration) == [
        "ImageUpdateAutomation default/podinfo-update: Flux pushed straight to main; image-bot"
        " opens pull requests instead (set direct_commit: true to keep pushing to the branch)"
    ]
    comments = migration.comments[("policies", "default:podinfo-policy")]
    assert comments == [
        "from ImagePolicy default/podinfo-policy: image ghcr.io/stefanprodan/podinfo"
    ]


@pytest.mark.parametrize("version", ["v1", "v1beta2"])
@pytest.mark.parametrize(
    ("example", "name", "policy"),
    [
        ("semver", "podinfo", {"semver": ">=1.0.0"}),
        ("alphabetical", "podinfo", {"alphabetical": "asc", "ignore": ["*.sig"]}),
        ("numerical", "podinfo", {"numerical": "asc", "ignore": ["*.sig"]}),
        ("filter-rc", "podinfo", {"semver": "^1.x-0", "filter": {"pattern": ".*-rc.*"}}),
        (
            "filter-extract-minio",
            "minio",
            {
                "alphabetical": "asc",
                "filter": {"pattern": "^RELEASE\\.(?P<timestamp>.*)Z$", "extract": "$timestamp"},
            },
        ),
        ("digest-reflection", "default:podinfo", {"semver": "5.1.x", "digest": "pin"}),
    ],
)
def test_each_policy_example_maps_to_the_same_choice(
    version: str, example: str, name: str, policy: dict[str, object]
) -> None:
    migration = imported(f"policies-{version}/{example}.yaml")
    assert migration.policies == {name: policy}
    assert migration.repositories == []
    assert "(input): no ImageUpdateAutomation: add `repositories` by hand" in notes(migration)


def test_if_not_present_digest_reflection_says_how_image_bot_differs() -> None:
    (note,) = [
        n for n in notes(imported("policies-v1/digest-reflection.yaml")) if "IfNotPresent" in n
    ]
    assert "re-pins" in note


def test_repository_settings_credentials_and_what_does_not_map() -> None:
    migration = imported("repositories-v1")
    assert migration.registries == {
        "docker.io": {
            "host": "docker.io",
            "username": "${REGCRED_USERNAME}",
            "password": "${REGCRED_PASSWORD}",
        }
    }
    comment = " ".join(migration.comments[("registries", "docker.io")])
    assert "Secret apps/regcred (a docker config)" in comment
    said = "\n".join(notes(migration))
    for expected in (
        "ImageRepository default/example-mtls: certSecretRef:",
        "ImageRepository default/example-ca: certSecretRef:",
        "ImageRepository default/example: proxySecretRef: no per-registry proxy: set HTTPS_PROXY",
        "ImageRepository apps/app1: accessFrom:",
        "ImageRepository default/podinfo: defined twice (secret-ref.yaml)",
    ):
        assert expected in said


def test_exclusion_list_becomes_ignore_globs_for_the_policies_using_the_repository() -> None:
    objects, _ = read_objects(FLUX / "repositories-v1" / "exclusion-list.yaml")
    policies, _ = read_objects(FLUX / "policies-v1" / "cross-namespace.yaml")
    migration = from_flux(objects + policies)
    assert migration.policies["flux-system:app1"] == {
        "semver": "1.0.x",
        "ignore": ["*.sig", "*1?0?2*", "*1?1?1*", "*1?0?0*"],
    }


def test_what_the_docs_do_not_show() -> None:
    migration = imported("written")
    assert migration.policies == {
        "flux-system:api": {
            "numerical": "asc",
            "filter": {"pattern": "^main-[a-f0-9]+-(?P<ts>[0-9]+)", "extract": "$ts"},
        },
        "flux-system:lab": {
            "semver": ">=1.0.0 <2.0.0",
            "ignore": ["*.sig", "debug-*"],
            "filter": {"pattern": "^(?!.*?(?i:snapshot))"},
            "digest": "pin",
        },
        "flux-system:orphan": {"semver": "*"},
    }
    assert migration.registries == {
        "registry.lab.example:5000": {"host": "registry.lab.example:5000", "insecure": True}
    }
    (repository,) = migration.repositories
    assert repository["url"] == "ssh://git@github.com/acme/fleet"
    assert (repository["base"], repository["paths"]) == ("main", ["clusters/my-cluster"])
    said = "\n".join(notes(migration))
    for expected in (
        "ImageRepository flux-system/api: provider aws:",
        "ImageRepository flux-system/lab: serviceAccountName:",
        "ImagePolicy flux-system/orphan: its ImageRepository flux-system/not-here is not among",
        "GitRepository flux-system/flux-system: secretRef:",
        "git.commit.messageTemplate is a Go template",
        "git.commit.signingKey",
        "Flux pushed to branch flux-image-updates",
        "policySelector",
    ):
        assert expected in said


def test_other_api_versions_and_kinds_are_left_alone_with_a_note() -> None:
    objects, _ = read_objects(FLUX / "policies-v1" / "semver.yaml")
    old = [dataclasses.replace(o, api_version="image.toolkit.fluxcd.io/v1alpha1") for o in objects]
    migration = from_flux(old)
    assert migration.policies == {}
    assert (
        "ImagePolicy podinfo: image.toolkit.fluxcd.io/v1alpha1 is not read" in notes(migration)[0]
    )


def test_markers_naming_no_imported_policy_are_listed() -> None:
    migration = imported("automation-v1")
    name = ImageName("ghcr.io", "stefanprodan/podinfo")

    def marked(policy: str, line: int) -> Occurrence:
        ref = ImageRef(name, "5.0.0", text="ghcr.io/stefanprodan/podinfo:5.0.0")
        spans = {Part.WHOLE: Span(0, 1, line, 14)}
        return Occurrence("apps/podinfo.yaml", 0, (), OccurrenceKind.MARKER, ref, spans, policy)

    found = [marked("default:podinfo-policy", 3), marked("flux-system:podinfo", 9)]
    problems = marker_notes(found, migration)
    assert len(problems) == 1
    assert problems[0].startswith("apps/podinfo.yaml:9: ")
    assert "'flux-system:podinfo', which no imported ImagePolicy defines" in problems[0]
