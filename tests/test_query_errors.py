"""``scrapy articles`` on bad input and on databases it cannot use: one line, a status."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from tests.query_data import (
    ROOT,
    UNREACHABLE_ERROR,
    UNREACHABLE_URL,
    Articles,
    Run,
)

# Input checked before any query: run once, on an empty SQLite database.
USAGE_ERRORS: list[tuple[list[str], int, str]] = [
    ([], 2, "give a subcommand: search, show or stats (scrapy articles -h)"),
    (["list"], 2, "unknown subcommand 'list'; use search, show or stats"),
    (["search", "--since", "yesterday"], 2,
     "--since 'yesterday' is neither an ISO date (2024-04-26) nor a duration (6h, 2d)"),
    (["search", "--until", "2024-13-01"], 2,
     "--until '2024-13-01' is not an ISO date (2024-04-26) or datetime"),
    (["search", "--format", "xml"], 2, "unknown format 'xml'; use table, jsonl or csv"),
    (["search", "--limit", "ten"], 2, "--limit must be a positive whole number, not 'ten'"),
    (["search", "--limit"], 2, "argument --limit: expected one argument"),
    (["search", "--paywall", "maybe"], 2, "--paywall must be yes or no, not 'maybe'"),
    (["search", "Ambrosia", "-Pollen"], 2,
     "unknown option -Pollen, to leave out a word quote the query: 'Ambrosia -Pollen'"),
    (["show"], 2, "show takes one URL or article id: scrapy articles show 93036630"),
    (["show", "abc"], 2, "'abc' is neither a URL nor an article id"),
    (["show", "1", "--format", "csv"], 2, "show prints a table or jsonl, not csv"),
    (["stats", "--author", "Simone Jung"], 2, "--author does not apply to stats"),
    (["stats", "bogus"], 2,
     "unknown statistic 'bogus'; use days, sections, authors, syndicated, runs"),
    (["search", "--output", "/nonexistent/dir/out.csv"], 2,
     "cannot write /nonexistent/dir/out.csv: No such file or directory"),
    (["search", "-s", "NEWSCRAWL_SITES"], 2, "Invalid -s value, use -s NAME=VALUE"),
    (["search", *["Wort"] * 800], 2, "a search takes at most 32 words, not 800"),
]  # fmt: skip
# Input the database answers: on both.
DATA_ERRORS: list[tuple[list[str], int, str]] = [
    (["search", "--site", "nope.de"], 2,
     "unknown site 'nope.de': not in the registry; "
     "sites in the database: 24auto.de, fr.de, merkur.de, tz.de"),
    (["stats", "--site", "fr.de' OR 1=1 --"], 2,
     "unknown site \"fr.de' OR 1=1 --\": not in the registry; "
     "sites in the database: 24auto.de, fr.de, merkur.de, tz.de"),
    (["show", "99999999"], 1, "no article 99999999 in the database"),
    (["show", "https://www.fr.de/nicht-da-12345678.html"], 1,
     "no article https://www.fr.de/nicht-da-12345678.html in the database"),
]  # fmt: skip


def check_errors(cases: list[tuple[list[str], int, str]], database: str, cli: Articles) -> None:
    got = [(args, cli(*args, "--database", database)) for args, _, _ in cases]
    assert got == [
        (args, Run(status, "", f"newscrawl: error: {text}\n")) for args, status, text in cases
    ]


def test_bad_arguments_are_one_line_and_status_2(empty_database: str, cli: Articles) -> None:
    check_errors(USAGE_ERRORS, empty_database, cli)


def test_what_the_database_lacks_is_one_line(database: str, cli: Articles) -> None:
    check_errors(DATA_ERRORS, database, cli)


def test_a_site_of_the_registry_without_articles_is_no_error(database: str, cli: Articles) -> None:
    assert cli.ok("search", "--site", "hna.de", "--format", "jsonl", "--database", database) == ""


@pytest.mark.parametrize(
    ("url", "status", "message"),
    [
        (UNREACHABLE_URL, 1, UNREACHABLE_ERROR),
        ("sqlite:///does/not/exist.db", 1, "newscrawl: error: database sqlite:///does/not/"
         "exist.db does not exist; crawl first or give --database\n"),
        ("mysql://localhost/news", 2,
         "newscrawl: error: unsupported database 'mysql': use sqlite or postgresql\n"),
    ],
)  # fmt: skip
def test_unusable_database_is_one_line_without_the_password(
    url: str, status: int, message: str, cli: Articles
) -> None:
    assert cli("stats", "--database", url) == Run(status, "", message)
    assert not (ROOT / "does").exists()


# --- a database that is not newscrawl's ------------------------------------------------


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def foreign_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A database holding another application's table and none of newscrawl's.

    PostgreSQL: a database beside ``pg_url``'s (that one holds the filled store), reached
    with a password that trust authentication ignores, so the message can show it hidden.
    """
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("foreign") / "notes.db"
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
        conn.close()
        yield f"sqlite:///{path}"
        return
    server = make_url(request.getfixturevalue("pg_url"))
    name = f"{server.database}_foreign"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = server.set(database=name, password="s3cret")
        other_application = create_engine(url)
        with other_application.begin() as conn:
            conn.execute(text("CREATE TABLE notes (id serial PRIMARY KEY, body text)"))
        other_application.dispose()
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_a_database_without_newscrawl_tables_says_so_and_stays_untouched(
    foreign_database: str, cli: Articles
) -> None:
    shown = foreign_database.replace(":s3cret@", ":***@")
    message = (
        f"newscrawl: error: the database at {shown} has no newscrawl tables; "
        "run a crawl or `python -m newscrawl.store upgrade`\n"
    )
    runs = [cli(*args, "--database", foreign_database)
            for args in (["search", "Ambrosia"], ["show", "93036630"], ["stats"])]  # fmt: skip
    assert runs == [Run(1, "", message)] * 3
    engine = create_engine(foreign_database)
    try:
        assert inspect(engine).get_table_names() == ["notes"]
    finally:
        engine.dispose()
