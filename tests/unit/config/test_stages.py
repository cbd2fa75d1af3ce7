"""Stages in the config: valid graphs load, and every kind of mistake names file:line and field
(in the config file and in App mode's `.github/image-bot.yml`)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from image_bot.config import GitHubAppServiceSpec
from image_bot.config.load import parse_config
from image_bot.errors import ConfigError
from image_bot.github_app.installations import InstalledRepository, repository_settings

HEAD = (
    "repositories:\n  - url: https://github.com/acme/deploy.git\n"
    "    forge: {type: github}\n    stages:\n"
)
GOOD = (
    "      - {name: dev, paths: [envs/dev], automerge: true}\n"
    "      - {name: staging, paths: [envs/staging], promote_from: [dev],"
    " soak: 24h, checks: success}\n"
    "      - name: prod\n"
    "        paths: [envs/prod]\n"
    "        promote_from: [staging]\n"
    "        window: {days: mon-thu, hours: '09:00-16:00', timezone: Europe/Berlin}\n"
    "        freeze: [{start: 2026-12-20, end: 2027-01-06, reason: year end}]\n"
)


def load(stages: str) -> object:
    return parse_config(HEAD + stages, source="image-bot.yaml", base_dir=Path())


def test_the_issue_example_loads_into_a_stage_graph() -> None:
    config = parse_config(HEAD + GOOD, source="image-bot.yaml", base_dir=Path())
    graph = config.repositories[0].stage_graph()
    assert graph.names == ("dev", "staging", "prod")
    staging, prod = graph.get("staging"), graph.get("prod")
    assert (staging.soak, staging.checks, staging.promote_from) == (
        timedelta(hours=24),
        True,
        ("dev",),
    )
    assert graph.get("dev").automerge is True
    assert prod.calendar.window is not None and prod.calendar.window.timezone == "Europe/Berlin"
    assert prod.calendar.freezes[0].reason == "year end"


@pytest.mark.parametrize(
    ("stages", "line", "field", "message"),
    [
        (GOOD.replace("promote_from: [staging]", "promote_from: [stagin]"), 9,
         "repositories[0].stages[2].promote_from[0]", "unknown upstream stage 'stagin'"),
        (GOOD.replace("promote_from: [dev]", "promote_from: [prod]"), 9,
         "repositories[0].stages[2].promote_from[0]", "stages promote in a cycle"),
        (GOOD.replace("paths: [envs/prod]", "paths: [envs]"), 8,
         "repositories[0].stages[2].paths[0]", "overlaps 'envs/dev' of stage 'dev'"),
        (GOOD.replace("09:00-16:00", "09:00-09:00"), 10,
         "repositories[0].stages[2].window.hours", "never opens"),
        (GOOD.replace("Europe/Berlin", "Mars/Olympus"), 10,
         "repositories[0].stages[2].window.timezone", "unknown timezone"),
        (GOOD.replace("name: prod", "name: prod.lock"), 7,
         "repositories[0].stages[2].name", "a git branch name part"),
        (GOOD.replace("name: staging", "name: a..b").replace("[staging]", "[a..b]"), 6,
         "repositories[0].stages[1].name", "a git branch name part"),
        (GOOD.replace("automerge: true}", "automerge: true, soak: 1h}"), 5,
         "repositories[0].stages[0].soak", "soak gates promotions: it needs promote_from"),
    ],
)  # fmt: skip
def test_mistakes_name_file_line_and_field(
    stages: str, line: int, field: str, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load(stages)
    error = caught.value
    assert (error.file, error.line, error.field) == ("image-bot.yaml", line, field)
    assert message in error.message
    assert error.exit_code == 2


def test_checks_need_a_forge_that_reports_them() -> None:
    text = HEAD.replace("forge: {type: github}", "forge: local") + GOOD
    with pytest.raises(ConfigError) as caught:
        parse_config(text, source="c.yaml", base_dir=Path())
    assert caught.value.field == "repositories[0].stages[1].checks"


def test_app_mode_settings_files_get_the_same_checks() -> None:
    installed = InstalledRepository("acme/gitops", 42, "https://github.com/acme/gitops.git", "main")
    app = GitHubAppServiceSpec.model_validate({"app_id": 7, "private_key": "k"})
    text = (
        "stages:\n  - {name: dev, paths: [dev]}\n"
        "  - {name: prod, paths: [prod], promote_from: [qa]}\n"
    )
    with pytest.raises(ConfigError) as caught:
        repository_settings(text, installed, app, source=".github/image-bot.yml")
    error = caught.value
    assert (error.line, error.field) == (3, "stages[1].promote_from[0]")
    ok = repository_settings(text.replace("[qa]", "[dev]"), installed, app, source="s")
    assert ok.stage_graph().names == ("dev", "prod")
