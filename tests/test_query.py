"""``scrapy articles``: real command runs against a database filled by the store itself.

Most tests run the command in this process through Scrapy's own entry point
(``scrapy.cmdline.execute``, what the ``scrapy`` script calls), on SQLite and on
PostgreSQL (``tests/dbs.py``: PostgreSQL is skipped only outside CI). A few run the
real ``scrapy`` executable in a subprocess to prove the wiring a person uses: the
project found from scrapy.cfg, stdout/stderr, exit statuses, the environment, Ctrl-C.
Each subprocess costs about a second of interpreter and Scrapy start-up, an in-process
run a few milliseconds. The database holds five stories written through
``write_batch``: one of them syndicated to a second portal and later updated (a
version), plus two crawl runs.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from scrapy.cmdline import execute
from sqlalchemy import Engine, create_engine, insert, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from newscrawl.store import make_engine, migrate, query, write_batch
from newscrawl.store.models import CrawlRun

ROOT = Path(__file__).resolve().parents[1]
SCRAPY = str(Path(sys.executable).with_name("scrapy"))

AMBROSIA_URL = (
    "https://www.fr.de/ratgeber/wohnen/"
    "ambrosia-giftig-garten-allergische-reaktionen-pflanze-erkennen-bekaempfen-zr-93036630.html"
)
AMBROSIA_COPY = (
    "https://www.merkur.de/ratgeber/wohnen/"
    "ambrosia-giftig-garten-allergische-reaktionen-pflanze-erkennen-bekaempfen-zr-93036630.html"
)
NORDKOREA_URL = (
    "https://www.fr.de/politik/kim-jong-un-nordkorea-bilder-diktator-donald-trump-zr-13680734.html"
)
MUSK_URL = "https://www.24auto.de/news/elon-musk-putin-clubhouse-talk-tesla-90205362.html"
HOCHBEET_URL = "https://www.merkur.de/ratgeber/garten/hochbeet-anlegen-fehler-zr-93035001.html"
WIESN_URL = "https://www.tz.de/muenchen/stadt/wiesn-2024-bierpreis-masskrug-zr-93034002.html"


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _item(url: str, site: str, article_id: str, **fields: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "url": url,
        "site": site,
        "fetched_url": url,
        "fetched_site": site,
        "article_id": article_id,
        "language": "de",
        "publisher": "Ippen Digital",
    }
    item.update(fields)
    item["word_count"] = len(item["text"].split())
    return item


AMBROSIA_TEXT = (
    "Ursprünglich stammt Ambrosia, auch als Traubenkraut bekannt, aus Nordamerika.\n"
    "Dennoch breiten sich einige Arten dieser Pflanze invasiv in deutschen Gärten aus."
)
AMBROSIA = _item(
    AMBROSIA_URL, "fr.de", "93036630",
    title="Warum Ambrosia in deutschen Gärten zur Bedrohung wird",
    lead="Ambrosia breitet sich in deutschen Gärten aus und kann gesundheitliche Schäden "
    "verursachen.",
    text=AMBROSIA_TEXT,
    authors=["Simone Jung"], section=["Ratgeber", "Wohnen"], keywords=["Ambrosia", "Garten"],
    paywall=False,
    published_at=_at("2024-04-26T20:44:00+02:00"),
    modified_at=_at("2024-04-26T20:44:00+02:00"),
    fetched_at=_at("2024-04-27T06:00:00+00:00"),
)  # fmt: skip
NORDKOREA = _item(
    NORDKOREA_URL, "fr.de", "13680734",
    title="Kim Jong Un: Der Diktator ist zurück - Donald Trump ist „glücklich“",
    lead="Kim Jong Un taucht nach Wochen wieder auf.",
    text="Die Bilder, die das beweisen sollen, erfreuen Donald Trump.\n"
    "Er sendet Grüße nach Nordkorea.",
    authors=["FR mit dpa"], section=["Politik"], keywords=["Nordkorea", "Donald Trump"],
    paywall=False,
    published_at=_at("2020-05-04T09:12:00+02:00"),
    fetched_at=_at("2024-04-27T06:01:00+00:00"),
)  # fmt: skip
MUSK = _item(
    MUSK_URL, "24auto.de", "90205362",
    title="Elon Musk möchte Spitzengespräch mit Wladimir Putin",
    lead="Jetzt hat er Russlands Präsidenten Wladimir Putin zu einem öffentlichen "
    "Clubhouse-Talk eingeladen.",
    text="Palo Alto (Kalifornien) – Immer für eine Überraschung gut: Tesla-CEO Elon Musk hat "
    "das offizielle Kreml-Konto markiert.",
    authors=["Christian Schulz"], section=["News"], keywords=["Elon Musk", "Clubhouse"],
    published_at=_at("2021-02-15T14:30:00+01:00"),
    fetched_at=_at("2024-04-27T06:02:00+00:00"),
)  # fmt: skip
HOCHBEET = _item(
    HOCHBEET_URL, "merkur.de", "93035001",
    title="Hochbeet anlegen: Diese fünf Fehler sollten Sie vermeiden",
    lead="Wer im Frühjahr ein Hochbeet anlegt, sollte auf die richtige Füllung achten.",
    text="Ein Hochbeet schont den Rücken und bringt früher Ernte.\n"
    "Falsch befüllt sackt die Erde aber schnell ab.",
    authors=["Simone Jung", "Anna Lorenz"], section=["Ratgeber", "Garten"],
    keywords=["Hochbeet"], paywall=True,
    published_at=_at("2024-04-26T07:15:00+00:00"),
    fetched_at=_at("2024-04-27T06:03:00+00:00"),
)  # fmt: skip
WIESN = _item(
    WIESN_URL, "tz.de", "93034002",
    title="Wiesn 2024: So teuer wird die Maß Bier auf dem Oktoberfest",
    lead="Die Wirte haben ihre Bierpreise für das Oktoberfest bekanntgegeben.",
    text="Die Maß kostet auf der Wiesn 2024 bis zu 15,30 Euro.\n"
    "Das ist ein Plus von knapp vier Prozent.",
    authors=["Sophia Lother"], section=["München", "Stadt"], keywords=["Oktoberfest"],
    published_at=_at("2024-04-25T16:00:00+00:00"),
    fetched_at=_at("2024-04-27T06:04:00+00:00"),
)  # fmt: skip
# The merkur.de copy of the fr.de story: same online id, canonical naming fr.de.
AMBROSIA_ON_MERKUR = {
    **AMBROSIA,
    "fetched_url": AMBROSIA_COPY,
    "fetched_site": "merkur.de",
    "fetched_at": _at("2024-04-27T09:00:00+00:00"),
}
AMBROSIA_UPDATED = {
    **AMBROSIA,
    "text": AMBROSIA_TEXT + "\nDie Pollen lösen schon in kleinen Mengen Allergien aus.",
    "modified_at": _at("2024-04-28T05:30:00+00:00"),
    "fetched_at": _at("2024-04-28T06:00:00+00:00"),
}
RUNS = [
    {
        "started_at": _at("2024-04-27T06:00:00+00:00"),
        "finished_at": _at("2024-04-27T06:20:00+00:00"),
        "spider": "ippen", "arguments": {}, "sites": [], "status": "finished",
        "new": 5, "updated": 0, "unchanged": 0, "duplicates": 1, "failed": 0,
    },
    {
        "started_at": _at("2024-04-28T06:00:00+00:00"),
        "finished_at": _at("2024-04-28T06:03:00+00:00"),
        "spider": "ippen", "arguments": {"sites": "fr.de"}, "sites": ["fr.de"],
        "status": "failed", "new": 0, "updated": 1, "unchanged": 1, "duplicates": 0, "failed": 2,
    },
]  # fmt: skip


def fill(url: str) -> None:
    """Migrate and fill the database at ``url`` the way crawls would."""
    engine = make_engine(url)
    try:
        migrate(engine)
        first = write_batch(engine, [AMBROSIA, NORDKOREA, MUSK, HOCHBEET, WIESN])
        assert first.counts()["new"] == 5, first.outcomes
        copy = write_batch(engine, [AMBROSIA_ON_MERKUR])
        assert copy.counts()["duplicate"] == 1, copy.outcomes
        update = write_batch(engine, [AMBROSIA_UPDATED])
        assert update.counts()["updated"] == 1, update.outcomes
        with engine.begin() as conn:
            conn.execute(insert(CrawlRun), RUNS)
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def sqlite_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('query')}/news.db"
    fill(url)
    return url


@pytest.fixture(scope="module")
def pg_database(pg_url: str) -> str:
    fill(pg_url)
    return pg_url


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest) -> str:
    """A filled database per backend, shared by the module's tests (they only read)."""
    fixture = {"sqlite": "sqlite_database", "postgresql": "pg_database"}[request.param]
    url: str = request.getfixturevalue(fixture)
    return url


