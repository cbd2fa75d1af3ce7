"""The status pages of replicas: each repository's last pass kept in the shared state.

Replicas on one PostgreSQL state pass each repository in whichever replica its job lands on,
so one replica's memory (`ServiceState`) holds only its own passes. `SharedStatuses` records
the `RepositoryStatus` of every pass in the state (the newest pass wins, whoever records it
last) and reads back those of the repositories the status page shows, so every replica
shows every repository's latest pass. The next pass shown stays each replica's own (its
scheduler's). A pass not renewed for `StateStore.PASSES_KEPT` (30 days) is forgotten.

A status is kept as a JSON document; one this version cannot read (written by another
version) is skipped: the page then shows what this replica knows.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from image_bot.model import ImageName, StageVersion, Waiting
from image_bot.service.status import ImageStatus, PullRequestStatus, RepositoryStatus
from image_bot.state import StateError, StateStore

__all__ = ["SharedStatuses", "status_document", "status_from_document"]

log = logging.getLogger(__name__)

_FORMAT = 1


class SharedStatuses:
    """Repository statuses in the state `store` (a `service.status.PassLog`)."""

    def __init__(self, store: StateStore) -> None:
        self._store = store

    def record(self, status: RepositoryStatus) -> None:
        """Keep `status` as its repository's last pass unless a later pass is kept already
        (a failing database is logged: the page then shows this replica's passes)."""
        if status.last_pass is None:
            return
        try:
            self._store.record_pass(status.repository, status.last_pass, status_document(status))
        except StateError as error:
            log.warning("cannot share a pass status", extra={"error": error.message})

    def latest(self, repositories: Iterable[str] | None = None) -> Mapping[str, RepositoryStatus]:
        """The last pass of `repositories` (None: of every repository) any replica recorded
        (none when the database fails)."""
        try:
            documents = self._store.last_passes(repositories)
        except StateError as error:
            log.warning("cannot read the shared pass statuses", extra={"error": error.message})
            return {}
        statuses = {}
        for repository, document in documents.items():
            status = status_from_document(document)
            if status is not None and status.repository == repository:
                statuses[repository] = status
        return statuses


def status_document(status: RepositoryStatus) -> str:
    """`status` (without its replica's next pass) as a JSON document."""
    data = dataclasses.asdict(dataclasses.replace(status, next_pass=None))
    return json.dumps({"format": _FORMAT, **data}, default=_time_text, sort_keys=True)


def status_from_document(document: str) -> RepositoryStatus | None:
    """The status in `document`; None when it is not one this version wrote."""
    try:
        data = json.loads(document)
        if not isinstance(data, dict) or data.get("format") != _FORMAT:
            return None
        return _status(data)
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def _time_text(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


def _time(text: Any) -> datetime | None:
    return None if text is None else datetime.fromisoformat(str(text))


def _status(data: dict[str, Any]) -> RepositoryStatus:
    return RepositoryStatus(
        repository=str(data["repository"]),
        last_pass=_time(data["last_pass"]),
        images=tuple(ImageStatus(**image) for image in data["images"]),
        pull_requests=tuple(PullRequestStatus(**pull) for pull in data["pull_requests"]),
        errors=tuple(str(error) for error in data["errors"]),
        stages=tuple(str(stage) for stage in data["stages"]),
        environments=tuple(
            StageVersion(
                **{
                    **cell,
                    "image": ImageName(**cell["image"]),
                    "since": _time(cell["since"]),
                    "behind_since": _time(cell["behind_since"]),
                }
            )
            for cell in data["environments"]
        ),
        waiting=tuple(
            Waiting(
                **{**wait, "image": ImageName(**wait["image"]), "opens_at": _time(wait["opens_at"])}
            )
            for wait in data["waiting"]
        ),
        outcome=None if data["outcome"] is None else str(data["outcome"]),
        uses=None if data.get("uses") is None else tuple(str(name) for name in data["uses"]),
    )
