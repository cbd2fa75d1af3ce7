"""What people asked of the bot in one repository since the last pass: new `/image-bot`
commands in the bot's pull requests and dashboard, and ticked dashboard boxes.

Read at the start of a repository's pass, before deciding, so an ignore, hold or pin
counts in this very pass. Costs, on a pass where nobody said anything: the pull-request
listing (which the pass needs anyway), the dashboard (when enabled) and, on GitHub, the
comment counts of open pull requests; a pull request's comments are read only when its
count moved (see docs/commands.md, "API budget").

Crash safety, as for the one-time comments: what a command does is *recorded first* (the
dashboard's memory marker, or the pull request's marker: `cursor` = the newest comment id
handled, `seen` = the comment count with our replies), then the replies are posted. A
crash in between loses replies, never repeats a command. Only writers are obeyed (the
forge's permission / access level, asked once per commenter).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from image_bot.errors import ImageBotError
from image_bot.model import Comment, Issue, PullRequest, PullRequestState
from image_bot.publish.forge import Forge, PullRequestDraft
from image_bot.publish.pr.marker import PrMarker, decode_pr_marker, with_pr_marker
from image_bot.publish.steering.commands import (
    CommandError,
    Request,
    Verb,
    parse_request,
    reply_text,
)
from image_bot.publish.steering.dashboard import BoxVerb, ticked, untick
from image_bot.publish.steering.memory import Memory, decode_memory, ignore_globs, with_memory
from image_bot.reference import is_valid_tag, parse_name, parse_reference

__all__ = ["Inbox", "InboxSettings", "Reply", "read_inbox"]

log = logging.getLogger("image_bot.pipeline")

_NEEDS_DASHBOARD = (
    "ignores, holds and pins are kept in the dashboard issue: enable `dashboard` for this"
    " repository first"
)


@dataclass(frozen=True, slots=True)
class InboxSettings:
    """Whether commands are read, and the dashboard (its label) when enabled."""

    commands: bool = True
    dashboard_label: str | None = None  # None: no dashboard
    act: bool = True  # False (dry run): read the memory, act on nothing, write nothing


@dataclass(frozen=True, slots=True)
class Reply:
    """A reply still to post: where, and (for `explain`) the image to explain."""

    number: int
    issue: bool
    text: str  # the command as written
    author: str
    done: bool
    message: str
    explain: str | None = None  # canonical image name: the text comes after deciding


@dataclass
class Inbox:
    """One repository's forge state at the start of a pass, commands applied."""

    forge: Forge
    listing: list[PullRequest]
    dashboard: Issue | None = None
    memory: Memory = field(default_factory=Memory)
    rebuild: set[str] = field(default_factory=set)  # branches: rebase asked
    open_now: set[str] = field(default_factory=set)  # branches: open despite limits
    replies: list[Reply] = field(default_factory=list)  # to post (explain: after deciding)
    dashboard_enabled: bool = False

    def post_replies(self, repo: str, explain: dict[str, str]) -> None:
        """Post the replies (`explain`: image -> the verdicts text); failures are logged."""
        for reply in self.replies:
            message = reply.message
            if reply.explain is not None:
                message = explain.get(reply.explain, f"no reference to `{reply.explain}` here")
            body = reply_text(reply.text, reply.author, reply.done, message)
            try:
                self.forge.reply(repo, reply.number, body, issue=reply.issue)
            except ImageBotError as error:
                log.warning("reply not posted", extra={"error": error.message})
        self.replies = []


def read_inbox(forge: Forge, repo: str, settings: InboxSettings) -> Inbox:
    """List the bot's pull requests, read the dashboard and new commands, act on them."""
    inbox = Inbox(forge, forge.bot_pull_requests(repo))
    inbox.dashboard_enabled = settings.dashboard_label is not None
    if settings.dashboard_label is not None:
        inbox.dashboard = forge.dashboard(repo, settings.dashboard_label)
        if inbox.dashboard is not None:
            inbox.memory = decode_memory(inbox.dashboard.body) or Memory()
    if settings.commands and settings.act:
        _pull_request_commands(inbox, repo)
    if inbox.dashboard is not None and settings.act:
        _dashboard_actions(inbox, repo, inbox.dashboard, commands=settings.commands)
    return inbox


# --- one command ------------------------------------------------------------------------------


def _image(text: str) -> str:
    return str(parse_name(text))


def _proposed(pr: PullRequest) -> list[tuple[str, str]]:
    """(image, tag) of what `pr` proposes."""
    found = []
    for proposal in pr.proposals:
        try:
            ref = parse_reference(proposal)
        except ImageBotError:
            continue
        if ref.tag is not None:
            found.append((str(ref.name), ref.tag))
    return found


