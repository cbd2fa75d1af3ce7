"""The config file loader: line numbers, field names, interpolation, secrets, --policy."""

from __future__ import annotations

import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from image_bot.cli import cli
from image_bot.config.load import default_state_dir, load_config, load_policy, parse_config
from image_bot.errors import ConfigError, redact


def write(tmp_path: Path, text: str, name: str = "bot.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def load_error(tmp_path: Path, text: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    return caught.value


def test_a_minimal_file_gets_every_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    config = load_config(write(tmp_path, "repositories:\n  - url: https://github.com/a/b\n"))
    repository = config.repositories[0]
    assert (repository.base, repository.paths, repository.forge.type) == ("main", (".",), "local")
    assert repository.grouping.strategy == "per-image"
    assert repository.branch_prefix == "image-bot/"
    assert repository.direct_commit is False
    assert config.state_dir == tmp_path / "state" / "image-bot"
    assert config.service.schedule.interval == timedelta(minutes=10)


@pytest.mark.parametrize("text", ["", "\n\n", "# nothing here yet\n", "---\n"])
def test_an_empty_file_is_an_error_not_a_config_with_nothing_to_do(
    tmp_path: Path, text: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    assert caught.value.line == 1
    assert "the config file is empty" in caught.value.message
    assert "repositories" in caught.value.message


def test_default_state_dir_without_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_state_dir() == tmp_path / ".local" / "state" / "image-bot"


def test_relative_paths_are_relative_to_the_config_file(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "state_dir: state\ndocker_config: docker/config.json\n"))
    assert config.state_dir == tmp_path / "state"
    assert config.docker_config == tmp_path / "docker" / "config.json"


def test_wrong_type_names_file_line_and_field(tmp_path: Path) -> None:
    error = load_error(
        tmp_path,
        """
        repositories:
          - url: https://github.com/a/b
            max_file_bytes: lots
        """,
    )
    assert (error.file, error.line, error.field) == (
        str(tmp_path / "bot.yaml"),
        3,
        "repositories[0].max_file_bytes",
    )
    assert str(error).startswith(f"{tmp_path / 'bot.yaml'}:3: repositories[0].max_file_bytes: ")
    assert error.exit_code == 2


def test_bad_choice_lists_the_allowed_values(tmp_path: Path) -> None:
    error = load_error(
        tmp_path,
        """
        repositories:
          - url: https://github.com/a/b
            grouping:
              strategy: per-imag
        """,
    )
    assert (error.line, error.field) == (4, "repositories[0].grouping.strategy")
    assert "'per-image', 'all', 'per-directory' or 'named'" in error.message


def test_unknown_key_is_an_error_at_the_key_with_a_suggestion(tmp_path: Path) -> None:
    error = load_error(
        tmp_path,
        """
        repositories:
          - url: https://github.com/a/b

            forgee: github
        """,
    )
    assert (error.line, error.field) == (4, "repositories[0].forgee")
    assert "unknown key; did you mean 'forge'?" in error.message


def test_unknown_top_level_key(tmp_path: Path) -> None:
    error = load_error(tmp_path, "registries: []\nrepos: []\n")
    assert (error.line, error.field) == (2, "repos")
    assert "did you mean 'repositories'?" in error.message


def test_missing_required_field_points_at_its_mapping(tmp_path: Path) -> None:
    error = load_error(
        tmp_path,
        """
        repositories:
          - url: https://github.com/a/b
          - base: main
            paths: [deploy]
        """,
    )
    assert (error.line, error.field) == (3, "repositories[1].url")
    assert "Field required" in error.message


def test_every_error_is_listed_first_one_first(tmp_path: Path) -> None:
    error = load_error(
        tmp_path,
        """
        registries:
          - host: ghcr.io
            concurrency: 0
        repositories:
          - url: x
            direct_commit: maybe
        """,
    )
    assert (error.line, error.field) == (3, "registries[0].concurrency")
    assert f"{tmp_path / 'bot.yaml'}:6: repositories[0].direct_commit:" in error.message


def test_yaml_syntax_error_has_the_line(tmp_path: Path) -> None:
    error = load_error(
        tmp_path, "registries:\n  - host: ghcr.io\n    insecure: [true\nimages: []\n"
    )
    assert error.file == str(tmp_path / "bot.yaml")
    assert error.line is not None
    assert error.line >= 3
    assert "invalid YAML" in error.message


def test_duplicate_keys_are_a_yaml_error(tmp_path: Path) -> None:
    error = load_error(tmp_path, "state_dir: a\nimages: []\nstate_dir: b\n")
    assert error.line == 3


def test_a_list_at_the_top_is_rejected(tmp_path: Path) -> None:
    error = load_error(tmp_path, "- url: x\n")
    assert (error.line, error.field) == (1, None)
    assert "mapping" in error.message


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file") as caught:
        load_config(tmp_path / "absent.yaml")
    assert caught.value.file == str(tmp_path / "absent.yaml")


# --- interpolation -----------------------------------------------------------------------------


def test_env_and_file_interpolation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IB_TEST_USER", "robot")
    monkeypatch.setenv("IB_TEST_TOKEN", "tok-123456789")
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "pw").write_text("file-secret-42\n", encoding="utf-8")
    config = load_config(
        write(
            tmp_path,
            """
            registries:
              - host: ghcr.io
                username: ${IB_TEST_USER}
                password: ${file:secrets/pw}
            repositories:
              - url: https://${IB_TEST_HOST:-github.com}/a/b
                forge: {type: github, token: "${IB_TEST_TOKEN}"}
                project: "acme/literal-$${NOT_A_VAR}"
            """,
        )
    )
    registry = config.registries[0]
    assert registry.username == "robot"
    assert registry.password is not None
    assert registry.password.get_secret_value() == "file-secret-42"
    repository = config.repositories[0]
    assert repository.url == "https://github.com/a/b"
    assert repository.project == "acme/literal-${NOT_A_VAR}"
    assert repository.forge.token is not None
    assert repository.forge.token.get_secret_value() == "tok-123456789"


