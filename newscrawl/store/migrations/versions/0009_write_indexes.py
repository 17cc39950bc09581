"""SimHash band indexes carry the SimHash itself: near-duplicate probes read no table row.

The near-duplicate lookup (``newscrawl.store.lookup``) probes each band index with 17
values per band and item and keeps the matches published in the item's weeks (or
undated). With ``(band, published_at)`` it then read each match's row for its SimHash,
to check the exact distance: in a store of a million ~40 matches an item, each a random
page of a 7 GB table. With the SimHash as the index's third key the probe and the
distance check need the index alone; only real copies are read from ``articles``.

The indexes keep their names (``INDEXED BY`` in the lookup names them).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BANDS = range(4)


def _replace(columns: list[str]) -> None:
    for band in BANDS:
        name = f"ix_articles_simhash_band{band}_published"
        op.drop_index(name, table_name="articles")
        op.create_index(name, "articles", [f"simhash_band{band}", *columns])


def upgrade() -> None:
    _replace(["published_at", "simhash"])


def downgrade() -> None:
    _replace(["published_at"])
