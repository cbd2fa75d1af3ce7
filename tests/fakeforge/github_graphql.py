"""GitHub GraphQL (`POST /api/graphql`) for the auto-merge mutations in
`../shared/contracts/github-graphql-automerge.graphql`. The excerpt is completed with stubs of
the few types it names but leaves out (scalars, `Actor`, two enums, a `Query` root), then every
query is validated and executed by graphql-core, so a query outside the contract fails the test
and the answer has exactly the fields asked for. Refusals come back as HTTP 200 with
`errors[0].type == "UNPROCESSABLE"`, as recorded from GitHub."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from graphql import GraphQLError, GraphQLSchema, build_schema, graphql_sync
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tests.fakeforge.github_render import node_id
from tests.fakeforge.pulls import enable_auto_merge, merge_pull
from tests.fakeforge.state import Call, ForgeState, PullRequest, Repository, User

__all__ = ["GitHubGraphQL"]

MISSING_TYPES = """
scalar DateTime
scalar GitObjectID
scalar URI
interface Actor { avatarUrl(size: Int): URI! login: String! resourcePath: URI! url: URI! }
type User implements Actor {
  avatarUrl(size: Int): URI! login: String! resourcePath: URI! url: URI!
}
type Bot implements Actor {
  avatarUrl(size: Int): URI! login: String! resourcePath: URI! url: URI!
}
enum PullRequestState { CLOSED MERGED OPEN }
enum MergeableState { CONFLICTING MERGEABLE UNKNOWN }
type Query { node(id: ID!): PullRequest }
"""


class Unprocessable(GraphQLError):
    """A refusal GitHub reports with `type: UNPROCESSABLE`."""


class GitHubGraphQL:
    """Validates and executes auto-merge mutations against the forge state."""

    def __init__(self, forge: ForgeState, contract_path: Path, base_url: str) -> None:
        self.forge = forge
        self.web = base_url
        sdl = contract_path.read_text() + MISSING_TYPES
        self.schema: GraphQLSchema = build_schema(sdl, assume_valid=True)

    async def endpoint(self, request: Request) -> Response:
        """The ASGI endpoint for `POST /api/graphql`."""
        auth = request.headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        user = (
            self.forge.user_for_token(token.strip())
            if scheme.lower() in {"token", "bearer"}
            else None
        )
        if request.method != "POST":
            self.forge.violation(f"graphql: {request.method} is not how GraphQL is called")
            return self._done(request, JSONResponse({"message": "Not Found"}, 404))
        if user is None:
            body = {
                "message": "Bad credentials",
                "documentation_url": "https://docs.github.com/graphql",
            }
            return self._done(request, JSONResponse(body, 401))
        payload = json.loads(await request.body() or b"{}")
        with self.forge.lock:
            result = graphql_sync(
                self.schema,
                payload.get("query", ""),
                root_value=self._root(user),
                variable_values=payload.get("variables"),
            )
        out: dict[str, Any] = {"data": result.data}
        if result.errors:
            out["errors"] = []
            for error in result.errors:
                formatted: dict[str, Any] = dict(error.formatted)
                if isinstance(error.original_error, Unprocessable):
                    formatted["type"] = "UNPROCESSABLE"
                out["errors"].append(formatted)
            if result.data is None:  # did not validate: the query is outside the contract
                messages = "; ".join(e.message for e in result.errors)
                self.forge.violation(f"graphql: query outside the contract: {messages}")
        return self._done(request, JSONResponse(out, 200))

    def _done(self, request: Request, response: Response) -> Response:
        self.forge.record(Call("graphql", request.method, "/graphql", None, response.status_code))
        return response

    # ------------------------------------------------------------------ resolvers
    def _root(self, user: User) -> dict[str, Any]:
        def enable(_info: Any, input: dict[str, Any]) -> dict[str, Any]:
            repo, pr = self._find(input["pullRequestId"])
            if not repo.allow_auto_merge:
                raise Unprocessable("Pull request Auto merge is not allowed for this repository")
            self._check_head(repo, pr, input.get("expectedHeadOid"))
            head = repo.git.branch_sha(pr.head)
            if not repo.require_checks and head and repo.statuses.get(head) != "pending":
                raise Unprocessable("Pull request is in clean status")
            enable_auto_merge(pr, user, input.get("mergeMethod", "MERGE"))
            return self._payload(user, input, repo, pr)

        def disable(_info: Any, input: dict[str, Any]) -> dict[str, Any]:
            repo, pr = self._find(input["pullRequestId"])
            pr.auto_merge = pr.auto_merge_by = pr.auto_merge_at = None
            return self._payload(user, input, repo, pr)

        def merge(_info: Any, input: dict[str, Any]) -> dict[str, Any]:
            repo, pr = self._find(input["pullRequestId"])
            self._check_head(repo, pr, input.get("expectedHeadOid"))
            title = input.get("commitHeadline") or f"Merge pull request #{pr.number}"
            message = f"{title}\n\n{input.get('commitBody') or pr.title}"
            method = str(input.get("mergeMethod", "MERGE")).lower()
            if pr.state != "open" or not merge_pull(repo, pr, user, message=message, method=method):
                raise Unprocessable("Pull Request is not mergeable")
            return self._payload(user, input, repo, pr)

        return {
            "enablePullRequestAutoMerge": enable,
            "disablePullRequestAutoMerge": disable,
            "mergePullRequest": merge,
        }

    def _find(self, wanted: str) -> tuple[Repository, PullRequest]:
        for repo in self.forge.repos.values():
            for pr in repo.pulls.values():
                if node_id("PullRequest", pr.id) == wanted:
                    return repo, pr
        raise GraphQLError(f"Could not resolve to a node with the global id of '{wanted}'")

    @staticmethod
    def _check_head(repo: Repository, pr: PullRequest, expected: str | None) -> None:
        if expected and repo.git.branch_sha(pr.head) != expected:
            raise Unprocessable("Head branch was modified. Review and try the merge again.")

    def _actor(self, user: User | None) -> dict[str, Any] | None:
        if user is None:
            return None
        return {
            "__typename": "Bot" if user.login.endswith("[bot]") else "User",
            "avatarUrl": f"{self.web}/avatars/{user.login}",
            "login": user.login,
            "resourcePath": f"/{user.login}",
            "url": f"{self.web}/{user.login}",
        }

    def _payload(
        self, user: User, data: dict[str, Any], repo: Repository, pr: PullRequest
    ) -> dict[str, Any]:
        return {
            "actor": self._actor(user),
            "clientMutationId": data.get("clientMutationId"),
            "pullRequest": self._pull(repo, pr),
        }

    def _pull(self, repo: Repository, pr: PullRequest) -> dict[str, Any]:
        head = repo.git.branch_sha(pr.head) or pr.head_sha_at_close or "0" * 40
        base = repo.git.branch_sha(pr.base)
        conflicts = (
            pr.state == "open" and base is not None and (repo.git.merge_tree(base, head) is None)
        )
        out: dict[str, Any] = {
            "id": node_id("PullRequest", pr.id),
            "number": pr.number,
            "headRefName": pr.head,
            "headRefOid": head,
            "baseRefName": pr.base,
            "state": "MERGED" if pr.merged else pr.state.upper(),
            "merged": pr.merged,
            "mergeable": "CONFLICTING" if conflicts else "MERGEABLE",
            "mergeStateStatus": "DIRTY" if conflicts else ("BLOCKED" if pr.auto_merge else "CLEAN"),
            "viewerCanEnableAutoMerge": repo.allow_auto_merge and pr.auto_merge is None,
            "viewerCanDisableAutoMerge": pr.auto_merge is not None,
            "url": f"{self.web}/{repo.full_name}/pull/{pr.number}",
            "autoMergeRequest": None,
        }
        if pr.auto_merge:
            out["autoMergeRequest"] = {
                "authorEmail": None,
                "commitBody": None,
                "commitHeadline": None,
                "enabledAt": pr.auto_merge_at,
                "enabledBy": self._actor(pr.auto_merge_by),
                "mergeMethod": pr.auto_merge,
                "pullRequest": out,
            }
        return out