def test_loaded_secrets_are_redacted_everywhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IB_TEST_SECRET", "s3cr3t-value-never-shown")
    load_config(
        write(
            tmp_path,
            """
            service:
              webhooks:
                generic: ${IB_TEST_SECRET}
            """,
        )
    )
    assert redact("got s3cr3t-value-never-shown back") == "got *** back"


def test_unset_variable_names_field_and_variable_but_no_other_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IB_TEST_PASSWORD", "hunter2-do-not-print")
    monkeypatch.delenv("IB_TEST_NOPE", raising=False)
    error = load_error(
        tmp_path,
        """
        registries:
          - host: ghcr.io
            username: u
            password: ${IB_TEST_PASSWORD}
        repositories:
          - url: x
            forge:
              type: github
              token: ${IB_TEST_NOPE}
        """,
    )
    assert (error.line, error.field) == (9, "repositories[0].forge.token")
    assert error.message.endswith(
        ": environment variable IB_TEST_NOPE is not set"
        " (a literal ${IB_TEST_NOPE} is $${IB_TEST_NOPE})"
    )
    assert "hunter2" not in str(error)


def test_missing_secret_file(tmp_path: Path) -> None:
    error = load_error(
        tmp_path, "registries:\n  - {host: ghcr.io, username: u, password: '${file:nope.txt}'}\n"
    )
    assert (error.line, error.field) == (2, "registries[0].password")
    assert f"cannot read {tmp_path / 'nope.txt'}" in error.message


@pytest.mark.parametrize(
    ("text", "why"),
    [("${NOT-A-NAME}", "not a variable name"), ("${UNCLOSED", "unclosed ${")],
)
def test_malformed_interpolation(tmp_path: Path, text: str, why: str) -> None:
    error = load_error(tmp_path, f"state_dir: '{text}'\n")
    assert (error.line, error.field) == (1, "state_dir")
    assert why in error.message