def _act(inbox: Inbox, request: Request, pr: PullRequest | None) -> tuple[bool, str, str | None]:
    """Apply `request` (on `pr`, or the dashboard): (done, message, image to explain)."""
    verb, args = request.verb, request.args
    if verb is Verb.REBASE:
        branches = [pr.branch] if pr else [p.branch for p in inbox.listing if _open(p)]
        inbox.rebuild.update(branches)
        return True, f"rebuilt from the base in this pass ({len(branches)} branch(es))", None
    if verb is Verb.EXPLAIN:
        return True, "", _image(args[0])
    if not inbox.dashboard_enabled:
        return False, _NEEDS_DASHBOARD, None
    memory = inbox.memory
    if verb is Verb.IGNORE:
        if pr is None:
            return (
                False,
                "ignore works on a bot pull request: it ignores what that one proposes",
                None,
            )
        scope = args[0] if args else None
        if scope not in (None, "major", "minor") and not is_valid_tag(scope or ""):
            return False, f"`{(scope or '')[:40]}` is not a tag, `major` or `minor`", None
        ignored = []
        for image, tag in _proposed(pr):
            series = scope in (None, "major", "minor")
            globs = ignore_globs(tag, scope) if series else (scope or tag,)
            memory = memory.ignore(image, globs)
            ignored += [f"`{image}:{glob}`" for glob in globs]
        if not ignored:
            return False, "this pull request proposes no tagged version", None
        inbox.memory = memory
        return True, f"ignored {', '.join(ignored)}; this pull request is updated or closed", None
    if verb is Verb.UNIGNORE:
        images: Sequence[str | None] = [_image(args[0])] if args else [None]
        if not args and pr is not None:
            images = sorted({image for image, _ in _proposed(pr)})
        for each in images:
            memory = memory.unignore(each)
        inbox.memory = memory
        named = ", ".join(f"`{each}`" for each in images if each) or "all"
        return True, f"ignores removed: {named}", None
    image = _image(args[0])
    if verb in (Verb.HOLD, Verb.UNHOLD):
        inbox.memory = memory.hold(image, verb is Verb.HOLD)
        what = "no pull requests for" if verb is Verb.HOLD else "pull requests again for"
        return True, f"{what} `{image}`", None
    if verb is Verb.PIN:
        if not is_valid_tag(args[1]):
            return False, f"`{args[1][:40]}` is not a tag", None
        inbox.memory = memory.pin(image, args[1])
        return True, f"`{image}` stays at `{args[1]}` (proposed if it is elsewhere)", None
    inbox.memory = memory.pin(image, None)  # UNPIN
    return True, f"`{image}` follows its policy again", None


def _command_line(body: str) -> str:
    """The `/image-bot ...` line of a comment that did not parse, for the reply."""
    for line in body.splitlines():
        if line.strip().lower().startswith("/image-bot"):
            return " ".join(line.split())[:120]
    return "/image-bot"


def _open(pr: PullRequest) -> bool:
    return pr.state is PullRequestState.OPEN and pr.fingerprint is not None


def _handle(
    inbox: Inbox, repo: str, comments: Sequence[Comment], cursor: int, number: int,
    *, pr: PullRequest | None,
) -> int:  # fmt: skip
    """Act on the new commands among `comments`; replies queued. The new cursor."""
    newest = cursor
    for comment in sorted(comments, key=lambda c: c.id):
        if comment.id <= cursor:
            continue
        newest = comment.id
        try:
            request = parse_request(comment.body)
        except CommandError as error:
            if not comment.bot:
                text = _command_line(comment.body)
                inbox.replies.append(
                    Reply(number, pr is None, text, comment.author, False, str(error))
                )
            continue
        if request is None or comment.bot:
            continue
        if not inbox.forge.can_write(repo, comment):
            reply = Reply(
                number, pr is None, request.text, comment.author, False,
                "only people with write access to the repository may command image-bot",
            )  # fmt: skip
        else:
            try:
                done, message, explain = _act(inbox, request, pr)
            except ImageBotError as error:  # an image name that does not parse
                done, message, explain = False, error.message, None
            reply = Reply(number, pr is None, request.text, comment.author, done, message, explain)
        inbox.replies.append(reply)
    return newest


# --- pull requests ----------------------------------------------------------------------------


def _pull_request_commands(inbox: Inbox, repo: str) -> None:
    open_prs = [pr for pr in inbox.listing if _open(pr)]
    if not open_prs:
        return
    counts = inbox.forge.comment_counts(repo)
    for index, pr in enumerate(inbox.listing):
        marker = decode_pr_marker(pr.body)
        if not _open(pr) or marker is None or pr.number not in counts:
            continue
        listed = counts[pr.number]
        if listed == marker.seen:
            continue
        before = len(inbox.replies)
        comments = inbox.forge.comments(repo, pr.number, issue=False)
        cursor = _handle(inbox, repo, comments, marker.cursor, pr.number, pr=pr)
        seen = listed + len(inbox.replies) - before
        marker = dataclasses.replace(marker, seen=seen, cursor=cursor)
        inbox.listing[index] = _record(inbox.forge, repo, pr, marker)


def _record(forge: Forge, repo: str, pr: PullRequest, marker: PrMarker) -> PullRequest:
    """Write `pr`'s marker with the comments read (before any reply is posted)."""
    body = with_pr_marker(pr.body, marker)
    draft = PullRequestDraft(
        title=pr.title, body=body, labels=pr.labels, reviewers=pr.reviewers,
        assignees=pr.assignees, draft=pr.draft,
    )  # fmt: skip
    return forge.update(repo, pr, draft)


# --- the dashboard ----------------------------------------------------------------------------


def _dashboard_actions(inbox: Inbox, repo: str, dashboard: Issue, *, commands: bool) -> None:
    memory = inbox.memory
    boxes = ticked(dashboard.body)
    for box in boxes:
        if box.verb is BoxVerb.REBASE:
            inbox.rebuild.add(box.arg)
        elif box.verb is BoxVerb.OPEN:
            inbox.open_now.add(box.arg)
        else:
            inbox.memory = inbox.memory.unignore(box.arg)
    cursor, seen = memory.cursor, memory.seen
    if commands and dashboard.comments != memory.seen:
        before = len(inbox.replies)
        comments = inbox.forge.comments(repo, dashboard.number, issue=True)
        cursor = _handle(inbox, repo, comments, memory.cursor, dashboard.number, pr=None)
        seen = dashboard.comments + len(inbox.replies) - before
    remembered = dataclasses.replace(inbox.memory, seen=seen, cursor=cursor)
    if boxes or remembered != memory:
        body = with_memory(untick(dashboard.body), remembered)
        inbox.dashboard = inbox.forge.edit_issue(repo, dashboard, dashboard.title, body)
    inbox.memory = remembered
