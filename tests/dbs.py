"""Database fixtures for the store tests: the same test runs on SQLite and PostgreSQL.

Fixtures (register with ``pytest_plugins = ["tests.dbs"]``):

* ``db_url`` — parametrized ``sqlite``/``postgresql``: a URL of an *empty* database. SQLite:
  a temp file per test. PostgreSQL: a database created once per test module on
  127.0.0.1:5432 (``NEWSCRAWL_TEST_PG``, trust auth) and dropped after; each test gets
  its schema emptied. Unreachable PostgreSQL skips those tests, but fails them when
  ``CI=true``: CI must never pass by silently testing SQLite only.
* ``db_engine`` — an engine on ``db_url`` migrated to the newest revision.
* ``pg_url`` — the per-module PostgreSQL database URL alone (for PostgreSQL-only tests).
"""

from __future__ import annotations

import json
import os
import random
import uuid
from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, datetime
from functools import cache
from typing import Any

import pytest
import trafilatura
from sqlalchemy import (
    Column,
    Engine,
    MetaData,
    Table,
    create_engine,
    func,
    insert,
    inspect,
    select,
    text,
)

from newscrawl.items import ArticleItem
from newscrawl.store import make_engine, migrate
from newscrawl.store.models import Article, ArticleUrl
from tests.extract_fixtures import FIXTURES

PG_SERVER = os.environ.get("NEWSCRAWL_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")


def _unavailable(message: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL is required in CI: {message}")
    pytest.skip(message)


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test module, dropped afterwards."""
    admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    name = f"newscrawl_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # any failure to reach the server means the same
        admin.dispose()
        _unavailable(f"cannot create a database on {PG_SERVER}: {str(exc).splitlines()[0]}")
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def empty_postgres(url: str) -> None:
    """Drop every table of a test database: a fresh schema, without a new database."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db')}/news.db"
    url: str = request.getfixturevalue("pg_url")
    empty_postgres(url)
    return url


@pytest.fixture
def db_engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    migrate(engine)
    yield engine
    engine.dispose()


# --- realistic items built from the fixture pages -------------------------------------
FETCHED_AT = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


@cache
def fixture_paragraphs() -> dict[str, list[str]]:
    """Body paragraphs of the three fixture articles (ambrosia, nordkorea, musk)."""
    expected = json.loads((FIXTURES / "fr.de-2024-ambrosia.expected.json").read_text())
    ambrosia = [p for section in expected["sections"] for p in section["paragraphs"]]
    html = (FIXTURES / "fr.de-2020-nordkorea.html").read_text()
    nordkorea = [p for p in (trafilatura.extract(html) or "").split("\n") if len(p) > 150]
    musk_text = (FIXTURES / "000_4523c469ae94144c.txt").read_text()
    musk = [p for p in musk_text.split("\n\n") if len(p) > 150]
    return {"ambrosia": ambrosia, "nordkorea": nordkorea, "musk": musk}


def make_item(article_id: str = "93036630", site: str = "fr.de", **fields: Any) -> dict[str, Any]:
    """An ``ArticleItem`` dict as the store receives it (``html`` already dropped)."""
    url = f"https://www.{site}/ratgeber/ambrosia-giftig-garten-zr-{article_id}.html"
    item = asdict(
        ArticleItem(
            url=url, site=site, fetched_url=url, fetched_site=site, article_id=article_id,
            fetched_at=FETCHED_AT, title="Warum Ambrosia in deutschen Gärten zur Bedrohung wird",
            lead="Ambrosia breitet sich in deutschen Gärten aus.",
            text="\n".join(fixture_paragraphs()["ambrosia"]), authors=["Simone Jung"],
            published_at=datetime(2024, 4, 26, 18, 44, tzinfo=UTC), section=["Ratgeber", "Wohnen"],
            language="de", paywall=False,
        )
    )  # fmt: skip
    item.pop("html")
    item.update(fields)
    return item


def synthetic_texts(count: int, seed: int = 0, sentences: int = 28) -> list[str]:
    """``count`` distinct ~4 KB German bodies: random fixture sentences, one word in six
    swapped for another fixture word.

    Stories share words and some sentences (like stories on related topics) but are far
    apart by SimHash, which the tests check rather than assume.
    """
    paragraphs = [p for texts in fixture_paragraphs().values() for p in texts]
    pool = sorted({s.strip() for p in paragraphs for s in p.split(". ") if len(s) > 60})
    vocabulary = sorted({word for p in paragraphs for word in p.split()})
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        words = (". ".join(rng.sample(pool, min(sentences, len(pool)))) + ".").split()
        texts.append(" ".join(rng.choice(vocabulary) if rng.random() < 1 / 6 else w for w in words))
    return texts


def synthetic_items(count: int, seed: int = 0, first_id: int = 10_000_000) -> list[dict[str, Any]]:
    """Distinct stories with unique ids, as ``make_item`` builds them."""
    return [
        make_item(article_id=str(first_id + n), title=f"Meldung {first_id + n}", text=body)
        for n, body in enumerate(synthetic_texts(count, seed))
    ]


def insert_old_rows(engine: Engine, rows: list[dict[str, Any]]) -> None:
    """Insert ``articles`` rows as the store of the database's (older) revision wrote
    them: only the columns it has, with the mapped types, without the model's defaults."""
    existing = {column["name"] for column in inspect(engine).get_columns("articles")}
    columns = [c for c in Article.__table__.c if c.name in existing]
    old_articles = Table("articles", MetaData(), *(Column(c.name, c.type) for c in columns))
    with engine.begin() as conn:
        conn.execute(
            insert(old_articles), [{k: v for k, v in r.items() if k in existing} for r in rows]
        )


def count_rows(engine: Engine, model: Any) -> int:
    """Rows of a table (a model class)."""
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model)).scalar_one()


def publication_urls(engine: Engine) -> dict[str, tuple[int, str | None]]:
    """Every ``article_urls`` row: URL → (story, online id)."""
    with engine.connect() as conn:
        rows = conn.execute(select(ArticleUrl.url, ArticleUrl.article, ArticleUrl.article_id))
        return {row.url: (row.article, row.article_id) for row in rows}


def only_article(engine: Engine) -> Any:
    """The one ``articles`` row of a store that must hold exactly one."""
    with engine.connect() as conn:
        return conn.execute(select(Article)).one()
