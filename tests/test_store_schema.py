"""Migrations, the command line, and full-text search on both databases."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, text

from newscrawl.store import make_engine, migrate, search, write_batch
from newscrawl.store.engine import database_url, display_url
from newscrawl.store.search import fts5_query
from newscrawl.store.validate import prepare
from tests.dbs import fixture_paragraphs, insert_old_rows, make_item

ROOT = Path(__file__).resolve().parents[1]


def _revision(engine: Engine) -> str:
    with engine.connect() as conn:
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()


def test_new_database_is_created_at_head(db_url: str) -> None:
    engine = make_engine(db_url)
    migrate(engine)
    migrate(engine)  # idempotent
    assert _revision(engine) == "0012"
    tables = set(inspect(engine).get_table_names())
    expected = {"articles", "article_urls", "article_versions", "crawl_runs", "rejected_pages"}
    assert expected <= tables
    # The near-duplicate probes read the SimHash from the band index (migration 0009).
    bands = {
        index["name"]: index["column_names"]
        for index in inspect(engine).get_indexes("articles")
        if index["name"].startswith("ix_articles_simhash_band")
    }
    assert bands == {
        f"ix_articles_simhash_band{n}_published": [f"simhash_band{n}", "published_at", "simhash"]
        for n in range(4)
    }
    engine.dispose()


def test_head_revision_from_the_file_names_is_alembics_head() -> None:
    from alembic.script import ScriptDirectory

    from newscrawl.store import alembic_config, head_revision

    assert head_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_a_current_schema_is_checked_without_importing_alembic(db_url: str) -> None:
    migrate(db_url)
    # A fresh interpreter: this one imported Alembic long ago.
    code = (
        "import sys; from newscrawl.store import migrate; migrate(sys.argv[1]); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))"
    )
    run = subprocess.run([sys.executable, "-c", code, db_url], capture_output=True,
                         text=True, check=True)  # fmt: skip
    assert run.stdout == "[]\n"


def test_old_database_is_upgraded_and_keeps_its_rows(db_url: str) -> None:
    engine = make_engine(db_url)
    migrate(engine, revision="0001")
    # Written as a 0001-era store wrote it (write_batch now also needs rejected_pages).
    insert_old_rows(engine, [prepare(make_item()).hashed_row()])
    migrate(engine)
    assert _revision(engine) == "0012"
    assert [row["article_id"] for row in search(engine, "Ambrosia")] == ["93036630"]
    engine.dispose()


def test_cli_upgrade_hides_the_password(pg_url: str) -> None:
    url = pg_url.replace("postgres@", "postgres:s3cret-pw@")  # trust auth ignores it
    done = subprocess.run(
        [sys.executable, "-m", "newscrawl.store", "upgrade", url],
        capture_output=True, text=True, cwd=ROOT, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "s3cret" not in done.stdout + done.stderr
    assert "postgres:***@127.0.0.1" in done.stdout


def test_cli_rejects_a_bad_url_in_one_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "newscrawl.store", "upgrade", "mysql://x@localhost/db"],
        capture_output=True, text=True, cwd=ROOT, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr == "error: unsupported database 'mysql': use sqlite or postgresql\n"


def test_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWSCRAWL_DATABASE_URL", raising=False)
    assert str(database_url()) == "sqlite:///data/news.db"
    monkeypatch.setenv("NEWSCRAWL_DATABASE_URL", "postgresql://u:pw@db/news")
    assert database_url().drivername == "postgresql+psycopg"
    assert display_url(database_url()) == "postgresql+psycopg://u:***@db/news"


def test_fts5_query_quotes_every_term() -> None:
    assert fts5_query('Ambrosia "deutschen Gärten" -Berlin') == (
        '"Ambrosia"* AND "deutschen Gärten" NOT "Berlin"*'
    )
    # FTS5 syntax typed by a user is just words; a token with punctuation is a phrase.
    assert fts5_query("NEAR(a b) OR *") == '"NEAR a" AND "b"* AND "OR"*'
    assert fts5_query("-nur -verboten") is None


@pytest.fixture
def corpus(db_engine: Engine) -> Engine:
    paragraphs = fixture_paragraphs()
    nk_url = "https://www.merkur.de/politik/kim-jong-un-13747005.html"
    musk_url = "https://www.24auto.de/news/musk-putin-clubhouse-90210999.html"
    items = [
        make_item(),
        make_item(
            article_id="13747005", url=nk_url, fetched_url=nk_url, site="merkur.de",
            title="Kim Jong Un: Der Diktator ist zurück", lead="Donald Trump ist glücklich.",
            text="\n".join(paragraphs["nordkorea"]), authors=["FR mit dpa"],
            section=["Politik"], paywall=True, published_at=datetime(2020, 5, 4, tzinfo=UTC),
        ),
        make_item(
            article_id="90210999", url=musk_url, fetched_url=musk_url, site="24auto.de",
            title="Elon Musk lädt Putin zu Clubhouse ein", lead="Tesla-Chef will reden.",
            text="\n".join(paragraphs["musk"]), authors=["Christian Schulz"],
            section=["News"], published_at=datetime(2021, 2, 15, tzinfo=UTC),
        ),
    ]  # fmt: skip
    assert write_batch(db_engine, items).new == 3
    return db_engine


def _ids(rows: list[dict]) -> list[str]:
    return [row["article_id"] for row in rows]


def test_search_matches_words_phrases_and_exclusions(corpus: Engine) -> None:
    assert _ids(search(corpus, "Ambrosia")) == ["93036630"]
    assert _ids(search(corpus, '"Donald Trump"')) == ["13747005"]
    assert _ids(search(corpus, "Putin")) == ["90210999"]
    assert _ids(search(corpus, "Putin -Clubhouse")) == []
    assert _ids(search(corpus, "Pflanze allergische")) == ["93036630"]
    assert search(corpus, "') OR 1=1 --") == []
    row = search(corpus, "Clubhouse")[0]
    assert row["authors"] == ["Christian Schulz"] and row["rank"] > 0
    assert row["published_at"] == datetime(2021, 2, 15, tzinfo=UTC)


def test_search_filters(corpus: Engine) -> None:
    everything = "bereits"  # in all three texts, no stop word
    assert sorted(_ids(search(corpus, everything))) == ["13747005", "90210999", "93036630"]
    assert _ids(search(corpus, everything, site="merkur.de")) == ["13747005"]
    assert _ids(search(corpus, everything, section="Wohnen")) == ["93036630"]
    assert _ids(search(corpus, everything, author="Christian Schulz")) == ["90210999"]
    assert _ids(search(corpus, everything, paywall=True)) == ["13747005"]
    since = datetime(2021, 1, 1, tzinfo=UTC)
    assert sorted(_ids(search(corpus, everything, since=since))) == ["90210999", "93036630"]
    until = datetime(2021, 2, 15, tzinfo=UTC)
    assert sorted(_ids(search(corpus, everything, until=until))) == ["13747005", "90210999"]
    assert len(search(corpus, everything, limit=1)) == 1


def test_title_hits_rank_first(corpus: Engine) -> None:
    # "Trump" is in the nordkorea title's lead and body; "Putin" in the musk title.
    ranked = search(corpus, "Putin")
    assert _ids(ranked) == ["90210999"]
    assert _ids(search(corpus, "Ambrosia Gärten")) == ["93036630"]
