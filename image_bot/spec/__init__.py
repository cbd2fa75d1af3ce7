"""Pydantic models of the user's intent (the config file and `--policy`): data only.

Validation here is about shape; meaning (does the range parse, does the regex compile) is
checked where the value is used (`decide.build`) and reported as a ConfigError naming the field.
`app/configfile.py` reads the file; the field docstrings are the JSON Schema descriptions and
so the option reference in docs/configuration.md: write them for users.

```
Config                 config.py      registries, policies, default_policy, images, ...
├── RegistrySpec       config.py
├── PolicySpec         policy.py      also `--policy`
├── ImageSpec          config.py
├── RepositorySpec     repository.py  forge, targets, commit, pull_request, grouping, limits
├── ServiceSpec        service.py     schedule, webhooks (`image-bot serve`)
└── GitHubAppServiceSpec github_app.py  App mode: installations discovered (`serve`)
```
"""

from image_bot.spec.config import Config, ImageSpec, RegistrySpec
from image_bot.spec.fields import TEMPLATE_FIELDS, parse_yaml_path
from image_bot.spec.github_app import GitHubAppServiceSpec
from image_bot.spec.policy import Duration, FilterSpec, PolicySpec, parse_duration
from image_bot.spec.repository import (
    CommitSpec,
    ForgeSpec,
    GitHubAppSpec,
    GroupingSpec,
    GroupSpec,
    LimitsSpec,
    PullRequestSpec,
    RepositorySpec,
    TargetSpec,
)
from image_bot.spec.service import ScheduleSpec, ServiceSpec, WebhooksSpec

__all__ = [
    "TEMPLATE_FIELDS",
    "CommitSpec",
    "Config",
    "Duration",
    "FilterSpec",
    "ForgeSpec",
    "GitHubAppServiceSpec",
    "GitHubAppSpec",
    "GroupSpec",
    "GroupingSpec",
    "ImageSpec",
    "LimitsSpec",
    "PolicySpec",
    "PullRequestSpec",
    "RegistrySpec",
    "RepositorySpec",
    "ScheduleSpec",
    "ServiceSpec",
    "TargetSpec",
    "WebhooksSpec",
    "parse_duration",
    "parse_yaml_path",
]
