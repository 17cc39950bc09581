"""Articles, their URLs and versions, crawl runs.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the model types: a migration must not change when models.py does.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)


def _text(*names: str) -> list[sa.Column]:
    return [sa.Column(name, sa.Text(), nullable=True) for name in names]


def upgrade() -> None:
    op.create_table(
        "articles",
        sa.Column("id", ID, nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("site", sa.String(255), nullable=False),
        sa.Column("article_id", sa.String(32), nullable=True),
        *_text("title", "seo_title", "kicker", "lead", "text", "description"),
        *[sa.Column(n, JSON, nullable=False) for n in ("authors", "author_urls", "section")],
        *[sa.Column(n, JSON, nullable=False) for n in ("keywords", "entities")],
        *_text("image_url", "image_caption", "image_credit", "publisher"),
        sa.Column("language", sa.String(16), nullable=True),
        sa.Column("paywall", sa.Boolean(), nullable=True),
        sa.Column("cms_client_id", sa.String(64), nullable=True),
        sa.Column("links", JSON, nullable=False),
        sa.Column("published_at", TS, nullable=True),
        sa.Column("modified_at", TS, nullable=True),
        sa.Column("first_seen_at", TS, nullable=False),
        sa.Column("fetched_at", TS, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("simhash", sa.BigInteger(), nullable=True),
        *[sa.Column(f"simhash_band{i}", sa.Integer(), nullable=True) for i in range(4)],
        sa.Column("word_count", sa.Integer(), nullable=True),
        *_text("http_etag", "http_last_modified", "external_canonical"),
        sa.PrimaryKeyConstraint("id", name="pk_articles"),
        sa.UniqueConstraint("article_id", name="uq_articles_article_id"),
        sa.UniqueConstraint("url", name="uq_articles_url"),
    )
    op.create_index("ix_articles_published_at", "articles", ["published_at"])
    op.create_index("ix_articles_site", "articles", ["site"])
    for i in range(4):
        op.create_index(f"ix_articles_simhash_band{i}", "articles", [f"simhash_band{i}"])

    op.create_table(
        "crawl_runs",
        sa.Column("id", ID, nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS, nullable=True),
        sa.Column("spider", sa.String(255), nullable=False),
        sa.Column("arguments", JSON, nullable=False),
        sa.Column("sites", JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        *[
            sa.Column(n, sa.Integer(), nullable=False)
            for n in ("new", "updated", "unchanged", "duplicates", "failed")
        ],
        sa.PrimaryKeyConstraint("id", name="pk_crawl_runs"),
    )
    op.create_table(
        "article_urls",
        sa.Column("id", ID, nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("site", sa.String(255), nullable=False),
        sa.Column("article_id", sa.String(32), nullable=True),
        sa.Column("article", ID, nullable=False),
        sa.Column("first_seen_at", TS, nullable=False),
        sa.Column("last_seen_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["article"],
            ["articles.id"],
            name="fk_article_urls_article_articles",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_article_urls"),
        sa.UniqueConstraint("url", name="uq_article_urls_url"),
    )
    op.create_index("ix_article_urls_article", "article_urls", ["article"])
    op.create_index("ix_article_urls_article_id", "article_urls", ["article_id"])
    op.create_table(
        "article_versions",
        sa.Column("id", ID, nullable=False),
        sa.Column("article", ID, nullable=False),
        *_text("title", "lead", "text"),
        sa.Column("modified_at", TS, nullable=True),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("fetched_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["article"],
            ["articles.id"],
            name="fk_article_versions_article_articles",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_article_versions"),
    )
    op.create_index("ix_article_versions_article", "article_versions", ["article"])


def downgrade() -> None:
    op.drop_table("article_versions")
    op.drop_table("article_urls")
    op.drop_table("crawl_runs")
    op.drop_table("articles")