@pytest.fixture(scope="module")
def empty_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('empty')}/news.db"
    migrate(url)
    return url


@dataclass(frozen=True)
class Run:
    status: int | str | None
    stdout: str
    stderr: str


class Articles:
    """``scrapy articles ARGS`` run in this process through ``scrapy.cmdline.execute``.

    That function is the whole ``scrapy`` script: it finds the project from scrapy.cfg in
    the current directory, loads the settings, builds the command's parser and ends with
    ``sys.exit``. Only the interpreter start-up and the imports are skipped.
    """

    def __call__(self, *args: str) -> Run:
        stdout, stderr = io.StringIO(), io.StringIO()
        with redirect_stdout(stdout), redirect_stderr(stderr), pytest.raises(SystemExit) as end:
            execute(["scrapy", "articles", *args])
        return Run(end.value.code, stdout.getvalue(), stderr.getvalue())

    def ok(self, *args: str) -> str:
        result = self(*args)
        assert (result.status, result.stderr) == (0, ""), result.stderr
        return result.stdout


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> Articles:
    monkeypatch.chdir(ROOT)
    # execute() sets SCRAPY_SETTINGS_MODULE (from scrapy.cfg) and appends to sys.path for
    # the whole process. Set-then-delete: unset during the test, so scrapy.cfg is really
    # read, and put back as it was before the test afterwards.
    monkeypatch.setenv("SCRAPY_SETTINGS_MODULE", "")
    monkeypatch.delenv("SCRAPY_SETTINGS_MODULE")
    monkeypatch.setattr(sys, "path", [*sys.path])
    return Articles()


