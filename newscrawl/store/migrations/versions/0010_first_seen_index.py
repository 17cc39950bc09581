"""An index on articles.first_seen_at: the health check reads the last weeks' stories.

``newscrawl health`` and the end of every crawl (the summary names flagged portals) read
the stories first stored in the last 16 days. Without an index that is a scan of the
whole table, which grows for ever; with it, a range read of the last weeks.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_articles_first_seen_at", "articles", ["first_seen_at"])


def downgrade() -> None:
    op.drop_index("ix_articles_first_seen_at", table_name="articles")
