"""`image-bot check-config` as a user meets it: empty files, many errors at once, unclosed
quotes (issue 14, item 19)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from image_bot.cli import cli


def check(tmp_path: Path, text: str, *extra: str) -> tuple[int, str]:
    path = tmp_path / "image-bot.yaml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["check-config", str(path), *extra])
    return result.exit_code, result.output.replace(str(path), "FILE")


@pytest.mark.parametrize("text", ["", "# to do\n", "---\n"])
def test_an_empty_config_fails_with_a_clear_message(tmp_path: Path, text: str) -> None:
    code, output = check(tmp_path, text)
    assert code == 2
    assert output.startswith("error: FILE:1: the config file is empty")
    assert "repositories" in output


SEVERAL = """\
registries:
  - host: ghcr.io
    concurrency: 0
policies:
  web:
    semver: "not a range"
  jobs:
    filter:
      pattern: "("
images:
  - name: nginx
    policy: missing
repositories:
  - url: https://github.com/acme/deploy.git
    forge: {type: github, token: "${UNSET_TOKEN_FOR_TEST}"}
    grouping: {strategy: named}
service:
  port: 99999
"""


def test_several_errors_are_reported_together_each_with_file_line_and_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("UNSET_TOKEN_FOR_TEST", raising=False)
    code, output = check(tmp_path, SEVERAL)
    assert code == 2
    lines = output.removeprefix("error: ").splitlines()
    assert [line.split(": ")[0:2] for line in lines] == [
        ["FILE:3", "registries[0].concurrency"],
        ["FILE:6", "policies.web.semver"],
        ["FILE:9", "policies.jobs.filter.pattern"],
        ["FILE:12", "images[0].policy"],
        ["FILE:15", "repositories[0].forge.token"],
        ["FILE:16", "repositories[0].grouping"],
        ["FILE:18", "service.port"],
    ]
    assert "no policy named 'missing'" in lines[3]
    # (the word before is masked: `token: <word>` looks like a secret to redaction, item 15)
    assert "variable UNSET_TOKEN_FOR_TEST is not set" in lines[4]


def test_a_missing_secret_is_not_reported_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("UNSET_PORT_FOR_TEST", raising=False)
    code, output = check(tmp_path, 'service:\n  port: "${UNSET_PORT_FOR_TEST}"\n')
    assert code == 2
    assert output == (
        "error: FILE:2: service.port: environment variable UNSET_PORT_FOR_TEST is not set"
        " (a literal ${UNSET_PORT_FOR_TEST} is $${UNSET_PORT_FOR_TEST})\n"
    )


@pytest.mark.parametrize(
    ("text", "line", "what"),
    [
        ('repositories:\n  - url: "https://x\n    base: main\nservice:\n  port: 1\n', 2, "quoted"),
        ("repositories:\n  - url: 'https://x\n    base: main\n", 2, "quoted"),
        ("policies:\n  web:\n    ignore: [a, b\n", 3, "'[' list"),
    ],
)
def test_an_unclosed_quote_or_bracket_is_reported_where_it_opens(
    tmp_path: Path, text: str, line: int, what: str
) -> None:
    code, output = check(tmp_path, text)
    assert code == 2
    assert output.startswith(f"error: FILE:{line}: invalid YAML: the {what}")
    assert "never closed" in output


def test_a_bracket_left_open_is_named_where_the_parser_stops(tmp_path: Path) -> None:
    code, output = check(tmp_path, "policies:\n  web: {semver: ^1\n  api: {}\n")
    assert code == 2
    assert output == (
        "error: FILE:3: invalid YAML: expected ',' or '}', but got ':'"
        " (in the '{' mapping opened on line 2: is it closed?)\n"
    )
