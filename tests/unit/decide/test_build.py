"""build_policy: bad values are ConfigErrors naming the field (exit code 2)."""

from __future__ import annotations

from typing import Any

import pytest

from image_bot.config import parse_policy
from image_bot.decide.build import build_policy
from image_bot.errors import ConfigError


@pytest.mark.parametrize(
    ("spec", "field", "words"),
    [
        ({"semver": ""}, "policy.semver", "empty range"),
        ({"semver": "^1.x.y"}, "policy.semver", "not a range"),
        ({"semver": ">= bar"}, "policy.semver", "not a range"),
        ({"filter": {"pattern": "^("}}, "policy.filter.pattern", "invalid regular expression"),
        ({"filter": {"pattern": "^(?P<a>.)", "extract": "$ts"}}, "policy.filter.extract", "$ts"),
        ({"digest": "follow", "semver": "^1"}, "policy.digest", "follow"),
        ({"numerical": "asc", "prerelease": True}, "policy.prerelease", "semver"),
        ({"platforms": ["arm64"]}, "policy.platforms", "os/arch"),
    ],
)
def test_config_errors_name_the_field(spec: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(ConfigError) as raised:
        build_policy(parse_policy(spec).settings(), field="policy")
    assert raised.value.field == field
    assert words in str(raised.value)
    assert raised.value.exit_code == 2


def test_field_prefix_is_the_callers() -> None:
    with pytest.raises(ConfigError) as raised:
        build_policy(parse_policy({"semver": "nope"}).settings(), field="images[2].policy")
    assert raised.value.field == "images[2].policy.semver"


def test_shape_errors_from_parse_policy() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_policy({"numerical": "sideways"}, source="--policy")
    assert raised.value.file == "--policy"
    assert raised.value.field == "policy.numerical"
    with pytest.raises(ConfigError):
        parse_policy({"semver": "^1", "numerical": "asc"})


def test_defaults_and_flux_spellings() -> None:
    assert parse_policy(None) == parse_policy({})
    assert parse_policy({"alphabetical": "DESC"}).alphabetical == "desc"
    assert build_policy(parse_policy({"min-age": "36h"}).settings()).min_age is not None
