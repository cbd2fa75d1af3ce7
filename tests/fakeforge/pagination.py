"""Page slicing and the pagination headers GitHub (`Link`) and GitLab (`Link` + `X-*`) send."""

from __future__ import annotations

import urllib.parse
from typing import Any

from tests.fakeforge.exchange import ApiError, ApiRequest

__all__ = ["paginate"]


def _page_url(url: str, page: int, per_page: int) -> str:
    parts = urllib.parse.urlsplit(url)
    query = [
        (k, v)
        for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        if k not in {"page", "per_page"}
    ]
    query += [("page", str(page)), ("per_page", str(per_page))]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def paginate(
    req: ApiRequest,
    items: list[Any],
    *,
    default_per_page: int,
    max_per_page: int = 100,
    gitlab: bool = False,
    totals: bool = True,
) -> tuple[list[Any], dict[str, str]]:
    """The requested page of `items` and the headers that describe the other pages."""
    try:
        page = max(1, int(req.q("page") or 1))
        per_page = min(max_per_page, max(1, int(req.q("per_page") or default_per_page)))
    except ValueError as exc:
        raise ApiError(400, {"message": f"invalid pagination parameter: {exc}"}) from exc
    last = max(1, -(-len(items) // per_page))
    chunk = items[(page - 1) * per_page : page * per_page]
    links = []
    if page < last:
        links.append(f'<{_page_url(req.url, page + 1, per_page)}>; rel="next"')
    if page > 1:
        links.append(f'<{_page_url(req.url, page - 1, per_page)}>; rel="prev"')
    links.append(f'<{_page_url(req.url, 1, per_page)}>; rel="first"')
    links.append(f'<{_page_url(req.url, last, per_page)}>; rel="last"')
    headers: dict[str, str] = {}
    if gitlab or page < last or page > 1:
        headers["Link"] = ", ".join(links)
    if gitlab:
        headers.update(
            {
                "X-Page": str(page),
                "X-Per-Page": str(per_page),
                "X-Next-Page": str(page + 1) if page < last else "",
                "X-Prev-Page": str(page - 1) if page > 1 else "",
            }
        )
        if totals:
            headers.update({"X-Total": str(len(items)), "X-Total-Pages": str(last)})
    return chunk, headers
