"""``rejected_pages``: pages dropped before the store, remembered so runs stop re-fetching them.

The store pipeline turns each ``item_dropped`` signal into a page dict with ``page_from``;
``write_batch`` upserts them (``times`` counts the rejections, ``last_seen_at`` and the
HTTP validators follow the latest fetch) and deletes the row of any URL that the same or
a later batch stores as an article.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, case, delete, func
from sqlalchemy.dialects import postgresql, sqlite

from newscrawl.store.lookup import _chunks, one_of
from newscrawl.store.models import MAX_URL_LENGTH, RejectedPage
from newscrawl.store.validate import ItemError, _date, _string

MAX_REASON = 255
_SLUG = re.compile(r"\(([\w/-]+)\)")


def reason_of(message: str) -> str:
    """The short reason in a ``DropItem`` message: the pipelines write
    ``"nothing to extract (binary): <url>"``, so the slug in parentheses; else the message
    without its trailing URL."""
    found = _SLUG.search(message)
    if found:
        return found.group(1)
    head = message.rsplit(": http", 1)[0].strip()
    return (head or "dropped")[:MAX_REASON]


def page_from(item: dict[str, Any], message: str) -> dict[str, Any] | None:
    """The ``rejected_pages`` row of a dropped item; None when it names no fetched URL."""
    url = item.get("fetched_url") or item.get("url")
    site = item.get("fetched_site") or item.get("site")
    if not isinstance(url, str) or not isinstance(site, str) or not url or not site:
        return None
    return {
        "url": url, "site": site, "reason": reason_of(message),
        "fetched_at": item.get("fetched_at"), "http_etag": item.get("http_etag"),
        "http_last_modified": item.get("http_last_modified"),
    }  # fmt: skip


def rows(pages: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Validated rows, one per URL (a URL rejected twice in a batch counts twice).

    A page that breaks the schema is skipped: it only costs a re-fetch next run.
    """
    merged: dict[str, dict[str, Any]] = {}
    for page in pages:
        try:
            url = _string(page, "url", required=True)
            site = _string(page, "site", required=True)
            seen = _date(page, "fetched_at") or datetime.now(UTC)
            etag = _string(page, "http_etag")
            last_modified = _string(page, "http_last_modified")
        except ItemError:
            continue
        if url is None or site is None or len(url) > MAX_URL_LENGTH or len(site) > 255:
            continue
        reason = str(page.get("reason") or "dropped")[:MAX_REASON]
        row = merged.get(url)
        if row is None:
            merged[url] = {
                "url": url, "site": site, "reason": reason, "first_seen_at": seen,
                "last_seen_at": seen, "http_etag": etag, "http_last_modified": last_modified,
                "times": 1,
            }  # fmt: skip
            continue
        row["times"] += 1
        row["first_seen_at"] = min(row["first_seen_at"], seen)
        if seen >= row["last_seen_at"]:
            row.update(site=site, reason=reason, last_seen_at=seen, http_etag=etag,
                       http_last_modified=last_modified)  # fmt: skip
    return [merged[url] for url in sorted(merged)]  # sorted: a fixed lock order


def upsert(conn: Connection, pages: list[dict[str, Any]]) -> None:
    """Insert or update ``pages`` (output of ``rows``) in one statement."""
    if not pages:
        return
    postgres = conn.dialect.name == "postgresql"
    stmt = (postgresql if postgres else sqlite).insert(RejectedPage.__table__)
    new, table = stmt.excluded, RejectedPage.__table__.c
    latest = func.greatest if postgres else func.max
    earliest = func.least if postgres else func.min
    is_newer = new.last_seen_at >= table.last_seen_at
    # The reason and validators of the latest fetch; a late report of an older one keeps them.
    newer = {
        name: case((is_newer, getattr(new, name)), else_=getattr(table, name))
        for name in ("site", "reason", "http_etag", "http_last_modified")
    }
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.url],
        set_={
            **newer,
            "first_seen_at": earliest(table.first_seen_at, new.first_seen_at),
            "last_seen_at": latest(table.last_seen_at, new.last_seen_at),
            "times": table.times + new.times,
        },
    )
    conn.execute(stmt, pages)


def forget(conn: Connection, urls: Iterable[str]) -> None:
    """Delete the rows of ``urls``: they are stored as articles now."""
    for chunk in _chunks(urls):
        conn.execute(delete(RejectedPage).where(one_of(conn, RejectedPage.url, chunk)))
