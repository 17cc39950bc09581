"""``scrapy articles`` as the real executable, Ctrl-C, and the README's SQL examples.

One run each for what the in-process runs cannot show: the console script, scrapy.cfg
found from the working directory, real stdout/stderr and exit statuses, the process
environment, signals. Each subprocess costs about a second of interpreter and Scrapy
start-up. The queries themselves are the same code on either path.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from newscrawl.store import make_engine, query
from tests.query_data import (
    AMBROSIA,
    AMBROSIA_COPY,
    HOCHBEET,
    HOCHBEET_URL,
    ROOT,
    SCRAPY,
    UNREACHABLE_ERROR,
    UNREACHABLE_URL,
    check_show_table,
    jsonl,
    scrapy_articles,
)

FR_FREE_TABLE = """\
published_at      site   title                                                         url
----------------  -----  ------------------------------------------------------------  ----------------------------------------------------------------------------------------------------------------------------
2024-04-26 18:44  fr.de  Warum Ambrosia in deutschen Gärten zur Bedrohung wird         https://www.fr.de/ratgeber/wohnen/ambrosia-giftig-garten-allergische-reaktionen-pflanze-erkennen-bekaempfen-zr-93036630.html
2020-05-04 07:12  fr.de  Kim Jong Un: Der Diktator ist zurück - Donald Trump ist „gl…  https://www.fr.de/politik/kim-jong-un-nordkorea-bilder-diktator-donald-trump-zr-13680734.html
"""  # noqa: E501


def test_the_command_searches_with_filters_and_prints_a_table(sqlite_database: str) -> None:
    filters = ["--site", "FR.de", "--paywall", "no", "--since", "2020-01-01"]
    result = scrapy_articles("search", *filters, "--database", sqlite_database)
    assert (result.returncode, result.stdout, result.stderr) == (0, FR_FREE_TABLE, "")


def test_the_command_shows_a_story(sqlite_database: str) -> None:
    result = scrapy_articles("show", AMBROSIA_COPY, "--database", sqlite_database)
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    check_show_table(result.stdout)


def test_the_command_prints_stats_as_csv(sqlite_database: str) -> None:
    result = scrapy_articles("stats", "authors", "--limit", "2", "--format", "csv",
                             "--database", sqlite_database)  # fmt: skip
    assert (result.returncode, result.stdout, result.stderr) == (
        0, "stat,author,articles\nauthors,Simone Jung,2\nauthors,Anna Lorenz,1\n", ""
    )  # fmt: skip


def test_the_command_reports_bad_input_in_one_line_with_status_2(empty_database: str) -> None:
    # A malformed option is argparse's to report: its usage text would be several lines.
    result = scrapy_articles("search", "--database", empty_database, "--limit")
    assert (result.returncode, result.stdout, result.stderr) == (
        2, "", "newscrawl: error: argument --limit: expected one argument\n"
    )  # fmt: skip


def test_the_command_hides_the_password_of_an_unreachable_database() -> None:
    result = scrapy_articles("stats", "--database", UNREACHABLE_URL)
    assert (result.returncode, result.stdout, result.stderr) == (1, "", UNREACHABLE_ERROR)


def test_database_url_comes_from_the_environment(sqlite_database: str) -> None:
    env = {**os.environ, "NEWSCRAWL_DATABASE_URL": sqlite_database}
    result = scrapy_articles("search", "Hochbeet", "--format", "jsonl", env=env)
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    assert [row["url"] for row in jsonl(result.stdout)] == [HOCHBEET_URL]


def wait_for_lock_waiter(engine: Engine, deadline: float) -> None:
    """Return once another session of this database waits for a lock."""
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
    )
    with engine.connect() as conn:
        while not conn.execute(waiting).scalar():
            assert time.monotonic() < deadline, "the command never reached its query"
            time.sleep(0.05)
            conn.rollback()  # a new snapshot of pg_stat_activity


def test_ctrl_c_during_a_slow_query_is_one_line_and_status_130(pg_database: str) -> None:
    # A query that cannot finish: the articles table is locked by this test until the
    # command has been interrupted.
    engine = make_engine(pg_database)
    try:
        with engine.connect() as locker:
            locker.execute(text("LOCK TABLE articles IN ACCESS EXCLUSIVE MODE"))
            process = subprocess.Popen(
                [SCRAPY, "articles", "stats", "--database", pg_database],
                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )  # fmt: skip
            try:
                wait_for_lock_waiter(engine, time.monotonic() + 60)
                process.send_signal(signal.SIGINT)
                stdout, stderr = process.communicate(timeout=30)
            finally:
                if process.poll() is None:
                    process.kill()
                    process.communicate()
            locker.rollback()
    finally:
        engine.dispose()
    assert (process.returncode, stdout, stderr) == (130, "", "newscrawl: interrupted\n")


# Counts to ten billion: minutes of work, so only an interrupt ends it within the test.
ENDLESS = text(
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000000000) "
    "SELECT count(*) FROM n"
)


def test_ctrl_c_stops_a_running_sqlite_statement_at_once(empty_database: str) -> None:
    # The SQLite half of the Ctrl-C test above, in this process: no command query is slow
    # on a test-sized database, so the engine the command uses runs ENDLESS instead.
    engine = query.interruptible(make_engine(empty_database))
    ctrl_c = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    try:
        with engine.connect() as conn:
            dbapi_connection = conn.connection.dbapi_connection
            assert dbapi_connection is not None
            # Should the interrupt not work, end the statement anyway, and say so.
            watchdog = threading.Timer(30, dbapi_connection.interrupt)
            started = time.monotonic()
            ctrl_c.start()
            watchdog.start()
            try:
                with pytest.raises(OperationalError) as caught:
                    conn.execute(ENDLESS)
            except KeyboardInterrupt:
                pytest.fail("Ctrl-C was raised only after the statement had ended")
            finally:
                watchdog.cancel()
            elapsed = time.monotonic() - started
    finally:
        ctrl_c.cancel()
        engine.dispose()
    assert query.is_interrupted(caught.value)
    assert elapsed < 10, "the statement ran on after Ctrl-C"


# The SQL examples of the README ("Querying the database"), exactly as printed there.
SQL_PER_DAY = """\
SELECT date(published_at) AS day, site, count(*) AS articles
FROM articles
GROUP BY date(published_at), site
ORDER BY day DESC, site;"""
SQL_AUTHOR_SQLITE = """\
SELECT published_at, site, title
FROM articles
WHERE EXISTS (SELECT 1 FROM json_each(articles.authors) WHERE value = 'Simone Jung')
ORDER BY published_at DESC
LIMIT 10;"""
SQL_AUTHOR_POSTGRESQL = """\
SELECT published_at, site, title
FROM articles
WHERE authors @> '["Simone Jung"]'
ORDER BY published_at DESC
LIMIT 10;"""
SQL_PORTALS = """\
SELECT a.id, count(DISTINCT u.site) AS portals, a.title
FROM articles AS a
JOIN article_urls AS u ON u.article = a.id
GROUP BY a.id, a.title
HAVING count(DISTINCT u.site) > 1
ORDER BY portals DESC, a.id;"""
SQL_EXAMPLES = {
    "sqlite": [SQL_PER_DAY, SQL_AUTHOR_SQLITE, SQL_PORTALS],
    "postgresql": [SQL_PER_DAY, SQL_AUTHOR_POSTGRESQL, SQL_PORTALS],
}
SQL_RESULTS = [
    [("2024-04-26", "fr.de", 1), ("2024-04-26", "merkur.de", 1), ("2024-04-25", "tz.de", 1),
     ("2021-02-15", "24auto.de", 1), ("2020-05-04", "fr.de", 1)],
    [("2024-04-26 18:44", "fr.de", AMBROSIA["title"]),
     ("2024-04-26 07:15", "merkur.de", HOCHBEET["title"])],
    [(1, 2, AMBROSIA["title"])],
]  # fmt: skip


def _plain(value: Any) -> Any:
    # SQLite returns text where PostgreSQL returns dates: compare what a person reads.
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, str) and len(value) >= 16 and value[4] == "-" and value[10] == " ":
        return value[:16]
    return value


def test_readme_sql_examples_run_on_both_databases(database: str) -> None:
    engine = make_engine(database)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(text("SET TIME ZONE 'UTC'"))  # as the README tells psql users
            results = [
                [tuple(_plain(value) for value in row) for row in conn.execute(text(sql))]
                for sql in SQL_EXAMPLES[engine.dialect.name]
            ]
    finally:
        engine.dispose()
    assert results == SQL_RESULTS


def test_readme_shows_exactly_the_tested_sql() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "\n## Querying the database\n" in readme, "README lacks 'Querying the database'"
    section = readme.split("\n## Querying the database\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sql\n(.*?)\n```", section, re.S)
    tested = {*SQL_EXAMPLES["sqlite"], *SQL_EXAMPLES["postgresql"]}
    assert sorted(blocks) == sorted(tested)
