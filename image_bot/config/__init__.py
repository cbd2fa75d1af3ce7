"""The user's config: the pydantic models of the file (and `--policy`), reading it with the line of
every key and `${VAR}` interpolation, errors naming file, line and field, and the JSON Schema.

Model validation is about shape; meaning (does the range parse, does the regex compile) is
checked by `load.py` through `decide.build` and reported as a ConfigError naming the field.
`load.py` reads the file (`located.py` keeps the lines, `errors.py` names them). The field
docstrings are the JSON Schema descriptions and so the option reference in
docs/configuration.md: write them for users.

```
Config                 root.py        registries, policies, default_policy, images, ...
├── RegistrySpec       root.py
├── PolicySpec         policy.py      also `--policy`
├── ImageSpec          root.py
├── RepositorySpec     repository.py  forge, targets, commit, pull_request, grouping, limits
├── ReleaseNotesSpec   release_notes.py  source hosts, sizes (release notes in PRs)
├── ServiceSpec        service.py     schedule, webhooks (`image-bot serve`)
└── GitHubAppServiceSpec github_app.py  App mode: installations discovered (`serve`)
```
"""

from image_bot.config.fields import TEMPLATE_FIELDS, parse_yaml_path
from image_bot.config.github_app import GitHubAppServiceSpec
from image_bot.config.policy import Duration, FilterSpec, PolicySpec, parse_duration, parse_policy
from image_bot.config.release_notes import ReleaseNotesSpec, SourceHostSpec
from image_bot.config.repository import (
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
from image_bot.config.root import Config, ImageSpec, RegistrySpec
from image_bot.config.service import ScheduleSpec, ServiceSpec, WebhooksSpec

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
    "ReleaseNotesSpec",
    "RepositorySpec",
    "ScheduleSpec",
    "ServiceSpec",
    "SourceHostSpec",
    "TargetSpec",
    "WebhooksSpec",
    "parse_duration",
    "parse_policy",
    "parse_yaml_path",
]
