"""Portal health: is each portal still yielding stories, and are they still whole?

A portal that changes its layout degrades silently (shorter texts, no authors); one that
stops publishing or blocks the crawler just yields nothing. Neither makes a crawl fail, so
``newscrawl health`` compares each portal's last days (the *recent* window) with its own
trailing *baseline* (the days before), by when the crawler first stored each story:

* stories per day;
* the share of stories with authors, with a publication date, with a lead;
* the median words of the body.

``assess`` (pure, table-tested) names what is wrong; ``portal_windows`` is the SQL, one
Core query for the counts and one streamed query for the word counts (a median has no
common SQL spelling: SQLite has none, PostgreSQL ``percentile_cont``), on both databases.
Both read only the stories of the two windows, through the index on ``first_seen_at``
(migration 0010): the cost follows the last weeks' stories, not the store's size, so the
crawl runs the same check at its end (``flagged_portals``) and names flagged portals in
its summary line.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, FunctionElement, Integer, case, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler

from newscrawl.store.engine import make_engine
from newscrawl.store.errors import store_errors
from newscrawl.store.models import Article

MIN_STORIES = 5
"""Fewer recent stories than this are too few to call the extraction degraded."""
DEGRADED = 0.5
"""A share (or the median words) below this fraction of its baseline is degraded."""


@dataclass(frozen=True)
class Window:
    """What one portal stored in one window of ``days`` days."""

    days: float
    stories: int = 0
    with_authors: int = 0
    with_date: int = 0
    with_lead: int = 0
    median_words: float | None = None

    @property
    def per_day(self) -> float:
        return self.stories / self.days if self.days else 0.0

    def share(self, count: int) -> float | None:
        return count / self.stories if self.stories else None


@dataclass(frozen=True)
class PortalHealth:
    site: str
    recent: Window
    baseline: Window
    problems: tuple[str, ...]

    def row(self) -> dict[str, Any]:
        """One output row: recent value beside the usual (baseline) one."""

        def percent(window: Window, count: int) -> int | None:
            share = window.share(count)
            return None if share is None else round(100 * share)

        recent, usual = self.recent, self.baseline
        return {
            "site": self.site,
            "per_day": round(recent.per_day, 1),
            "usual_per_day": round(usual.per_day, 1),
            "authors_pct": percent(recent, recent.with_authors),
            "usual_authors_pct": percent(usual, usual.with_authors),
            "dated_pct": percent(recent, recent.with_date),
            "usual_dated_pct": percent(usual, usual.with_date),
            "lead_pct": percent(recent, recent.with_lead),
            "usual_lead_pct": percent(usual, usual.with_lead),
            "median_words": recent.median_words,
            "usual_median_words": usual.median_words,
            "status": "; ".join(self.problems) or "ok",
        }


COLUMNS = tuple(PortalHealth("", Window(1), Window(1), ()).row())


def assess(recent: Window, baseline: Window) -> tuple[str, ...]:
    """What is wrong with a portal whose ``recent`` window follows ``baseline``; () if
    nothing is, or if there is no baseline to compare with (a new portal)."""
    if baseline.stories == 0:
        return ()
    if recent.stories == 0:
        return (f"no stories (usually {baseline.per_day:.1f} a day)",)
    if recent.stories < MIN_STORIES:
        return ()
    problems = []
    for what, now, usual in (
        ("authors", recent.with_authors, baseline.with_authors),
        ("a date", recent.with_date, baseline.with_date),
        ("a lead", recent.with_lead, baseline.with_lead),
    ):
        share, usual_share = recent.share(now), baseline.share(usual)
        if share is not None and usual_share and share < DEGRADED * usual_share:
            problems.append(f"{what} on {share:.0%} of stories (usually {usual_share:.0%})")
    words, usual_words = recent.median_words, baseline.median_words
    if words is not None and usual_words and words < DEGRADED * usual_words:
        problems.append(f"median words {words:g} (usually {usual_words:g})")
    return tuple(problems)


class json_length(FunctionElement[int]):
    """Elements of a JSON list column (0 for an empty list), on both databases."""

    type = Integer()
    inherit_cache = True
    name = "json_length"


@compiles(json_length, "sqlite")
def _json_length_sqlite(element: json_length, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_array_length({compiler.process(element.clauses, **kw)})"


@compiles(json_length, "postgresql")
def _json_length_postgresql(element: json_length, compiler: SQLCompiler, **kw: Any) -> str:
    return f"jsonb_array_length({compiler.process(element.clauses, **kw)})"


def portal_windows(
    engine: Engine, now: datetime, recent_days: int, baseline_days: int
) -> dict[str, tuple[Window, Window]]:
    """``{site: (recent, baseline)}`` for every portal with a story first stored in
    ``[now - recent_days - baseline_days, now)``."""
    recent_start = now - timedelta(days=recent_days)
    start = recent_start - timedelta(days=baseline_days)
    is_recent = case((Article.first_seen_at >= recent_start, 1), else_=0).label("recent")
    in_range = (Article.first_seen_at >= start, Article.first_seen_at < now)

    def has(condition: Any) -> Any:
        return func.sum(case((condition, 1), else_=0))

    counts = (
        select(
            Article.site,
            is_recent,
            func.count().label("stories"),
            has(func.coalesce(json_length(Article.authors), 0) > 0).label("with_authors"),
            has(Article.published_at.is_not(None)).label("with_date"),
            has(func.length(func.coalesce(Article.lead, "")) > 0).label("with_lead"),
        )
        .where(*in_range)
        .group_by(Article.site, is_recent)
    )
    words = select(Article.site, is_recent, Article.word_count).where(
        *in_range, Article.word_count.is_not(None)
    )
    found: dict[tuple[str, int], dict[str, Any]] = {}
    word_counts: dict[tuple[str, int], list[int]] = defaultdict(list)
    with engine.connect() as conn:
        for row in conn.execute(counts).mappings():
            found[(row["site"], row["recent"])] = dict(row)
        streamed = conn.execution_options(stream_results=True, yield_per=5000).execute(words)
        for site, recent, count in streamed:
            word_counts[(site, recent)].append(count)

    def window(site: str, recent: int) -> Window:
        days = recent_days if recent else baseline_days
        row = found.get((site, recent))
        if row is None:
            return Window(days)
        counted = word_counts.get((site, recent))
        return Window(
            days,
            stories=int(row["stories"]),
            with_authors=int(row["with_authors"] or 0),
            with_date=int(row["with_date"] or 0),
            with_lead=int(row["with_lead"] or 0),
            median_words=statistics.median(counted) if counted else None,
        )

    sites = sorted({site for site, _ in found})
    return {site: (window(site, 1), window(site, 0)) for site in sites}


def health(
    engine: Engine, now: datetime, recent_days: int = 2, baseline_days: int = 14
) -> list[PortalHealth]:
    """Every portal's two windows and what ``assess`` finds wrong, by site."""
    return [
        PortalHealth(site, recent, baseline, assess(recent, baseline))
        for site, (recent, baseline) in portal_windows(
            engine, now, recent_days, baseline_days
        ).items()
    ]


def flagged_portals(
    url: str, now: datetime, recent_days: int = 2, baseline_days: int = 14
) -> list[PortalHealth]:
    """The portals ``newscrawl health`` would flag, for the crawl's summary: its own
    engine (the crawl's store is closed by then), any database failure a ``StoreError``."""
    with store_errors():
        engine = make_engine(url)
        try:
            portals = health(engine, now, recent_days, baseline_days)
        finally:
            engine.dispose()
    return [portal for portal in portals if portal.problems]
