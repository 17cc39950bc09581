"""The store's tables. Column docstrings are the public schema description.

One row in ``articles`` per story; every URL a story was published under is a row in
``article_urls``; earlier contents of a story are in ``article_versions``; every crawl
is a row in ``crawl_runs``; pages that could not be stored are in ``rejected_pages``.
Full-text search objects (SQLite FTS5 table and triggers,
PostgreSQL ``search_vector`` column) live in the migrations only: they are not mapped.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    desc,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

JSONType = JSON().with_variant(JSONB(), "postgresql")
# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL ids are 64-bit.
IdType = BigInteger().with_variant(Integer(), "sqlite")

MAX_URL_LENGTH = 2048
MAX_SHORT_TEXT = 1000


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out on both databases.

    SQLite has no time zone type; storing UTC and re-attaching the zone on read makes
    both databases return the same values.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    # Named constraints, so migrations can address them on both databases.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_name)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSONType,
        list[Any]: JSONType,
        datetime: UTCDateTime,
    }


class Article(Base):
    """One story, however many portals and URLs it was published under."""

    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, doc="Surrogate key.")
    url: Mapped[str] = mapped_column(
        String(MAX_URL_LENGTH), unique=True, doc="Canonical URL of the story."
    )
    site: Mapped[str] = mapped_column(String(255), doc="Registry domain of `url`.")
    article_id: Mapped[str | None] = mapped_column(
        String(32), unique=True, doc="The network's online id (unique where present)."
    )
    title: Mapped[str | None] = mapped_column(Text, doc="Headline.")
    seo_title: Mapped[str | None] = mapped_column(Text, doc="The page's <title>/SEO headline.")
    kicker: Mapped[str | None] = mapped_column(Text, doc="Dachzeile above the headline.")
    lead: Mapped[str | None] = mapped_column(Text, doc="Teaser paragraph.")
    text: Mapped[str | None] = mapped_column(Text, doc="Body text, paragraphs separated by \\n.")
    description: Mapped[str | None] = mapped_column(Text, doc="Meta description.")
    authors: Mapped[list[Any]] = mapped_column(default=list, doc="Author names (JSON list).")
    author_urls: Mapped[list[Any]] = mapped_column(default=list, doc="Author pages (JSON list).")
    section: Mapped[list[Any]] = mapped_column(default=list, doc="Section path (JSON list).")
    keywords: Mapped[list[Any]] = mapped_column(default=list, doc="Keywords/tags (JSON list).")
    entities: Mapped[list[Any]] = mapped_column(default=list, doc="Named entities as JSON objects.")
    image_url: Mapped[str | None] = mapped_column(Text, doc="Lead image.")
    image_caption: Mapped[str | None] = mapped_column(Text, doc="Lead image caption.")
    image_credit: Mapped[str | None] = mapped_column(Text, doc="Lead image credit.")
    publisher: Mapped[str | None] = mapped_column(Text, doc="Publisher name.")
    language: Mapped[str | None] = mapped_column(String(16), doc="Language code, e.g. `de`.")
    paywall: Mapped[bool | None] = mapped_column(Boolean, doc="Behind the paywall.")
    cms_client_id: Mapped[str | None] = mapped_column(String(64), doc="CMS client (portal) id.")
    links: Mapped[list[Any]] = mapped_column(
        default=list, doc='Body links to network articles: [{"url", "site"}] (JSON).'
    )
    boxes: Mapped[list[Any]] = mapped_column(
        default=list, doc='Fact boxes: [{"title": str|null, "text"}] in page order (JSON).'
    )
    tables: Mapped[list[Any]] = mapped_column(
        default=list,
        doc='Tables: [{"caption": str|null, "rows": [[cell, ...], ...]}], header first.',
    )
    ticker: Mapped[list[Any]] = mapped_column(
        default=list,
        doc='Live-ticker entries, newest first: [{"time": ISO 8601|null, "headline", "text"}]'
        " ([]: no ticker).",
    )
    story_type: Mapped[str | None] = mapped_column(
        Text, doc="`article`, `ticker` or what JSON-LD/dataLayer name (e.g. `LiveBlogPosting`)."
    )
    parts_text: Mapped[str | None] = mapped_column(
        Text, doc="The words of `boxes` and `tables`, for the full-text search (derived)."
    )
    extractor_version: Mapped[str | None] = mapped_column(
        Text, doc="`newscrawl.extract.EXTRACTOR_VERSION` of the extraction that filled the row."
    )
    published_at: Mapped[datetime | None] = mapped_column(doc="First published.")
    modified_at: Mapped[datetime | None] = mapped_column(
        index=True, doc="Last modified, per the page (the revisit of young stories reads by it)."
    )
    first_seen_at: Mapped[datetime] = mapped_column(
        index=True, doc="When the crawler first stored it (the health check reads by it)."
    )
    fetched_at: Mapped[datetime] = mapped_column(doc="First fetch of the stored content.")
    canonical_declared_at: Mapped[datetime | None] = mapped_column(
        doc="Latest fetch whose page named `url` as its rel=canonical (null: none did)."
    )
    content_hash: Mapped[str] = mapped_column(
        String(64), doc="SHA-256 of title, lead and text: equal hash = unchanged content."
    )
    simhash: Mapped[int | None] = mapped_column(
        BigInteger, doc="64-bit SimHash of the text (signed), for near-duplicate lookup."
    )
    simhash_band0: Mapped[int | None] = mapped_column(Integer, doc="Bits 0-15 of `simhash`.")
    simhash_band1: Mapped[int | None] = mapped_column(Integer, doc="Bits 16-31 of `simhash`.")
    simhash_band2: Mapped[int | None] = mapped_column(Integer, doc="Bits 32-47 of `simhash`.")
    simhash_band3: Mapped[int | None] = mapped_column(Integer, doc="Bits 48-63 of `simhash`.")
    word_count: Mapped[int | None] = mapped_column(Integer, doc="Words in the body.")
    http_etag: Mapped[str | None] = mapped_column(Text, doc="ETag of the stored fetch.")
    http_last_modified: Mapped[str | None] = mapped_column(Text, doc="Last-Modified header.")
    external_canonical: Mapped[str | None] = mapped_column(
        Text, doc="rel=canonical pointing outside the network (recorded, not followed)."
    )

    # With published_at: the near-duplicate lookup filters its band matches by date in
    # the index, without reading each row past its text (migration 0005).
    # The others let stats and newest-first walks read indexes, not stories (migration
    # 0008; on PostgreSQL the newest-first index is NULLS LAST, SQLite's DESC is that).
    __table_args__ = (
        *(
            Index(
                f"ix_articles_simhash_band{i}_published",
                f"simhash_band{i}",
                "published_at",
                "simhash",
            )
            for i in range(4)
        ),
        Index("ix_articles_section_site", "section", "site", "published_at"),
        Index("ix_articles_authors_site", "authors", "site", "published_at"),
        Index("ix_articles_published_desc", desc("published_at"), "id"),
        Index("ix_articles_site_published", "site", "published_at"),
    )


class ArticleUrl(Base):
    """Every URL a story was seen under: canonical, old slugs, syndicated copies."""

    __tablename__ = "article_urls"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, doc="Surrogate key.")
    url: Mapped[str] = mapped_column(String(MAX_URL_LENGTH), unique=True, doc="The URL.")
    site: Mapped[str] = mapped_column(String(255), doc="Registry domain of `url`.")
    article_id: Mapped[str | None] = mapped_column(
        String(32), index=True, doc="Online id in this URL (a syndicated copy may have its own)."
    )
    article: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), doc="The story (articles.id)."
    )
    first_seen_at: Mapped[datetime] = mapped_column(doc="First fetch under this URL.")
    last_seen_at: Mapped[datetime] = mapped_column(doc="Latest fetch under this URL.")

    # (article, site): a story's URLs, and its portals counted in the index (migration 0008).
    __table_args__ = (Index("ix_article_urls_article_site", "article", "site"),)


class ArticleVersion(Base):
    """A story's content before a change (appended when the text or modified_at changed)."""

    __tablename__ = "article_versions"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, doc="Surrogate key.")
    article: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True, doc="The story (articles.id)."
    )
    title: Mapped[str | None] = mapped_column(Text, doc="Headline then.")
    lead: Mapped[str | None] = mapped_column(Text, doc="Teaser then.")
    text: Mapped[str | None] = mapped_column(Text, doc="Body then.")
    modified_at: Mapped[datetime | None] = mapped_column(doc="modified_at of that content.")
    content_hash: Mapped[str] = mapped_column(String(64), doc="content_hash of that content.")
    fetched_at: Mapped[datetime] = mapped_column(doc="When that content was fetched.")


