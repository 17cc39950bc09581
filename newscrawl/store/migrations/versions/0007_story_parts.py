"""Story parts (issue 15), the extractor's version (issue 16), an FTS table Datasette finds.

New ``articles`` columns: ``boxes``, ``tables``, ``ticker`` (JSON lists, ``[]`` for rows
stored before), ``story_type`` and ``extractor_version`` (text, NULL before), and
``parts_text``: the words of the boxes and tables (``newscrawl.extract.parts.parts_text``)
as the writer computed them, so the search indexes a column the row really holds.

SQLite: FTS5 with ``content=`` reads the content table's columns by name (``rebuild``,
``highlight``), so the search table can only index real columns; it is rebuilt with
``parts_text`` as a fourth column, and with ``content="articles"`` in double quotes:
Datasette recognises an external-content FTS table only in that spelling (issue 17).
PostgreSQL: ``index_pending`` adds ``parts_text`` to the vector; the trigger that marks a
changed story for indexing again now watches it too. Existing vectors stay valid (stories
stored before have no parts).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
LISTS = ("boxes", "tables", "ticker")
TEXTS = ("story_type", "extractor_version", "parts_text")


def _fts(columns: tuple[str, ...], content: str) -> list[str]:
    """The FTS5 table over ``columns`` of articles and its three triggers (frozen here:
    a migration must not change when the code does)."""
    names = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    return [
        f"""CREATE VIRTUAL TABLE articles_fts USING fts5(
            {names}, content={content}, content_rowid='id',
            tokenize='unicode61 remove_diacritics 2')""",
        f"""CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
            INSERT INTO articles_fts(rowid, {names}) VALUES (new.id, {new});
        END""",
        f"""CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
            INSERT INTO articles_fts(articles_fts, rowid, {names})
            VALUES ('delete', old.id, {old});
        END""",
        # Only when indexed columns change: re-crawls that touch other columns stay cheap.
        f"""CREATE TRIGGER articles_fts_update AFTER UPDATE OF {names} ON articles BEGIN
            INSERT INTO articles_fts(articles_fts, rowid, {names})
            VALUES ('delete', old.id, {old});
            INSERT INTO articles_fts(rowid, {names}) VALUES (new.id, {new});
        END""",
        "INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')",
    ]


DROP_FTS = [
    "DROP TRIGGER articles_fts_update",
    "DROP TRIGGER articles_fts_delete",
    "DROP TRIGGER articles_fts_insert",
    "DROP TABLE articles_fts",
]
SQLITE_UP = DROP_FTS + _fts(("title", "lead", "text", "parts_text"), '"articles"')
SQLITE_DOWN = DROP_FTS + _fts(("title", "lead", "text"), "'articles'")


def _stale_trigger(columns: tuple[str, ...]) -> list[str]:
    changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in columns)
    return [
        "DROP TRIGGER articles_search_stale ON articles",
        f"""CREATE TRIGGER articles_search_stale BEFORE UPDATE OF {", ".join(columns)}
            ON articles FOR EACH ROW WHEN ({changed})
            EXECUTE FUNCTION articles_search_stale()""",
    ]


def _run(statements: list[str]) -> None:
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    # Plain ADD COLUMNs: a batch (table copy) on SQLite would drop the FTS5 triggers.
    for name in LISTS:
        op.add_column(
            "articles", sa.Column(name, JSON, nullable=False, server_default=sa.text("'[]'"))
        )
    for name in TEXTS:
        op.add_column("articles", sa.Column(name, sa.Text()))
    if op.get_bind().dialect.name == "sqlite":
        _run(SQLITE_UP)
    else:
        _run(_stale_trigger(("title", "lead", "text", "parts_text")))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _run(SQLITE_DOWN)
    else:
        _run(_stale_trigger(("title", "lead", "text")))
        # Their vectors hold the words of boxes and tables: indexed again without them.
        op.execute("UPDATE articles SET search_vector = NULL WHERE parts_text IS NOT NULL")
    for name in (*TEXTS, *LISTS):
        op.drop_column("articles", name)
