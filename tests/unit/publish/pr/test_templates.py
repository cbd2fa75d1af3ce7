"""Templates: the `{field}` style keeps working; Jinja2 loops over changes in a sandbox that
reaches nothing but the fields and cannot run away (a repository's own settings write it in
App mode)."""

from __future__ import annotations

import pytest

from image_bot.publish.pr.draft import draft_for
from image_bot.publish.pr.templates import TemplateError, check_template, is_jinja, render
from image_bot.publish.settings import PullRequestSettings
from tests.unit.publish.pr.test_draft import PLAN

FIELDS = {"changes": [{"image": "nginx", "new": "1.27"}], "summary": "S", "count": "1"}


def test_the_rule_that_picks_the_style() -> None:
    assert not is_jinja("{summary}\n\n{changes}")
    assert is_jinja("{{ summary }}") and is_jinja("{% if count %}x{% endif %}")
    assert render("{summary} {unknown}", {"summary": "S"}, {}) == "S {unknown}"


def test_a_jinja_body_loops_over_the_changes() -> None:
    body = (
        "{% for c in changes %}- {{ c.image }} {{ c.old }} -> {{ c.new }} ({{ c.update_type }})"
        "{% endfor %}"
    )
    draft = draft_for(PLAN, PullRequestSettings(body=body, title="{{ count }} refs"))
    assert draft.title == "2 refs"
    assert draft.body.startswith("- docker.io/library/nginx 1.25 -> 1.27 ()")


@pytest.mark.parametrize(
    ("template", "why"),
    [
        ("{{ ''.__class__.__mro__ }}", "unsafe"),
        ("{{ 'x' * 100000 }}", "repeats too much"),
        ("{{ 9 ** 99999 }}", "large exponent"),
        ("{% for c in summary %}{% endfor %}", "not over text"),
        (
            "{% for a in changes %}{% for b in changes %}{% for c in changes %}"
            "{% endfor %}{% endfor %}{% endfor %}",
            "nest",
        ),
        ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "macros"),
        ("{{ range(10**9) | list }}", "unknown template field 'range'"),
        ("{{ lipsum(10**6) }}", "unknown template field 'lipsum'"),
        ("{{ nope }}", "unknown template field 'nope'"),
        ("{% for %}", "line 1"),
    ],
)
def test_hostile_templates_are_refused(template: str, why: str) -> None:
    with pytest.raises(TemplateError, match=why):
        check_template(template)
        render(template, {}, FIELDS)


def test_fields_have_no_attributes_beyond_their_data() -> None:
    assert render("{{ changes[0].__class__ }}{{ summary.__init__ }}", {}, FIELDS) == ""


def test_output_is_cut_and_a_failing_body_falls_back_to_the_default() -> None:
    many = {"changes": [{"image": "x" * 500}] * 1000}
    out = render("{% for c in changes %}{{ c.image }}{% endfor %}", {}, many, max_chars=2000)
    assert len(out) == 2000
    draft = draft_for(PLAN, PullRequestSettings(body="{% for c in summary %}{% endfor %}"))
    assert "The configured body template failed" in draft.body
    assert "| `docker.io/library/nginx` |" in draft.body
