"""Alembic environment: runs on the connection handed over by ``newscrawl.store.migrate``,
or on ``-x url=...`` / ``NEWSCRAWL_DATABASE_URL`` when the alembic command is used."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection

from newscrawl.store.engine import make_engine
from newscrawl.store.models import Base

# Full-text objects are created by hand in a migration and are not in the models;
# autogenerate must not propose to drop them.
FTS_NAMES = {
    "articles_fts",
    "search_vector",
    "ix_articles_search_vector",
    "ix_articles_search_pending",
}


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    return not (name in FTS_NAMES or (name or "").startswith("articles_fts"))


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        include_object=include_object,
        # SQLite cannot ALTER most things: batch mode recreates tables instead.
        render_as_batch=connection.dialect.name == "sqlite",
        # migrate() runs everything in its own locked transaction.
        transaction_per_migration=False,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    engine = make_engine(context.get_x_argument(as_dictionary=True).get("url"))
    with engine.connect() as conn:
        run(conn)
    engine.dispose()
