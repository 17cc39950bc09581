"""Indexes that let ``stats`` and the latest-first walks read indexes, not stories (issue 14).

At a million stories every statistic that grouped ``articles`` read each story's row,
text included (SQLite keeps the columns after ``text`` in overflow pages): 18 s for
``stats``. Narrow indexes answer them instead:

- ``ix_articles_section_site`` / ``ix_articles_authors_site``: (the JSON list, site,
  published_at). ``stats`` counts stories per distinct list in the index alone and then
  splits the few distinct lists into their elements; site and date filters are read from
  the same index entries.
- ``ix_articles_published_desc``: (published_at DESC NULLS LAST, id), the order of "newest
  first" everywhere (stories on several portals, the latest stories), so a walk stops
  after the rows it needs. It replaces ``ix_articles_published_at``, which it also serves
  (ranges, max).
- ``ix_articles_site_published``: (site, published_at) replaces ``ix_articles_site``: the
  latest days of one portal are found in the index, not in each of its stories' rows.
- ``ix_article_urls_article_site``: (article, site) replaces ``ix_article_urls_article``;
  the portals of a story are counted in the index.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite has no NULLS LAST in CREATE INDEX; its NULLs sort first, so DESC puts them last.
NEWEST_FIRST = {"sqlite": "published_at DESC, id", "postgresql": "published_at DESC NULLS LAST, id"}


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_index("ix_articles_section_site", "articles", ["section", "site", "published_at"])
    op.create_index("ix_articles_authors_site", "articles", ["authors", "site", "published_at"])
    op.execute(f"CREATE INDEX ix_articles_published_desc ON articles ({NEWEST_FIRST[dialect]})")
    op.drop_index("ix_articles_published_at", "articles")
    op.create_index("ix_articles_site_published", "articles", ["site", "published_at"])
    op.drop_index("ix_articles_site", "articles")
    op.create_index("ix_article_urls_article_site", "article_urls", ["article", "site"])
    op.drop_index("ix_article_urls_article", "article_urls")


def downgrade() -> None:
    op.create_index("ix_article_urls_article", "article_urls", ["article"])
    op.drop_index("ix_article_urls_article_site", "article_urls")
    op.create_index("ix_articles_site", "articles", ["site"])
    op.drop_index("ix_articles_site_published", "articles")
    op.create_index("ix_articles_published_at", "articles", ["published_at"])
    op.drop_index("ix_articles_published_desc", "articles")
    op.drop_index("ix_articles_authors_site", "articles")
    op.drop_index("ix_articles_section_site", "articles")
