"""PostgreSQL's search vector, filled beside the writes (migration 0004).

Every story must become searchable, whoever wrote it: ``write_batch`` indexes its own
stories, the crawl indexes on a second connection and waits for it at close, a changed
story is indexed again, and leftovers are picked up by the next crawl or by
``python -m newscrawl.store index``.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, text

from newscrawl.store import (
    alembic_config,
    index_pending,
    make_engine,
    migrate,
    pending_count,
    search,
    write_batch,
)
from newscrawl.store.validate import prepare
from tests.dbs import empty_postgres, insert_old_rows, make_item, synthetic_items
from tests.test_store_pipeline import run_crawl

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def pg(pg_url: str) -> Iterator[Engine]:
    empty_postgres(pg_url)
    engine = make_engine(pg_url)
    migrate(engine)
    yield engine
    engine.dispose()


def _ids(rows: list[dict]) -> list[str]:
    return [row["article_id"] for row in rows]


def test_write_batch_indexes_its_stories_unless_told_not_to(pg: Engine) -> None:
    write_batch(pg, [make_item()])
    assert pending_count(pg) == 0
    assert _ids(search(pg, "Ambrosia")) == ["93036630"]

    write_batch(pg, synthetic_items(3, seed=2), index_search=False)
    assert pending_count(pg) == 3
    assert search(pg, "Meldung") == []  # titled "Meldung <id>": not searchable yet
    assert index_pending(pg) == 3
    assert pending_count(pg) == 0
    assert sorted(_ids(search(pg, "Meldung"))) == ["10000000", "10000001", "10000002"]
    assert index_pending(pg) == 0


def test_a_changed_story_is_indexed_again(pg: Engine) -> None:
    write_batch(pg, [make_item()])
    changed = make_item(text="Ein Hochbeet voller Zucchini.", modified_at=make_item()["fetched_at"])
    assert write_batch(pg, [changed]).updated == 1
    assert pending_count(pg) == 0
    assert _ids(search(pg, "Zucchini")) == ["93036630"]
    assert _ids(search(pg, "allergische")) == []  # the old text is no longer found

    # A hand-made edit counts too: the trigger resets the vector, index_pending refills it.
    with pg.begin() as conn:
        conn.execute(text("UPDATE articles SET title = 'Kürbisse im Herbst'"))
    assert pending_count(pg) == 1
    assert index_pending(pg) == 1
    assert _ids(search(pg, "Herbst")) == ["93036630"]
    # Columns outside the vector keep it.
    with pg.begin() as conn:
        conn.execute(text("UPDATE articles SET paywall = true, title = title"))
    assert pending_count(pg) == 0


def test_upgrade_from_0003_keeps_the_vectors(pg_url: str) -> None:
    empty_postgres(pg_url)
    engine = make_engine(pg_url)
    migrate(engine, revision="0003")
    insert_old_rows(engine, [prepare(make_item()).hashed_row()])  # a generated vector
    migrate(engine)
    assert pending_count(engine) == 0
    assert _ids(search(engine, "Ambrosia")) == ["93036630"]
    config = alembic_config()
    with engine.begin() as conn:  # and back: the generated column is recomputed
        config.attributes["connection"] = conn
        command.downgrade(config, "0003")
    with engine.connect() as conn:  # today's search() reads columns 0003 did not have
        found = conn.execute(text(
            "SELECT article_id FROM articles WHERE search_vector @@ "
            "websearch_to_tsquery('german', 'Ambrosia')"
        )).scalars().all()  # fmt: skip
    assert found == ["93036630"]
    with engine.connect() as conn:
        generated = conn.execute(text(
            "SELECT attgenerated FROM pg_attribute WHERE attrelid = 'articles'::regclass "
            "AND attname = 'search_vector'"
        )).scalar_one()  # fmt: skip
    assert generated == "s"
    engine.dispose()


def test_cli_index_fills_what_a_crawl_left(pg: Engine, pg_url: str) -> None:
    write_batch(pg, synthetic_items(7, seed=4), index_search=False)
    done = subprocess.run(
        [sys.executable, "-m", "newscrawl.store", "index", pg_url],
        capture_output=True, text=True, cwd=ROOT, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith(": indexed 7 stories for search\n")
    assert pending_count(pg) == 0


def test_a_crawl_indexes_its_stories_and_earlier_leftovers(
    pg: Engine, pg_url: str, tmp_path: Path
) -> None:
    leftovers = synthetic_items(5, seed=9, first_id=20_000_000)
    write_batch(pg, leftovers, index_search=False)  # as a crawl killed mid-way leaves them
    stats, _log = run_crawl(pg_url, tmp_path, count=60)
    assert stats["newscrawl/store/new"] == 60
    assert stats["newscrawl/store/indexed"] == 65
    assert 0 < stats["newscrawl/store/index_seconds"] < 60
    assert pending_count(pg) == 0
    with pg.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM articles")).scalar_one() == 65
