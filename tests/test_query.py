"""``scrapy articles`` search, show and stats, against a database filled by the store itself.

The command runs in this process through Scrapy's own entry point (``scrapy.cmdline.execute``,
what the ``scrapy`` script calls), on SQLite and on PostgreSQL; the database, the runner and
the fixtures are ``tests/query_data.py``'s. Errors: ``test_query_errors.py``; the real
executable and the README's SQL: ``test_query_command.py``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from tests.query_data import (
    AMBROSIA,
    AMBROSIA_COPY,
    AMBROSIA_TEXT,
    AMBROSIA_UPDATED,
    AMBROSIA_URL,
    HOCHBEET,
    HOCHBEET_URL,
    MUSK_URL,
    NORDKOREA_URL,
    SHOW_REFS,
    WIESN_URL,
    Articles,
    check_show_table,
    jsonl,
)

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
