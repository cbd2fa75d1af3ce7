"""The committed schema, the example config and the reference docs stay true to the models;
`check-config` and `config-schema` behave as documented."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from pydantic import BaseModel
from ruamel.yaml import YAML

from image_bot.cli.config import check_config, config_schema
from image_bot.config.errors import models_in
from image_bot.config.load import load_config
from image_bot.config.schema import config_schema_text, reference_markdown, with_reference

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "config.example.yaml"
SCHEMA = ROOT / "schema" / "config.schema.json"
DOCS = ROOT / "docs" / "configuration.md"
STALE = "stale: run scripts/update-config-docs and commit the result"
EXAMPLE_ENV = ("GHCR_TOKEN", "GITHUB_TOKEN", "GITLAB_TOKEN")


def fields_set_per_model(value: object, seen: dict[type[BaseModel], set[str]]) -> None:
    """Collect, per model class, the fields the file set somewhere."""
    if isinstance(value, BaseModel):
        seen.setdefault(type(value), set()).update(value.model_fields_set)
        for name in type(value).model_fields:
            fields_set_per_model(getattr(value, name), seen)
    elif isinstance(value, dict):
        for item in value.values():
            fields_set_per_model(item, seen)
    elif isinstance(value, tuple | list):
        for item in value:
            fields_set_per_model(item, seen)


def all_models(model: type[BaseModel], found: set[type[BaseModel]]) -> set[type[BaseModel]]:
    found.add(model)
    for info in model.model_fields.values():
        for inner in models_in(info.annotation):
            if inner not in found:
                all_models(inner, found)
    return found


@pytest.fixture
def example_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The example config beside the secret files it reads, with its variables set."""
    shutil.copy(EXAMPLE, tmp_path / "image-bot.yaml")
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "dockerhub-token").write_text("dckr_pat_example\n", encoding="utf-8")
    (tmp_path / "secrets" / "github-app.pem").write_text("-----BEGIN KEY-----\n", encoding="utf-8")
    for name in EXAMPLE_ENV:
        monkeypatch.setenv(name, f"{name.lower()}-value")
    return tmp_path


def test_the_example_config_is_valid(example_dir: Path) -> None:
    config = load_config(example_dir / "image-bot.yaml")
    assert len(config.repositories) == 4
    assert {repository.forge.type for repository in config.repositories} == {
        "github",
        "gitlab",
        "local",
    }


def test_the_example_sets_every_option_of_every_section(example_dir: Path) -> None:
    from image_bot.config import Config

    config = load_config(example_dir / "image-bot.yaml")
    seen: dict[type[BaseModel], set[str]] = {}
    fields_set_per_model(config, seen)
    missing = {
        model.__name__: sorted(set(model.model_fields) - seen.get(model, set()))
        for model in all_models(Config, set())
    }
    assert {name: fields for name, fields in missing.items() if fields} == {}


def test_the_example_passes_the_committed_schema() -> None:
    data = json.loads(json.dumps(YAML(typ="safe", pure=True).load(EXAMPLE)))
    jsonschema.validate(data, json.loads(SCHEMA.read_text(encoding="utf-8")))


def test_the_committed_schema_is_current() -> None:
    assert SCHEMA.read_text(encoding="utf-8") == config_schema_text(), STALE


def test_the_schema_rejects_what_the_loader_rejects() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    with pytest.raises(jsonschema.ValidationError, match="forgee"):
        jsonschema.validate({"repositories": [{"url": "x", "forgee": "github"}]}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"repositories": [{"url": "x", "forge": "gitea"}]}, schema)
    jsonschema.validate({"repositories": [{"url": "x", "forge": "gitlab"}]}, schema)


def test_the_reference_in_the_docs_is_current() -> None:
    text = DOCS.read_text(encoding="utf-8")
    assert with_reference(text) == text, STALE
    assert "| `max_pull_requests_per_hour` |" in reference_markdown()


def test_check_config_ok(example_dir: Path) -> None:
    result = CliRunner().invoke(check_config, [str(example_dir / "image-bot.yaml")])
    assert result.exit_code == 0, result.output
    assert "image-bot.yaml: ok (4 repositories, 4 registries, 5 named policies" in result.output


def test_check_config_reports_file_line_field_and_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("repositories:\n  - url: x\n    grouping: {strategy: sometimes}\n")
    result = CliRunner().invoke(check_config, [str(bad)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {bad}:3: repositories[0].grouping.strategy: ")
    assert result.stdout == ""


def test_check_config_missing_file_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(check_config, [str(tmp_path / "absent.yaml")])
    assert result.exit_code == 2
    assert "cannot read config file" in result.stderr


def test_check_config_can_skip_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(EXAMPLE, tmp_path / "image-bot.yaml")
    for name in EXAMPLE_ENV:
        monkeypatch.delenv(name, raising=False)
    path = str(tmp_path / "image-bot.yaml")
    assert CliRunner().invoke(check_config, [path]).exit_code == 2
    result = CliRunner().invoke(check_config, ["--allow-missing-secrets", path])
    assert result.exit_code == 0, result.output


def test_config_schema_command_prints_the_schema() -> None:
    result = CliRunner().invoke(config_schema, [])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "repositories" in schema["properties"]
    jsonschema.Draft202012Validator.check_schema(schema)
    markdown = CliRunner().invoke(config_schema, ["--markdown"]).stdout
    assert markdown.startswith("### Config")


def test_the_schema_accepts_interpolation_in_typed_fields() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    interpolated = {
        "registries": [{"host": "${REGISTRY}", "insecure": "${INSECURE}", "concurrency": "${N}"}],
        "repositories": [
            {"url": "${URL}", "forge": "${FORGE}", "limits": {"max_open_pull_requests": "${M}"}}
        ],
        "policies": {"p": {"numerical": "${ORDER}", "min-age": "${AGE}"}},
        "service": {"port": "${PORT:-8080}", "host": "${HOST}"},
    }
    jsonschema.validate(interpolated, schema)
    for wrong in ({"service": {"port": "eighty"}}, {"registries": [{"host": "no spaces"}]}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(wrong, schema)


def test_interpolated_typed_values_load_as_their_types(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORT_FOR_TEST", "9090")
    monkeypatch.setenv("INSECURE_FOR_TEST", "true")
    path = tmp_path / "image-bot.yaml"
    path.write_text(
        "registries: [{host: r.example:5000, insecure: '${INSECURE_FOR_TEST}'}]\n"
        "service: {port: '${PORT_FOR_TEST}'}\n",
        encoding="utf-8",
    )
    config = load_config(path)
    assert config.service.port == 9090
    assert config.registries[0].insecure is True