class CrawlRun(Base):
    """One crawl: when, which spider and arguments, how it ended, what it stored."""

    __tablename__ = "crawl_runs"
    __table_args__ = (
        Index("ix_crawl_runs_status_spider", "status", "spider"),
        Index("ix_crawl_runs_started_at", "started_at", "id"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True, doc="Surrogate key.")
    started_at: Mapped[datetime] = mapped_column(doc="Spider opened.")
    finished_at: Mapped[datetime | None] = mapped_column(doc="Spider closed (null: running).")
    spider: Mapped[str] = mapped_column(String(255), doc="Spider name.")
    arguments: Mapped[dict[str, Any]] = mapped_column(default=dict, doc="Spider arguments.")
    sites: Mapped[list[Any]] = mapped_column(default=list, doc="Sites crawled (JSON list).")
    status: Mapped[str] = mapped_column(
        String(16), doc="running, finished, failed (errors, dead letters) or interrupted."
    )
    new: Mapped[int] = mapped_column(Integer, default=0, doc="Stories stored for the first time.")
    updated: Mapped[int] = mapped_column(Integer, default=0, doc="Stories whose content changed.")
    unchanged: Mapped[int] = mapped_column(Integer, default=0, doc="Re-crawled, nothing changed.")
    duplicates: Mapped[int] = mapped_column(
        Integer, default=0, doc="Another publication (URL, portal, id) of a stored story."
    )
    failed: Mapped[int] = mapped_column(Integer, default=0, doc="Items rejected or dead-lettered.")


class RejectedPage(Base):
    """A page dropped before the store (extraction or validation failed), so the crawl's
    incremental middleware can skip it for a while instead of fetching it on every run.
    Deleted when the URL is later stored as an article."""

    __tablename__ = "rejected_pages"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, doc="Surrogate key.")
    url: Mapped[str] = mapped_column(
        String(MAX_URL_LENGTH), unique=True, doc="The fetched URL (canonical form)."
    )
    site: Mapped[str] = mapped_column(String(255), doc="Registry domain of `url`.")
    reason: Mapped[str] = mapped_column(
        String(255), doc="Why it was dropped, latest time: `binary`, `empty`, `too_short`, ..."
    )
    first_seen_at: Mapped[datetime] = mapped_column(doc="First fetch that was rejected.")
    last_seen_at: Mapped[datetime] = mapped_column(doc="Latest fetch that was rejected.")
    http_etag: Mapped[str | None] = mapped_column(Text, doc="ETag of the latest fetch.")
    http_last_modified: Mapped[str | None] = mapped_column(
        Text, doc="Last-Modified header of the latest fetch."
    )
    times: Mapped[int] = mapped_column(Integer, default=1, doc="How often it was rejected.")


TIMESTAMP_FIELDS = ("published_at", "modified_at", "fetched_at")
"""Item fields that are datetimes (ISO strings in the dead-letter file)."""
