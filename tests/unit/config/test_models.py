"""Config model helpers (policy lookup, names, URLs) and the registry settings built from them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from image_bot.config import Config, ImageSpec, RepositorySpec, parse_yaml_path
from image_bot.reference import parse_name
from image_bot.wiring.registries import canonical_host, registry_settings

CONFIG = Config.model_validate(
    {
        "policies": {
            "flux-system:api": {"semver": "^2"},
            "web": {"semver": "~1.25"},
            "stable": {"semver": "^1"},
        },
        "default_policy": {"semver": "*", "prerelease": True},
        "images": [
            {"name": "ghcr.io/acme/api", "policy": "stable"},
            {"name": "ghcr.io/acme/*", "policy": {"numerical": "asc"}},
            {"name": "nginx", "policy": "web"},
            {"name": "bitnami/*", "policy": {"alphabetical": "desc"}},
        ],
    }
)


@pytest.mark.parametrize(
    ("image", "marker", "expected"),
    [
        ("ghcr.io/acme/api", "flux-system:api", {"semver": "^2"}),  # the marker wins
        ("ghcr.io/acme/api", "other-ns:web", {"semver": "~1.25"}),  # ns:name falls back to name
        ("ghcr.io/acme/api", "unknown:thing", {"semver": "^1"}),  # unknown marker: images rules
        ("ghcr.io/acme/api", None, {"semver": "^1"}),  # first matching entry
        ("ghcr.io/acme/worker", None, {"numerical": "asc"}),
        ("nginx", None, {"semver": "~1.25"}),
        ("docker.io/library/nginx", None, {"semver": "~1.25"}),
        ("bitnami/redis", None, {"alphabetical": "desc"}),
        ("quay.io/bitnami/redis", None, {"semver": "*", "prerelease": True}),  # not Docker Hub
        ("ghcr.io/other/nginx", None, {"semver": "*", "prerelease": True}),
    ],
)
def test_policy_for(image: str, marker: str | None, expected: dict[str, object]) -> None:
    policy = CONFIG.policy_for(parse_name(image), marker)
    assert policy.model_dump(exclude_defaults=True) == expected


@pytest.mark.parametrize(
    ("image", "marker", "expected"),
    [
        ("ghcr.io/acme/api", "flux-system:api", "policies.flux-system:api"),
        ("ghcr.io/acme/api", "other-ns:web", "policies.web"),
        ("ghcr.io/acme/api", "unknown:thing", "policies.stable"),
        ("ghcr.io/acme/worker", None, "images[ghcr.io/acme/*]"),  # written inline
        ("docker.io/library/nginx", None, "policies.web"),
        ("bitnami/redis", None, "images[bitnami/*]"),
        ("quay.io/bitnami/redis", None, "default_policy"),
    ],
)
def test_policy_source_names_where_the_policy_is_written(
    image: str, marker: str | None, expected: str
) -> None:
    assert CONFIG.policy_source(parse_name(image), marker) == expected


def test_image_globs_match_every_spelling_of_a_docker_hub_name() -> None:
    everything = ImageSpec(name="*", policy="x")
    assert everything.matches(parse_name("ghcr.io/a/b"))
    assert everything.matches(parse_name("nginx"))
    assert ImageSpec(name="library/*", policy="x").matches(parse_name("redis"))
    assert not ImageSpec(name="nginx", policy="x").matches(parse_name("ghcr.io/x/nginx"))


_NAMES = ["nginx", "library/nginx", "redis", "ghcr.io/acme/api", "ghcr.io/acme/web"]
_GLOBS = ["*", "library/*", "ghcr.io/acme/*", "ghcr.io/*/api", "redi?", "[nr]*", "*nginx"]


@given(
    entries=st.lists(st.sampled_from(_NAMES + _GLOBS), max_size=8),
    image=st.sampled_from([*_NAMES, "docker.io/library/nginx", "quay.io/x/redis", "bitnami/x"]),
)
def test_the_indexed_lookup_finds_the_first_matching_entry(entries: list[str], image: str) -> None:
    config = Config.model_validate(
        {
            "images": [
                {"name": name, "policy": {"semver": f"^{n}"}} for n, name in enumerate(entries)
            ]
        }
    )
    name = parse_name(image)
    linear = next((entry for entry in config.images if entry.matches(name)), None)
    assert config.image_entry(name) is linear


def test_a_copy_with_other_images_looks_up_its_own_entries() -> None:
    assert CONFIG.image_entry(parse_name("nginx")) is CONFIG.images[2]  # fills the index
    first = ImageSpec(name="nginx", policy={"semver": "^2"})  # type: ignore[arg-type]
    copied = CONFIG.model_copy(update={"images": (first, *CONFIG.images)})
    assert copied.image_entry(parse_name("nginx")) is first
    assert CONFIG.image_entry(parse_name("nginx")) is CONFIG.images[2]


def test_policy_references_point_at_the_fields() -> None:
    config = Config.model_validate(
        {
            "images": [{"name": "a", "policy": {"semver": "^1"}}, {"name": "b", "policy": "p"}],
        }
    )
    assert list(config.policy_references()) == [(("images", 1, "policy"), "p")]
    assert [location for location, _ in config.policy_specs()] == [
        ("default_policy",),
        ("images", 0, "policy"),
    ]


@pytest.mark.parametrize(
    ("url", "project"),
    [
        ("https://github.com/acme/deploy.git", "acme/deploy"),
        ("https://gitlab.example.com/group/sub/deploy", "group/sub/deploy"),
        ("git@github.com:acme/deploy.git", "acme/deploy"),
        ("/srv/git/deploy.git/", "srv/git/deploy"),
    ],
)
def test_project_name_from_url(url: str, project: str) -> None:
    assert RepositorySpec(url=url).project_name == project


def test_project_overrides_the_url() -> None:
    assert RepositorySpec(url="https://h/x.git", project="team/y").project_name == "team/y"


def test_yaml_paths() -> None:
    assert parse_yaml_path('spec.containers[*].env[0]["a.b/c"]') == (
        "spec",
        "containers",
        None,
        "env",
        0,
        "a.b/c",
    )
    with pytest.raises(ValueError, match="YAML path"):
        parse_yaml_path("a[")


def test_registry_settings_reveal_secrets_and_normalize_hosts() -> None:
    config = Config.model_validate(
        {
            "registries": [
                {
                    "host": "index.docker.io",
                    "username": "u",
                    "password": "pw-1234",
                    "concurrency": 2,
                },
                {"host": "Registry.Local:5000", "insecure": True, "mirror": "http://m:5000"},
            ]
        }
    )
    hub, local = registry_settings(config)
    assert (hub.host, hub.username, hub.password, hub.concurrency) == (
        "docker.io",
        "u",
        "pw-1234",
        2,
    )
    assert (local.host, local.insecure, local.mirror) == (
        "registry.local:5000",
        True,
        "http://m:5000",
    )
    assert local.password is None
    assert canonical_host("DOCKER.IO") == "docker.io"
