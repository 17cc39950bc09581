"""The store's side of revisiting young articles (``newscrawl/revisit.py``): candidates.

A story may be young by its publication or by its last edit (a ticker published in the
morning and still running in the evening), so the candidates are two indexed range
reads, each newest first and at most ``limit`` long: ``published_at`` (index since
0001) and ``modified_at`` (index since 0011). Which of them a run revisits, newest by
the later of the two dates, is the crawl side's pure choice; the union of the two
top-``limit`` lists always holds the top ``limit`` of that order. Each read touches
only the rows of the window, whatever the size of the store: no scan of ``articles``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection, select

from newscrawl.store.models import Article


class RevisitCandidate(NamedTuple):
    """A stored story that may still change, with what a conditional request needs."""

    url: str
    site: str
    published_at: datetime | None
    modified_at: datetime | None
    etag: str | None
    last_modified: str | None


_COLUMNS = (
    Article.url, Article.site, Article.published_at, Article.modified_at,
    Article.http_etag, Article.http_last_modified,
)  # fmt: skip


def young_articles(
    connection: Connection, since: datetime, limit: int, sites: Sequence[str] | None = None
) -> list[RevisitCandidate]:
    """Stories published or modified at or after ``since``: the newest ``limit`` by each
    date (a story may appear in both), of ``sites`` only when given."""
    found: list[RevisitCandidate] = []
    for column in (Article.published_at, Article.modified_at):
        query = select(*_COLUMNS).where(column >= since).order_by(column.desc()).limit(limit)
        if sites is not None:
            # ``site || ''``, not ``site``: SQLite would otherwise read the site's index
            # (every story of the portal, years of them) and sort, instead of the window.
            query = query.where((Article.site + "").in_(list(sites)))
        found.extend(RevisitCandidate(*row) for row in connection.execute(query))
    return found
