"""articles.canonical_declared_at: when a page last named the row's URL as its canonical.

The row of a story carries the URL the network's own ``rel=canonical`` names (see
``newscrawl.store.plan``). Which URL that is must not depend on the order pages arrive
in, so the store remembers the latest fetch whose page declared it: a later declaration
of another URL moves the row, an earlier one does not. Null: no page declared the row's
URL (it is the URL of the stored content's first fetch).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN: a batch (table copy) on SQLite would drop the FTS5 triggers.
    op.add_column("articles", sa.Column("canonical_declared_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    op.drop_column("articles", "canonical_declared_at")
