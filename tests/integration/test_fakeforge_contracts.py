"""The fake forge's contract checkers catch what they exist to catch: undocumented routes,
parameters and statuses, ill-typed or missing fields, in requests and in the fake's own
responses. (If these checks went blind, every other fake-forge test would pass vacuously.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakeforge.contracts import GitHubContract, Operation
from tests.fakeforge.gitlab_contract import GitLabContract

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def github(shared_dir: Path) -> GitHubContract:
    return GitHubContract(shared_dir / "contracts" / "github-openapi-subset.json")


@pytest.fixture(scope="module")
def gitlab(shared_dir: Path) -> GitLabContract:
    return GitLabContract(shared_dir / "contracts" / "gitlab-api.yaml")


def gh_op(contract: GitHubContract, method: str, path: str) -> tuple[Operation, dict[str, str]]:
    matched = contract.match(method, path)
    assert matched is not None, f"{method} {path} should be documented"
    return matched


def test_github_routes_match_documented_operations_only(github: GitHubContract) -> None:
    op, params = gh_op(github, "GET", "/repos/acme/deploy/git/ref/heads/image-bot/nginx")
    assert op.key == "git/get-ref"
    assert params == {"owner": "acme", "repo": "deploy", "ref": "heads/image-bot/nginx"}
    op, params = gh_op(github, "DELETE", "/repos/acme/deploy/issues/3/labels/needs%20review")
    assert (op.key, params["name"]) == ("issues/remove-label", "needs review")
    assert github.match("PUT", "/repos/acme/deploy/issues/3/labels") is None  # set_labels
    assert github.match("GET", "/repos/acme/deploy/git/refs") is None  # list-all refs
    assert github.match("GET", "/repos/acme/deploy/commits/abc") is None


def test_github_request_checks(github: GitHubContract) -> None:
    op, params = gh_op(github, "POST", "/repos/acme/deploy/pulls")
    assert github.check_request(op, params, {}, {"head": "b", "base": "main", "title": "t"}) == []
    problems = github.check_request(op, params, {}, {"head": "b", "title": 3})
    assert any("'base' is a required property" in p for p in problems)
    assert any("3 is not of type 'string'" in p for p in problems)

    op, params = gh_op(github, "GET", "/repos/acme/deploy/pulls")
    assert github.check_request(op, params, {"state": ["all"], "per_page": ["100"]}, None) == []
    assert github.check_request(op, params, {"state": ["merged"]}, None)  # not in the enum
    assert github.check_request(op, params, {"colour": ["blue"]}, None) == [
        "undocumented query parameter 'colour'"
    ]
    op, params = gh_op(github, "GET", "/repos/acme/deploy/pulls/x")
    assert github.check_request(op, params, {}, None)  # pull_number must be an integer


def test_github_response_checks(github: GitHubContract) -> None:
    op, _ = gh_op(github, "GET", "/repos/acme/deploy/git/ref/heads/main")
    good = github.example("git-ref")
    assert github.check_response(op, 200, good) == []
    bad = dict(good, object={"type": "commit", "sha": 7})
    assert github.check_response(op, 200, bad)
    assert github.check_response(op, 201, good) == ["status 201 is not documented for git/get-ref"]
    op, _ = gh_op(github, "GET", "/repos/acme/deploy/pulls")
    items = github.example("pull-request-simple-items")
    for item in items:
        item["requested_teams"] = []  # the upstream example lacks requested_teams[].type
    assert github.check_response(op, 200, items) == []
    del items[0]["head"]
    assert any("'head' is a required property" in p for p in github.check_response(op, 200, items))


def test_gitlab_request_checks(gitlab: GitLabContract) -> None:
    matched = gitlab.match("POST", "/projects/group%2Fdeploy/merge_requests")
    assert matched is not None
    op, params = matched
    assert params == {"id": "group/deploy"}
    fields = {"source_branch": "b", "target_branch": "main", "title": "t"}
    assert gitlab.check_request(op, params, {}, fields) == []
    assert gitlab.check_request(op, params, {}, {**fields, "labels": ["a", "b"]}) == []
    assert gitlab.check_request(op, params, {}, {"source_branch": "b", "title": "t"}) == [
        "required parameter 'target_branch' is missing"
    ]
    assert gitlab.check_request(op, params, {}, {**fields, "assignee_ids": ["x"]}) == [
        "'assignee_ids' should be integer array, got ['x']"
    ]
    assert gitlab.check_request(op, params, {"colour": ["blue"]}, fields) == [
        "undocumented parameter 'colour'"
    ]
    assert gitlab.match("POST", "/projects/1/merge_requests/1/approve") is None


def test_gitlab_response_checks(gitlab: GitLabContract) -> None:
    matched = gitlab.match("GET", "/projects/7/merge_requests/1")
    assert matched is not None
    op, _ = matched
    example = gitlab.example("merge_requests.get")
    assert gitlab.check_response(op, 200, example) == []
    missing = {k: v for k, v in example.items() if k != "sha"}
    assert gitlab.check_response(op, 200, missing) == [
        "merge_requests.get: documented key 'sha' missing"
    ]
    assert gitlab.check_response(op, 200, {**example, "colour": "blue"}) == [
        "merge_requests.get: undocumented key 'colour'"
    ]
    assert gitlab.check_response(op, 200, {**example, "iid": "133"}) == [
        "merge_requests.get: 'iid' is string, documented as number"
    ]
    assert gitlab.check_response(op, 418, {"message": "teapot"}) == [
        "status 418 is not documented for merge_requests.get"
    ]


def test_github_webhook_payload_checks(github: GitHubContract) -> None:
    problems = github.check_webhook("push", {"ref": "refs/heads/main"})
    assert "webhook push/: 'before' is a required property" in problems
    assert github.check_webhook("pull-request-closed", {"action": "closed"})