def test_missing_secrets_can_be_allowed_for_shape_checks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("IB_TEST_NOPE", raising=False)
    path = write(
        tmp_path, "repositories:\n  - url: x\n    forge: {type: gitlab, token: '${IB_TEST_NOPE}'}\n"
    )
    config = load_config(path, require_env=False)
    token = config.repositories[0].forge.token
    assert token is not None
    assert token.get_secret_value() == "${IB_TEST_NOPE}"


def test_empty_optional_secret_is_unset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IB_TEST_NOPE", raising=False)
    config = load_config(write(tmp_path, "service: {webhooks: {github: '${IB_TEST_NOPE:-}'}}\n"))
    assert config.service.webhooks.github is None


# --- policies ----------------------------------------------------------------------------------


def test_two_orderings_in_one_policy(tmp_path: Path) -> None:
    error = load_error(
        tmp_path,
        """
        policies:
          fine: {semver: ^1}
          both:
            semver: ^1
            numerical: asc
        """,
    )
    assert (error.line, error.field) == (3, "policies.both")
    assert error.message.endswith(": policies.both: choose one ordering, not semver and numerical")


def test_bad_policy_field_inside_an_inline_image_policy(tmp_path: Path) -> None:
    error = load_error(
        tmp_path,
        """
        images:
          - name: nginx
            policy:
              digest: sometimes
        """,
    )
    assert (error.line, error.field) == (4, "images[0].policy.digest")


def test_a_policy_name_that_does_not_exist(tmp_path: Path) -> None:
    error = load_error(
        tmp_path,
        """
        policies:
          stable: {semver: ^1}
        images:
          - name: nginx
            policy: stabel
        """,
    )
    assert (error.line, error.field) == (5, "images[0].policy")
    assert "no policy named 'stabel' in policies (stable)" in error.message


def test_policy_keys_take_both_spellings(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path, "policies:\n  a: {min-age: 2d}\n  b: {min_age: 90m, allow-downgrade: true}\n"
        )
    )
    assert config.policies["a"].min_age == timedelta(days=2)
    assert config.policies["b"].min_age == timedelta(minutes=90)
    assert config.policies["b"].allow_downgrade is True


def test_load_policy_inline() -> None:
    spec = load_policy("semver: ^1.2\nignore: ['*-rc*']", source="--policy")
    assert (spec.semver, spec.ignore) == ("^1.2", ("*-rc*",))
    assert load_policy("", source="--policy").semver is None


