"""Full-text search over title, lead and text.

SQLite: an FTS5 table with external content (the text is not stored twice), kept in sync
by triggers. PostgreSQL: a generated tsvector column (german configuration) with a GIN
index. Rows that exist before this revision are indexed here too.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_UP = [
    """CREATE VIRTUAL TABLE articles_fts USING fts5(
        title, lead, text, content='articles', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
        INSERT INTO articles_fts(rowid, title, lead, text)
        VALUES (new.id, new.title, new.lead, new.text);
    END""",
    """CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, title, lead, text)
        VALUES ('delete', old.id, old.title, old.lead, old.text);
    END""",
    # Only when indexed columns change: re-crawls that touch other columns stay cheap.
    """CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, lead, text ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, title, lead, text)
        VALUES ('delete', old.id, old.title, old.lead, old.text);
        INSERT INTO articles_fts(rowid, title, lead, text)
        VALUES (new.id, new.title, new.lead, new.text);
    END""",
    "INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')",
]
SQLITE_DOWN = [
    "DROP TRIGGER articles_fts_update",
    "DROP TRIGGER articles_fts_delete",
    "DROP TRIGGER articles_fts_insert",
    "DROP TABLE articles_fts",
]
POSTGRES_UP = [
    """ALTER TABLE articles ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('german', coalesce(title, '')), 'A')
        || setweight(to_tsvector('german', coalesce(lead, '')), 'B')
        || to_tsvector('german', coalesce(text, ''))) STORED""",
    "CREATE INDEX ix_articles_search_vector ON articles USING gin (search_vector)",
]
POSTGRES_DOWN = [
    "DROP INDEX ix_articles_search_vector",
    "ALTER TABLE articles DROP COLUMN search_vector",
]


def _run(statements: list[str]) -> None:
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    _run(SQLITE_UP if op.get_bind().dialect.name == "sqlite" else POSTGRES_UP)


def downgrade() -> None:
    _run(SQLITE_DOWN if op.get_bind().dialect.name == "sqlite" else POSTGRES_DOWN)
