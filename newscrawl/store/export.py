"""Stories out of the store for analysis (pandas, DuckDB, Hugging Face datasets), streamed.

``stream_articles`` yields one dict per story, oldest row first, from a server-side cursor
(PostgreSQL) or SQLite's own row-by-row cursor, fetched ``batch`` rows at a time: memory
stays the same whether the store holds a thousand stories or ten million. ``column_kinds``
tells a typed format (Parquet) what each column holds.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import JSON, Boolean, Engine, Float, Integer, select

from newscrawl.store.models import Article, UTCDateTime
from newscrawl.store.query import ARTICLE_COLUMNS, Filters
from newscrawl.store.search import _filters as store_filters

EXPORT_COLUMNS = ARTICLE_COLUMNS
"""Every column of ``articles`` but the SimHash bands (index keys)."""
BATCH = 1000


def check_columns(names: Sequence[str]) -> list[str]:
    """``names`` (empty: every column), in the order given; ``ValueError`` names an unknown."""
    wanted = [name.strip() for name in names if name.strip()]
    unknown = [name for name in wanted if name not in EXPORT_COLUMNS]
    if unknown:
        raise ValueError(f"unknown column {unknown[0]!r}; columns: {', '.join(EXPORT_COLUMNS)}")
    return list(dict.fromkeys(wanted)) or list(EXPORT_COLUMNS)


def column_kinds(columns: Sequence[str]) -> dict[str, str]:
    """``{column: int|float|bool|datetime|json|text}``, from the model's column types."""
    kinds = {}
    for name in columns:
        column_type = Article.__table__.c[name].type
        if isinstance(column_type, UTCDateTime):
            kinds[name] = "datetime"
        elif isinstance(column_type, Boolean):
            kinds[name] = "bool"
        elif isinstance(column_type, Integer):
            kinds[name] = "int"
        elif isinstance(column_type, Float):
            kinds[name] = "float"
        elif isinstance(column_type, JSON):
            kinds[name] = "json"
        else:
            kinds[name] = "text"
    return kinds


def stream_articles(
    engine: Engine, filters: Filters, columns: Sequence[str], batch: int = BATCH
) -> Iterator[dict[str, Any]]:
    """The stories ``filters`` select (site, publication window), ``columns`` of each."""
    table = Article.__table__
    statement = (
        select(*(table.c[name] for name in columns))
        .where(*store_filters(engine, **filters.as_kwargs()))
        .order_by(Article.id)
    )
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=batch).execute(statement)
        for row in result.mappings():
            yield dict(row)