def test_load_policy_from_file(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text("# newest by number\nnumerical: desc\n", encoding="utf-8")
    assert load_policy(f"@{tmp_path / 'p.yaml'}", source="--policy").numerical == "desc"


def test_load_policy_errors_name_the_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text("semver: ^1\nalphabetical: asc\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_policy(f"@{tmp_path / 'p.yaml'}", source="--policy")
    assert (caught.value.file, caught.value.line) == (str(tmp_path / "p.yaml"), 1)
    with pytest.raises(
        ConfigError, match=r"^--policy:1: semvr: unknown key; did you mean 'semver'"
    ):
        load_policy("semvr: ^1", source="--policy")
    with pytest.raises(ConfigError, match="a policy is a mapping"):
        load_policy("^1.2", source="--policy")
    with pytest.raises(ConfigError, match="cannot read policy file"):
        load_policy(f"@{tmp_path / 'absent.yaml'}", source="--policy")


# --- cross-field rules -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("yaml", "field", "message"),
    [
        ("grouping: {strategy: named}", "grouping", "strategy named needs groups"),
        (
            "grouping: {strategy: all, groups: [{name: a, images: ['*']}]}",
            "grouping",
            "only read with strategy named",
        ),
        ("forge: {type: local, token: x}", "forge", "local forge takes no"),
        ("forge: {type: gitlab, app: {app_id: 1, private_key: k}}", "forge", "github only"),
        ("forge: gitea", "forge.type", "Input should be 'local', 'github' or 'gitlab'"),
        (
            "pull_request: {title: '{image} up'}",
            "pull_request.title",
            "unknown template field {image}",
        ),
        ("commit: {message: 'x {'}", "commit.message", "bad template"),
        ("targets: [{files: a.yaml, path: x, part: tag}]", "targets[0]", "needs image"),
        ("targets: [{files: a.yaml, path: 'a[', image: nginx}]", "targets[0].path", "YAML path"),
        ("paths: [../outside]", "paths[0]", "relative, without .."),
        ("branch_prefix: '-bad'", "branch_prefix", "git branch name"),
        ("branch_prefix: 'bots.lock/'", "branch_prefix", "no part starting with"),
        ("branch_prefix: 'bots//x'", "branch_prefix", "git branch name"),
        ("branch_prefix: 'bots/.hidden/'", "branch_prefix", "git branch name"),
        ("branch_prefix: 'bots./'", "branch_prefix", "git branch name"),
        (
            "grouping: {strategy: named, groups: [{name: x.lock, images: ['*']}]}",
            "grouping.groups[0].name",
            "git branch name",
        ),
        ("schedule: {cron: '* * *'}", "schedule.cron", "5 fields"),
        ("schedule: {interval: 5m, cron: '* * * * *'}", "schedule", "one of them"),
        ("limits: {max_open_pull_requests: 0}", "limits.max_open_pull_requests", "greater than"),
    ],
)
def test_repository_rules(tmp_path: Path, yaml: str, field: str, message: str) -> None:
    error = load_error(tmp_path, f"repositories:\n  - url: x\n    {yaml}\n")
    assert error.field == f"repositories[0].{field}"
    assert error.line == 3
    assert message in error.message


def test_registry_rules(tmp_path: Path) -> None:
    error = load_error(tmp_path, "registries:\n  - {host: ghcr.io}\n  - {host: GHCR.io}\n")
    assert "registry ghcr.io is listed twice" in error.message
    error = load_error(tmp_path, "registries:\n  - {host: ghcr.io, password: x}\n")
    assert error.field == "registries[0]"
    assert error.message.endswith(": password given without username")
    error = load_error(tmp_path, "registries:\n  - {host: 'https://ghcr.io'}\n")
    assert error.field == "registries[0].host"
    error = load_error(tmp_path, "registries:\n  - {host: ghcr.io, mirror: ftp://m}\n")
    assert error.field == "registries[0].mirror"


def test_parse_config_names_its_source() -> None:
    with pytest.raises(ConfigError, match=r"^inline:2: images\[0\]\.name: "):
        parse_config("images:\n  - {name: '', policy: {}}\n", source="inline", base_dir=Path())


def test_a_bad_range_fails_at_load_time_with_its_line(tmp_path: Path) -> None:
    error = load_error(
        tmp_path,
        """
        policies:
          "flux-system:api":
            prerelease: true
            semver: ">=1.0 <<2"
        """,
    )
    assert (error.line, error.field) == (4, 'policies["flux-system:api"].semver')
    assert "invalid range '>=1.0 <<2'" in error.message


def test_a_bad_regex_in_an_inline_image_policy(tmp_path: Path) -> None:
    error = load_error(
        tmp_path,
        """
        images:
          - name: app
            policy:
              filter:
                pattern: '^main-(?P<ts>[0-9+$'
        """,
    )
    assert error.field is not None
    assert error.field.startswith("images[0].policy.filter")
    assert error.line == 5


def test_a_bad_default_policy(tmp_path: Path) -> None:
    error = load_error(tmp_path, "default_policy:\n  platforms: [arm64]\n")
    assert (error.line, error.field) == (2, "default_policy.platforms")


def test_untrusted_text_cannot_read_the_environment_or_files(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("IB_TEST_BOT_SECRET", "bot-only-secret-value")
    (tmp_path / "key").write_text("file-only-secret", encoding="utf-8")
    text = (
        "repositories:\n  - url: x\n"
        "    project: '${IB_TEST_BOT_SECRET}'\n"
        "    commit: {author_name: '${file:key}'}\n"
    )
    repository = parse_config(text, source="repo", base_dir=tmp_path, interpolate=False)
    (repository,) = repository.repositories
    assert (repository.project, repository.commit.author_name) == (
        "${IB_TEST_BOT_SECRET}",
        "${file:key}",
    )


def test_policy_text_is_not_interpolated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("v", "from-the-environment")
    spec = load_policy(
        "filter: {pattern: '^v(?P<v>.*)$', extract: '${v}'}\nnumerical: asc", source="--policy"
    )
    assert spec.filter is not None
    assert spec.filter.extract == "${v}"


def test_a_filter_extract_in_the_config_file_escapes_its_braces(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path, "policies:\n  n: {filter: {pattern: '^(?P<n>[0-9]+)$', extract: '$${n}'}}\n"
        )
    )
    assert config.policies["n"].filter is not None
    assert config.policies["n"].filter.extract == "${n}"


def test_alias_bombs_are_refused(tmp_path: Path) -> None:
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 7)]
    error = load_error(tmp_path, "\n".join(levels) + "\n")
    assert "more than 100000 YAML nodes with aliases expanded" in error.message