def scrapy_articles(
    *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The real executable, for the few tests of what only a new process shows."""
    return subprocess.run(
        [SCRAPY, "articles", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )


def jsonl(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


LATEST_TABLE = """\
published_at      site       title                                                         url
----------------  ---------  ------------------------------------------------------------  ----------------------------------------------------------------------------------------------------------------------------
2024-04-26 18:44  fr.de      Warum Ambrosia in deutschen Gärten zur Bedrohung wird         https://www.fr.de/ratgeber/wohnen/ambrosia-giftig-garten-allergische-reaktionen-pflanze-erkennen-bekaempfen-zr-93036630.html
2024-04-26 07:15  merkur.de  Hochbeet anlegen: Diese fünf Fehler sollten Sie vermeiden     https://www.merkur.de/ratgeber/garten/hochbeet-anlegen-fehler-zr-93035001.html
2024-04-25 16:00  tz.de      Wiesn 2024: So teuer wird die Maß Bier auf dem Oktoberfest    https://www.tz.de/muenchen/stadt/wiesn-2024-bierpreis-masskrug-zr-93034002.html
2021-02-15 13:30  24auto.de  Elon Musk möchte Spitzengespräch mit Wladimir Putin           https://www.24auto.de/news/elon-musk-putin-clubhouse-talk-tesla-90205362.html
2020-05-04 07:12  fr.de      Kim Jong Un: Der Diktator ist zurück - Donald Trump ist „gl…  https://www.fr.de/politik/kim-jong-un-nordkorea-bilder-diktator-donald-trump-zr-13680734.html
"""  # noqa: E501


def test_search_without_words_lists_the_latest_articles_as_a_table(
    database: str, cli: Articles
) -> None:
    assert cli.ok("search", "--database", database) == LATEST_TABLE


SEARCHES: list[tuple[list[str], list[str]]] = [
    (["Ambrosia"], [AMBROSIA_URL]),
    (["Maß", "Bier"], [WIESN_URL]),
    (["Putin", "--site", "24auto.de"], [MUSK_URL]),
    (["Putin", "--site", "fr.de"], []),
    (["--site", "fr.de"], [AMBROSIA_URL, NORDKOREA_URL]),
    (["--site", "FR.de"], [AMBROSIA_URL, NORDKOREA_URL]),
    (["--author", "Simone Jung"], [AMBROSIA_URL, HOCHBEET_URL]),
    (["--section", "Ratgeber"], [AMBROSIA_URL, HOCHBEET_URL]),
    (["--section", "München"], [WIESN_URL]),
    (["--paywall", "yes"], [HOCHBEET_URL]),
    (["--paywall", "no"], [AMBROSIA_URL, NORDKOREA_URL]),
    (["--since", "2024-04-26", "--until", "2024-04-26"], [AMBROSIA_URL, HOCHBEET_URL]),
    (["--since", "2024-04-26T12:00:00+02:00"], [AMBROSIA_URL]),
    (["--until", "2021-02-15"], [MUSK_URL, NORDKOREA_URL]),
    (["--until", "2021-02-15T12:00Z"], [NORDKOREA_URL]),
    (["--limit", "2"], [AMBROSIA_URL, HOCHBEET_URL]),
    # A would-be injection is a search term and a bound parameter, nothing more.
    (["'; DROP TABLE articles; --"], []),
]


def test_search_words_and_filters(database: str, cli: Articles) -> None:
    found = [
        (args, [row["url"] for row in jsonl(cli.ok("search", *args, "--format", "jsonl",
                                                    "--database", database))])
        for args, _ in SEARCHES
    ]  # fmt: skip
    assert found == SEARCHES


def test_jsonl_rows_carry_every_article_column(database: str, cli: Articles) -> None:
    [row] = jsonl(cli.ok("search", "Ambrosia", "--format", "jsonl", "--database", database))
    assert row == {
        "id": 1, "url": AMBROSIA_URL, "site": "fr.de", "article_id": "93036630",
        "title": AMBROSIA["title"], "seo_title": None, "kicker": None, "lead": AMBROSIA["lead"],
        "text": AMBROSIA_UPDATED["text"], "description": None,
        "authors": ["Simone Jung"], "author_urls": [], "section": ["Ratgeber", "Wohnen"],
        "keywords": ["Ambrosia", "Garten"], "entities": [],
        "image_url": None, "image_caption": None, "image_credit": None,
        "publisher": "Ippen Digital", "language": "de", "paywall": False,
        "cms_client_id": None, "links": [],
        "boxes": [], "tables": [], "ticker": [], "story_type": None, "extractor_version": None,
        "published_at": "2024-04-26T18:44:00+00:00",
        "modified_at": "2024-04-28T05:30:00+00:00",
        "first_seen_at": "2024-04-27T06:00:00+00:00",
        "fetched_at": "2024-04-28T06:00:00+00:00",
        "content_hash": row["content_hash"], "simhash": row["simhash"], "word_count": 21,
        "http_etag": None, "http_last_modified": None, "external_canonical": None,
    }  # fmt: skip
    assert len(row["content_hash"]) == 64


def test_csv_goes_to_the_output_file(database: str, cli: Articles, tmp_path: Path) -> None:
    target = tmp_path / "paid.csv"
    out = cli.ok("search", "--paywall", "yes", "--format", "csv", "--output", str(target),
                 "--database", database)  # fmt: skip
    assert out == ""
    [header, *rows] = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert header[:5] == ["id", "url", "site", "article_id", "title"]
    assert len(header) == 38
    [row] = [dict(zip(header, values, strict=True)) for values in rows]
    assert (row["url"], row["authors"], row["paywall"], row["published_at"], row["kicker"]) == (
        HOCHBEET_URL,
        '["Simone Jung", "Anna Lorenz"]',
        "true",
        "2024-04-26T07:15:00+00:00",
        "",
    )
    assert row["text"] == HOCHBEET["text"]  # newlines survive CSV quoting


SHOW_TAIL = """\
published_at        2024-04-26T18:44:00+00:00
modified_at         2024-04-28T05:30:00+00:00
first_seen_at       2024-04-27T06:00:00+00:00
fetched_at          2024-04-28T06:00:00+00:00
"""
SHOW_BLOCKS = f"""\
text:
{AMBROSIA_UPDATED["text"]}

publications (2):
first_seen_at     last_seen_at      site       article_id  url
----------------  ----------------  ---------  ----------  --------------------------------------------------------------------------------------------------------------------------------
2024-04-27 06:00  2024-04-28 06:00  fr.de      93036630    https://www.fr.de/ratgeber/wohnen/ambrosia-giftig-garten-allergische-reaktionen-pflanze-erkennen-bekaempfen-zr-93036630.html
2024-04-27 09:00  2024-04-27 09:00  merkur.de  93036630    https://www.merkur.de/ratgeber/wohnen/ambrosia-giftig-garten-allergische-reaktionen-pflanze-erkennen-bekaempfen-zr-93036630.html

versions (1):
id  fetched_at        modified_at       title
--  ----------------  ----------------  -----------------------------------------------------
1   2024-04-27 06:00  2024-04-26 18:44  Warum Ambrosia in deutschen Gärten zur Bedrohung wird
"""  # noqa: E501


SHOW_REFS = ["93036630", "1", AMBROSIA_URL, AMBROSIA_COPY, AMBROSIA_COPY + "?utm_source=x#top"]


def check_show_table(output: str) -> None:
    head, blocks = output.split("\n\n", 1)
    assert head.splitlines()[:5] == [
        "id                  1",
        f"url                 {AMBROSIA_URL}",
        "site                fr.de",
        "article_id          93036630",
        f"title               {AMBROSIA['title']}",
    ]
    assert SHOW_TAIL in head + "\n"
    assert "paywall             no" in head.splitlines()
    assert blocks == SHOW_BLOCKS


def test_show_finds_a_story_by_any_url_or_id(database: str, cli: Articles) -> None:
    outputs = [cli.ok("show", ref, "--database", database) for ref in SHOW_REFS]
    assert outputs == [outputs[0]] * len(SHOW_REFS)
    check_show_table(outputs[0])


def test_show_prefers_the_online_id_and_falls_back_to_the_row_id(
    database: str, cli: Articles
) -> None:
    [story] = jsonl(cli.ok("show", "90205362", "--format", "jsonl", "--database", database))
    assert story["url"] == MUSK_URL
    [story] = jsonl(cli.ok("show", "5", "--format", "jsonl", "--database", database))
    assert story["url"] == WIESN_URL


def test_show_jsonl_nests_publications_and_versions(database: str, cli: Articles) -> None:
    [story] = jsonl(cli.ok("show", AMBROSIA_COPY, "--format", "jsonl", "--database", database))
    assert [
        (u["site"], u["url"], u["first_seen_at"], u["last_seen_at"]) for u in story["urls"]
    ] == [
        ("fr.de", AMBROSIA_URL, "2024-04-27T06:00:00+00:00", "2024-04-28T06:00:00+00:00"),
        ("merkur.de", AMBROSIA_COPY, "2024-04-27T09:00:00+00:00", "2024-04-27T09:00:00+00:00"),
    ]
    [version] = story["versions"]
    assert (version["text"], version["modified_at"], version["fetched_at"]) == (
        AMBROSIA_TEXT,
        "2024-04-26T18:44:00+00:00",
        "2024-04-27T06:00:00+00:00",
    )
    assert story["text"] == AMBROSIA_UPDATED["text"]


STATS_TABLE = """\
Articles per day and site (UTC)

day         site       articles
----------  ---------  --------
2024-04-26  fr.de      1
2024-04-26  merkur.de  1
2024-04-25  tz.de      1
2021-02-15  24auto.de  1
2020-05-04  fr.de      1

Articles per section

section   articles
--------  --------
Ratgeber  2
München   1
News      1
Politik   1

Top authors

author            articles
----------------  --------
Simone Jung       2
Anna Lorenz       1
Christian Schulz  1
FR mit dpa        1
Sophia Lother     1

Stories on more than one portal

id  published_at      portals  sites             title                                                  url
--  ----------------  -------  ----------------  -----------------------------------------------------  ----------------------------------------------------------------------------------------------------------------------------
1   2024-04-26 18:44  2        fr.de, merkur.de  Warum Ambrosia in deutschen Gärten zur Bedrohung wird  https://www.fr.de/ratgeber/wohnen/ambrosia-giftig-garten-allergische-reaktionen-pflanze-erkennen-bekaempfen-zr-93036630.html

Last crawl runs

id  started_at        finished_at       spider  status    new  updated  unchanged  duplicates  failed  sites
--  ----------------  ----------------  ------  --------  ---  -------  ---------  ----------  ------  -----
2   2024-04-28 06:00  2024-04-28 06:03  ippen   failed    0    1        1          0           2       fr.de
1   2024-04-27 06:00  2024-04-27 06:20  ippen   finished  5    0        0          1           0
"""  # noqa: E501


def test_stats_table(database: str, cli: Articles) -> None:
    assert cli.ok("stats", "--database", database) == STATS_TABLE


def test_stats_jsonl_names_the_table_of_each_row(database: str, cli: Articles) -> None:
    rows = jsonl(cli.ok("stats", "--format", "jsonl", "--database", database))
    assert [row["stat"] for row in rows] == (
        ["days"] * 5 + ["sections"] * 4 + ["authors"] * 5 + ["syndicated"] + ["runs"] * 2
    )
    assert rows[0] == {"stat": "days", "day": "2024-04-26", "site": "fr.de", "articles": 1}
    assert rows[14] == {
        "stat": "syndicated", "id": 1, "published_at": "2024-04-26T18:44:00+00:00",
        "portals": 2, "sites": "fr.de, merkur.de", "title": AMBROSIA["title"], "url": AMBROSIA_URL,
    }  # fmt: skip
    assert rows[15] == {
        "stat": "runs", "id": 2, "started_at": "2024-04-28T06:00:00+00:00",
        "finished_at": "2024-04-28T06:03:00+00:00", "spider": "ippen", "status": "failed",
        "new": 0, "updated": 1, "unchanged": 1, "duplicates": 0, "failed": 2, "sites": ["fr.de"],
    }  # fmt: skip


STATS_CSV: list[tuple[list[str], str]] = [
        (["authors", "--limit", "2"], "stat,author,articles\nauthors,Simone Jung,2\n"
                                      "authors,Anna Lorenz,1\n"),
        (["days", "--limit", "1"], "stat,day,site,articles\ndays,2024-04-26,fr.de,1\n"
                                   "days,2024-04-26,merkur.de,1\n"),
        (["days", "--site", "fr.de"], "stat,day,site,articles\ndays,2024-04-26,fr.de,1\n"
                                      "days,2020-05-04,fr.de,1\n"),
        (["sections", "--since", "2024-04-26"], "stat,section,articles\nsections,Ratgeber,2\n"),
        (["syndicated", "--until", "2024-04-25"], "stat,id,published_at,portals,sites,title,url\n"),
        (["runs", "--limit", "1"], "stat,id,started_at,finished_at,spider,status,new,updated,"
         "unchanged,duplicates,failed,sites\nruns,2,2024-04-28T06:00:00+00:00,"
         '2024-04-28T06:03:00+00:00,ippen,failed,0,1,1,0,2,"[""fr.de""]"\n'),
]  # fmt: skip


def test_stats_one_table_as_csv(database: str, cli: Articles) -> None:
    runs = [cli.ok("stats", *args, "--format", "csv", "--database", database)
            for args, _ in STATS_CSV]  # fmt: skip
    assert list(zip([args for args, _ in STATS_CSV], runs, strict=True)) == STATS_CSV


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


UNREACHABLE_URL = "postgresql://crawler:s3cret@127.0.0.1:1/news"
UNREACHABLE_ERROR = (
    "newscrawl: error: database postgresql+psycopg://crawler:***@127.0.0.1:1/news: "
    'connection failed: connection to server at "127.0.0.1", port 1 failed: Connection refused\n'
)


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


# --- the real executable ---------------------------------------------------------------
# One run each for what the in-process runs cannot show: the console script, scrapy.cfg
# found from the working directory, real stdout/stderr and exit statuses, the process
# environment, signals. The queries themselves are the same code on either path.

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
