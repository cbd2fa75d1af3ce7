"""Argo CD Image Updater annotations (its documentation examples) -> image-bot config."""

from __future__ import annotations

from pathlib import Path

from image_bot.migrate.argocd import from_argocd
from image_bot.migrate.objects import read_objects
from image_bot.migrate.result import Migration

ARGOCD = Path(__file__).resolve().parents[2] / "fixtures" / "migrate" / "argocd"


def imported(name: str) -> Migration:
    objects, unreadable = read_objects(ARGOCD / name)
    assert unreadable == []
    return from_argocd(objects)


def notes(migration: Migration) -> str:
    return "\n".join(str(note) for note in migration.notes)


def test_the_semver_example_gives_a_policy_and_a_rule_per_image() -> None:
    migration = imported("example-semver.yaml")
    assert migration.policies == {"prod/api": {"semver": "1.x"}, "prod/front": {"semver": "1.x"}}
    assert migration.images == [
        {"name": "registry.com/vendor/api", "policy": "prod/api"},
        {"name": "registry.com/vendor/front", "policy": "prod/front"},
    ]
    assert migration.repositories == []  # the example has no spec.source
    assert "Application prod: no spec.source" in notes(migration)


def test_the_digest_example_follows_the_tag_in_the_manifests() -> None:
    migration = imported("example-digest.yaml")
    assert migration.policies == {
        "dev/api": {"digest": "follow"},
        "dev/front": {"digest": "follow"},
    }
    assert "api: update-strategy digest follows the tag written in the manifests" in notes(
        migration
    )
    assert "(Argo CD followed 'latest')" in notes(migration)


def test_the_e2e_multi_image_application_and_its_stray_alias() -> None:
    migration = imported("e2e-004-multiple-images.yaml")
    assert migration.policies == {
        "image-updater-004/test-nginx": {"semver": "1.17.10"},
        "image-updater-004/test-memcached": {"semver": "1.6.10"},
    }
    assert migration.repositories == [
        {
            "url": "http://10.42.0.1:30002/testdata.git",
            "forge": "local",
            "base": "main",
            "paths": ["004-multi-images-public"],
            "update": "configured",
        }
    ]
    said = notes(migration)
    assert (
        "argocd-image-updater.argoproj.io/test.update-strategy: no image has the alias 'test'"
        in said
    )
    assert "targetRevision HEAD: the base branch is assumed to be main" in said
    assert "write-back-method argocd changed the live Application" in said


def test_git_write_back_with_a_branch_and_repository_of_its_own() -> None:
    migration = imported("e2e-008-git-repository-helm.yaml")
    assert migration.policies == {"image-updater-008/test": {"digest": "follow"}}
    (repository,) = migration.repositories
    assert (repository["url"], repository["base"]) == (
        "https://10.42.0.1:30003/testdata.git",
        "master",
    )
    assert repository["paths"] == ["008-simple-helm-app"]


def test_every_documented_annotation_maps_or_is_noted() -> None:
    migration = imported("docs-annotations.yaml")
    assert migration.policies["patch-branch/nginx"] == {"semver": "~1.19"}
    assert migration.policies["latest-build/yourtool"] == {
        "newest-build": True,
        "filter": {"pattern": "^v1.0.0-[0-9a-zA-Z]+$"},
        "ignore": ["v1.0.0-dirty", "v1.0.0-test*"],
        "platforms": ["linux/arm64", "linux/amd64"],
    }
    assert migration.policies["argocd-from-ghcr/argocd"] == {"semver": "*"}
    assert "track-latest/fooalias" not in migration.policies  # its image already has a rule
    assert migration.registries == {
        "docker.io": {
            "host": "docker.io",
            "username": "${MY_NAMESPACE_MY_SECRET_USERNAME}",
            "password": "${MY_NAMESPACE_MY_SECRET_PASSWORD}",
        }
    }
    example_apps = [
        r
        for r in migration.repositories
        if r["url"].endswith("argocd-example-apps.git")  # type: ignore[union-attr]
    ]
    master = next(r for r in example_apps if r["base"] == "master")
    assert master["paths"] == ["kustomize-guestbook", "helm/config", "helm-dex"]
    assert master["targets"] == [
        {
            "files": "helm/config/test-values.yaml",
            "path": "foo.tag",
            "image": "foo/bar",
            "part": "tag",
        },
        {
            "files": "helm/config/test-values.yaml",
            "path": "bar.tag",
            "image": "bar/foo",
            "part": "tag",
        },
    ]
    main = next(r for r in example_apps if r["base"] == "main")  # git-branch main:<template>
    assert main["paths"] == ["kustomize-guestbook"]
    said = notes(migration)
    for expected in (
        "latest-build: git-branch: image-bot names its branches itself",
        "latest-build: write-back-method git committed to the branch; image-bot opens pull"
        " requests",
        "dex: dex: Argo CD set the Helm parameter dex.image.tag outside the values files",
        "dex.helm.image-name: image names are not changed, only tags",
        "yourorg/yourimage already follows Application argocd/latest-build's settings",
        "argocd.force-update: image-bot updates references it finds in git",
        "argocd.kustomize.image-name: image-bot updates the kustomization images: entry for"
        " quay.io/argoproj/argocd",
    ):
        assert expected in said, expected


def test_applications_without_image_list_are_not_imported() -> None:
    objects, _ = read_objects(ARGOCD / "e2e-004-multiple-images.yaml")
    namespace_only = [obj for obj in objects if obj.kind != "Application"]
    migration = from_argocd(namespace_only)
    assert migration.config() == {}