def test_deep_nesting_is_refused_not_a_crash(tmp_path: Path) -> None:
    for text in ("x: " + "[" * 10_000 + "]" * 10_000, "x: " + "{a: " * 10_000 + "1" + "}" * 10_000):
        error = load_error(tmp_path, text + "\n")
        assert "nested deeper than 64 levels" in error.message


def test_a_bad_value_found_by_the_policy_builder_points_at_the_key_as_spelled(
    tmp_path: Path,
) -> None:
    error = load_error(
        tmp_path,
        """
        policies:
          old:
            semver: ^1
            min-age: -86400
        """,
    )
    assert (error.line, error.field) == (4, "policies.old.min_age")
    assert "cannot be negative" in error.message


def test_write_interval_is_for_github_only(tmp_path: Path) -> None:
    error = load_error(
        tmp_path,
        """
        repositories:
          - url: https://gitlab.example.com/ops/deploy.git
            forge:
              type: gitlab
              write_interval: 0s
        """,
    )
    assert (error.line, error.field) == (5, "repositories[0].forge.write_interval")
    assert "github only" in error.message


@pytest.mark.parametrize(
    ("yaml", "field", "message"),
    [
        ("repositories: {url: x}", "repositories", "should be a list"),
        ("registries: [ghcr.io]", "registries[0]", "should be a mapping"),
        ("policies: [stable]", "policies", "should be a mapping"),
        (
            "service: {schedule: {interval: soon}}",
            "service.schedule.interval",
            "should be a duration",
        ),
        ("state_dir: [a]", "state_dir", "should be a path"),
    ],
)
def test_type_errors_speak_yaml_not_python(
    tmp_path: Path, yaml: str, field: str, message: str
) -> None:
    error = load_error(tmp_path, yaml + "\n")
    assert error.field == field
    assert f"{field}: {message}" in error.message
    assert "tuple" not in error.message
    assert "dictionary" not in error.message


def test_a_missing_secret_file_is_reported_in_plain_words(tmp_path: Path) -> None:
    config = tmp_path / "bot.yaml"
    config.write_text(
        "registries:\n"
        "  - host: docker.io\n"
        "    username: acme\n"
        "    password: ${file:secrets/dockerhub-token}\n"
    )
    result = CliRunner().invoke(cli, ["check-config", str(config)])
    assert result.exit_code == 2
    assert "secrets/dockerhub-token: No such file or directory" in result.stderr
