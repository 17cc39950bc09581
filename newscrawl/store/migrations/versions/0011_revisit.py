"""An index on articles.modified_at: the revisit of young stories reads it by range.

Each run re-checks the stories published or modified in the last hours
(``newscrawl/revisit.py``); a ticker published long ago and edited a minute ago is
found through ``modified_at``, and without an index that read would scan ``articles``.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_articles_modified_at", "articles", ["modified_at"])


def downgrade() -> None:
    op.drop_index("ix_articles_modified_at", table_name="articles")
