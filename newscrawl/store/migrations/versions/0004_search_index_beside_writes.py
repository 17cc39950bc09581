"""PostgreSQL: the search vector is filled beside the writes, not inside them.

Measured on the local server (``benchmarks/bench_store.py``): computing the generated
``german`` tsvector of a 4 KB story costs the server ~1.0 ms per row, two thirds of the
insert, and held new-article writes to ~550 rows/s. From here on ``search_vector`` is a
plain column that ``newscrawl.store.search.index_pending`` fills for rows where it is
NULL (a partial index finds them); the crawl runs that on a second connection beside its
writes, ``write_batch`` right after its commit. A trigger resets the vector when title,
lead or text change, so a changed story is indexed again whoever changed it. Existing
vectors are kept. New story bodies are compressed with lz4 where the server has it
(cheaper than the default pglz). SQLite is unchanged: FTS5 triggers stay synchronous.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy.exc import DBAPIError

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copy of the vector of 0002 (a migration must not change when search.py does).
VECTOR = """setweight(to_tsvector('german', coalesce(title, '')), 'A')
        || setweight(to_tsvector('german', coalesce(lead, '')), 'B')
        || to_tsvector('german', coalesce(text, ''))"""

UP = [
    "ALTER TABLE articles ALTER COLUMN search_vector DROP EXPRESSION",
    "CREATE INDEX ix_articles_search_pending ON articles (id) WHERE search_vector IS NULL",
    """CREATE FUNCTION articles_search_stale() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN NEW.search_vector := NULL; RETURN NEW; END $$""",
    """CREATE TRIGGER articles_search_stale BEFORE UPDATE OF title, lead, text ON articles
        FOR EACH ROW WHEN (OLD.title IS DISTINCT FROM NEW.title
            OR OLD.lead IS DISTINCT FROM NEW.lead OR OLD.text IS DISTINCT FROM NEW.text)
        EXECUTE FUNCTION articles_search_stale()""",
]
DOWN = [
    "DROP TRIGGER articles_search_stale ON articles",
    "DROP FUNCTION articles_search_stale()",
    "DROP INDEX ix_articles_search_pending",
    "ALTER TABLE articles ALTER COLUMN text SET COMPRESSION DEFAULT",
    "DROP INDEX ix_articles_search_vector",
    "ALTER TABLE articles DROP COLUMN search_vector",
    f"ALTER TABLE articles ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({VECTOR}) STORED",
    "CREATE INDEX ix_articles_search_vector ON articles USING gin (search_vector)",
]


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for statement in UP:
        op.execute(statement)
    try:  # servers built without lz4 refuse it; pglz stays, nothing else changes
        with bind.begin_nested():
            op.execute("ALTER TABLE articles ALTER COLUMN text SET COMPRESSION lz4")
    except DBAPIError:
        pass


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in DOWN:
            op.execute(statement)
