"""``Store``: the one door the crawl side uses to reach the article store.

The spider, its middlewares, pipelines and commands never see SQL, an engine or a
database exception: they call a ``Store`` and get plain data, a ``BatchResult``, or a
``StoreError`` (one line, no password). Behind the door: the engine, the schema
(Alembic), the crawl's run record, the writer process, retries with backoff, the
dead-letter file, the incremental lookups, the search index.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import Connection, select, union_all
from sqlalchemy.exc import SQLAlchemyError

from newscrawl.store import deadletter, runs
from newscrawl.store.engine import database_url, display_url, make_engine, without_password
from newscrawl.store.errors import is_outage, one_line, store_errors
from newscrawl.store.lookup import one_of
from newscrawl.store.models import Article, ArticleUrl, RejectedPage
from newscrawl.store.revisit import RevisitCandidate, young_articles
from newscrawl.store.search import index_pending
from newscrawl.store.write import BatchResult
from newscrawl.store.writer import make_writer

logger = logging.getLogger(__name__)
T = TypeVar("T")


class StoredFetch(NamedTuple):
    """What the store holds for one URL, for the incremental policy."""

    fetched_at: datetime
    modified_at: datetime | None
    etag: str | None
    last_modified: str | None
    rejected: bool = False
    """A page the store could not take (broken, empty), fetched recently."""

    @property
    def version_time(self) -> datetime:
        """How new the stored content is, in the sources' own clock.

        Sources date an entry by its last edit (sitemap ``lastmod`` equals the
        page's ``dateModified`` on this CMS), so that is what a source date is
        compared with; the fetch time only stands in when the page gave no date.
        """
        return self.modified_at or self.fetched_at


class Store:
    """One database: ``url`` (None: ``NEWSCRAWL_DATABASE_URL`` or the default SQLite file).

    ``retries``/``backoff``: how often and how patiently an unreachable database is
    tried again (the wait doubles each time); ``deadletter_path``: where a batch goes
    that could not be written even then; ``writer``: ``"thread"`` (batches written in
    the calling thread) or ``"process"`` (store/writer.py); ``log_level``: of the writer
    process. ValueError: not a database URL, or no such writer.
    """

    def __init__(
        self, url: str | None = None, *, retries: int = 4, backoff: float = 1.0,
        deadletter_path: str = deadletter.DEFAULT_PATH, writer: str = "thread",
        log_level: int = logging.INFO,
    ) -> None:  # fmt: skip
        self.url = database_url(url)  # ValueError: not a database URL
        self.engine = make_engine(self.url)
        self.retries = retries
        self.backoff = backoff
        self.deadletter_path = deadletter_path
        self.run_id: int | None = None
        self.lost = 0
        """Items neither stored nor kept in the dead-letter file (``keep``)."""
        self._writer = make_writer(writer, self.engine, log_level)

    @property
    def display_url(self) -> str:
        """The URL with its password masked: the only form for logs and messages."""
        return display_url(self.url)

    @property
    def home(self) -> str:
        """The URL without its password (libpq finds that itself): what a dead-letter
        line records as the database it was meant for."""
        return without_password(self.url)

    @property
    def indexes_beside_writes(self) -> bool:
        """PostgreSQL: the search vector is filled after the writes (``index_pending``)."""
        return self.engine.dialect.name == "postgresql"

    # --- the crawl's run ----------------------------------------------------------------
    def open_run(self, spider: str, arguments: dict[str, Any], sites: list[str]) -> int:
        """Create or upgrade the schema and record a running crawl; raises ``StoreError``."""
        from newscrawl.store import migrate  # the package imports this module

        with store_errors():
            self.retrying("migrate", lambda: migrate(self.engine))
            self.run_id = self.retrying(
                "start run", lambda: runs.start_run(self.engine, spider, arguments, sites)
            )
        return self.run_id

    def finish_run(self, status: str, counts: dict[str, int]) -> None:
        """Close the run opened by ``open_run`` (nothing if none was); raises ``StoreError``."""
        if self.run_id is None:
            return
        run_id = self.run_id
        with store_errors():
            self.retrying(
                "finish run", lambda: runs.finish_run(self.engine, run_id, status, counts)
            )

    # --- writes ---------------------------------------------------------------------------
    def start_writer(self) -> None:
        """Start a writer process before the first batch needs it (blocks: a thread)."""
        self._writer.start()

    def write(self, batch: list[dict[str, Any]], pages: list[dict[str, Any]]) -> BatchResult | int:
        """Store a batch (blocks: call it from a thread), retrying an unreachable database.

        Returns the result, or the number of items that went to the dead-letter file
        because the database stayed unreachable (or refused the whole batch): 0 when the
        file could not take them either (``lost`` counts those). Valid items the database
        refused one by one go there too and are in the result as failed. Rejected pages
        are not dead-lettered: losing one costs only a re-fetch.
        """
        try:
            result = self.retrying("write", lambda: self._writer.write(batch, pages))
        except Exception as exc:  # whatever it was, the items must not be lost
            return self.keep(batch, f"Could not store {len(batch)} items ({one_line(exc)})")
        refused = [batch[outcome.index] for outcome in refused_outcomes(result)]
        if refused:
            # Valid items the database itself refused (a permission, a constraint the
            # schema checks do not know): kept for a reimport once that is fixed.
            self.keep(refused, f"The database refused {len(refused)} items")
        return result

    def keep(self, items: list[dict[str, Any]], why: str) -> int:
        """Append items that could not be stored to the dead-letter file; returns how many
        are there. When the file cannot take them (a full disk, a read-only folder) they
        are counted in ``lost`` and said so in one line: the crawl's exit says so too."""
        try:
            self.dead_letter(items)
        except OSError as exc:
            self.lost += len(items)
            logger.error(
                "%s and could not append them to %s (%s): %d items lost",
                why, self.deadletter_path, one_line(exc), len(items),
            )  # fmt: skip
            return 0
        logger.error("%s; appended them to %s", why, self.deadletter_path)
        return len(items)

    def dead_letter(self, items: list[dict[str, Any]]) -> None:
        """Append items to the dead-letter file, each marked with this database."""
        deadletter.append(self.deadletter_path, items, self.home)

    def reimport_hint(self) -> str:
        """The command that stores the dead letters once the database is back."""
        return f"python -m newscrawl.store reimport {self.deadletter_path}"

    def retrying(self, what: str, call: Callable[[], T]) -> T:
        """``call()``, again after a growing pause while the database is unreachable."""
        for attempt in range(self.retries + 1):
            try:
                return call()
            except Exception as exc:
                if not is_outage(exc) or attempt == self.retries:
                    raise
                delay = self.backoff * 2**attempt
                logger.warning(
                    "Database %s unavailable for %s (%s), retry %d/%d in %.1fs",
                    self.display_url, what, one_line(exc), attempt + 1, self.retries, delay,
                )  # fmt: skip
                time.sleep(delay)
        raise AssertionError("unreachable")

    def index_pending(self) -> int:
        """Fill the search index of stories written without it (PostgreSQL)."""
        with store_errors():
            return index_pending(self.engine)

    def close(self) -> None:
        """Stop the writer (a process) and close the connections."""
        self._writer.close()
        self.engine.dispose()

    # --- reads for the crawl -------------------------------------------------------------
    def stored_fetch(self, url: str, retry_rejected: timedelta) -> StoredFetch | None:
        """``stored_fetches`` for one URL: its stored fetch, or None."""
        return self.stored_fetches([url], retry_rejected).get(url)

    def stored_fetches(
        self, urls: Sequence[str], retry_rejected: timedelta
    ) -> dict[str, StoredFetch]:
        """URL → the stored fetch of the story published under it, or of a page rejected
        less than ``retry_rejected`` ago; URLs with neither are left out. Raises
        ``StoreError``.

        Many URLs in two statements: a sitemap or an article page hands the policy its
        links together, and one statement per URL (a thread hop and a round trip each)
        cost 0.3 ms of CPU a URL on SQLite and 0.6 ms of wall time on PostgreSQL."""
        columns = (
            Article.fetched_at, Article.modified_at, Article.http_etag,
            Article.http_last_modified,
        )  # fmt: skip
        found: dict[str, StoredFetch] = {}
        with store_errors(), self.engine.connect() as connection:
            for asked, *row in connection.execute(_stories_under(connection, urls, *columns)):
                found.setdefault(asked, StoredFetch(*row))
            rest = [url for url in urls if url not in found]
            if rest:
                rejected = connection.execute(
                    select(RejectedPage.url, RejectedPage.last_seen_at).where(
                        one_of(connection, RejectedPage.url, rest),
                        RejectedPage.last_seen_at > datetime.now(UTC) - retry_rejected,
                    )
                )
                for url, seen in rejected:
                    found[url] = StoredFetch(seen, None, None, None, rejected=True)
        return found

    def stored_links(self, url: str) -> list[str]:
        """The body links of the story published under ``url`` (none if not stored): what
        a backfill that skips the stored page still has to follow. Raises ``StoreError``."""
        with store_errors(), self.engine.connect() as connection:
            row = connection.execute(_stories_under(connection, [url], Article.links)).first()
        links = row[1] if row else None
        return [link["url"] for link in links or () if isinstance(link, dict) and link.get("url")]

    def revisit_candidates(
        self, since: datetime, limit: int, sites: Sequence[str] | None = None
    ) -> list[RevisitCandidate]:
        """Stories published or modified since ``since``, the newest ``limit`` by each date
        (``store/revisit.py``), of ``sites`` when given. Raises ``StoreError``."""
        with store_errors(), self.engine.connect() as connection:
            return young_articles(connection, since, limit, sites)

    def backfill_finished(self, spider: str) -> bool:
        """Whether a run of ``spider`` without ``since`` ever finished: until one has, every
        run is a backfill, however many stories an interrupted one left in the store
        (False too without a schema or a server)."""
        try:
            with self.engine.connect() as connection:
                return runs.backfill_finished(connection, spider)
        except SQLAlchemyError:  # no schema yet (or no server): taken as a first run
            return False


def refused_outcomes(result: BatchResult) -> list[Any]:
    """Outcomes of items the database refused though they passed the schema checks."""
    return [outcome for outcome in result.outcomes if outcome.reason == "db_error"]


def _stories_under(connection: Connection, urls: Sequence[str], *columns: Any) -> Any:
    """``(URL asked, *columns)`` of the stories published under ``urls`` (their own URL or
    a publication's).

    Two indexed lookups: with ``url = ? OR id IN (...)`` PostgreSQL read the whole table
    for every URL not stored (27 ms each in a store of 200,000).
    """
    return union_all(
        select(Article.url, *columns).where(one_of(connection, Article.url, urls)),
        select(ArticleUrl.url, *columns).join(ArticleUrl, ArticleUrl.article == Article.id)
        .where(one_of(connection, ArticleUrl.url, urls)),
    )  # fmt: skip
