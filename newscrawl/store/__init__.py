"""The deduplicating article store: one row per story, every publication URL, versions.

The crawl side uses ``Store`` (``front.py``), the one door; the functions below are the
store's own building blocks (and the tests' and benchmarks' way in)::

    engine = make_engine(url)           # sqlite:///data/news.db or postgresql://...
    migrate(engine)                     # create or upgrade the schema (Alembic, head)
    result = write_batch(engine, items) # BatchResult: new/updated/unchanged/duplicates/failed
    write_batch(engine, items, rejected=pages)  # also remember pages that had no article
    simhash = fingerprint(text)         # in extraction workers: item["simhash"]
    rows = search(engine, "Ambrosia", site="fr.de", limit=10)
    index_pending(engine)               # PostgreSQL: index stories written with index_search=False
"""

from __future__ import annotations

import importlib
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from newscrawl.store.engine import display_url, make_engine, write_transaction

# Eager, unlike the rest: the reading commands need it anyway, and the function must shadow
# its module's name here (a lazy name would find the submodule ``search`` instead).
from newscrawl.store.search import index_pending, pending_count, search

if TYPE_CHECKING:
    from alembic.config import Config

    from newscrawl.store.dedup import fingerprint
    from newscrawl.store.errors import StoreError
    from newscrawl.store.front import Store, StoredFetch
    from newscrawl.store.rejected import page_from as rejected_page
    from newscrawl.store.write import BatchResult, ItemOutcome, write_batch

__all__ = [
    "BatchResult",
    "ItemOutcome",
    "Store",
    "StoreError",
    "StoredFetch",
    "alembic_config",
    "display_url",
    "fingerprint",
    "index_pending",
    "make_engine",
    "migrate",
    "pending_count",
    "rejected_page",
    "search",
    "write_batch",
]

# Any fixed number: the key of the PostgreSQL advisory lock that serializes migrations.
_MIGRATION_LOCK = 0x6E657773
_LAZY = {
    "fingerprint": ("dedup", "fingerprint"),
    "StoreError": ("errors", "StoreError"),
    "Store": ("front", "Store"),
    "StoredFetch": ("front", "StoredFetch"),
    "rejected_page": ("rejected", "page_from"),
    "BatchResult": ("write", "BatchResult"),
    "ItemOutcome": ("write", "ItemOutcome"),
    "write_batch": ("write", "write_batch"),
}


def __getattr__(name: str) -> Any:
    # The package's names are imported on first use (PEP 562): the door (front.py) brings
    # the writer process and with it Scrapy and Twisted, the write path a dozen modules,
    # and the read-only commands (``newscrawl search`` ...) import this package on their
    # way to query.py and must start in a fraction of a second without them.
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module_name, attribute = _LAZY[name]
    module = importlib.import_module(f"{__name__}.{module_name}")
    return getattr(module, attribute)


def alembic_config() -> Config:
    """Alembic configuration pointing at the migrations shipped in this package."""
    from alembic.config import Config  # not on the read-only commands' path

    config = Config()
    config.set_main_option("script_location", str(files("newscrawl.store") / "migrations"))
    return config


def migrate(url: str | URL | Engine | None = None, revision: str = "head") -> None:
    """Bring the database to ``revision`` (default: the newest), creating it if empty.

    Safe when several crawls start at once: the upgrade runs in one transaction that first
    takes the write lock (SQLite ``BEGIN IMMEDIATE``, PostgreSQL an advisory lock), so the
    second process finds the schema already current.
    """
    engine = url if isinstance(url, Engine) else make_engine(url)
    try:
        if revision == "head" and _at_head(engine):
            return  # every crawl start: no need for Alembic's import and script walk
        from alembic import command

        config = alembic_config()
        with write_transaction(engine) as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
    finally:
        if not isinstance(url, Engine):
            engine.dispose()


def head_revision() -> str:
    """The newest migration's revision, from the file names alone (``0011_revisit.py``).

    Written by hand because Alembic's own answer imports Alembic and every migration script
    (0.2 s of each crawl's start); the chain is linear and each file starts with its
    revision, which ``tests/test_store_schema.py`` holds against Alembic's answer.
    """
    versions = files("newscrawl.store") / "migrations" / "versions"
    names = [entry.name for entry in versions.iterdir() if entry.name.endswith(".py")]
    return max(name.split("_", 1)[0] for name in names if name[:4].isdigit())


def _at_head(engine: Engine) -> bool:
    """Whether the schema is current; False also when it cannot tell (no table yet, no
    database): ``migrate`` then goes the long way, which says what is wrong."""
    try:
        with engine.connect() as conn:
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    except DBAPIError:
        return False
    return [row[0] for row in versions] == [head_revision()]
