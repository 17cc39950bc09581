"""The pure rules behind the ``newscrawl`` command, as tables of cases: URL masking, the
health flags, the Prometheus text, the ``scrapy crawl`` command line, masked settings,
export columns. No I/O."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from newscrawl.cli.admin import scrapy_argv
from newscrawl.commands.settings import masked
from newscrawl.metrics import prometheus_text
from newscrawl.store.engine import database_url, mask_url
from newscrawl.store.export import EXPORT_COLUMNS, check_columns, column_kinds
from newscrawl.store.health import Window, assess


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("postgresql+psycopg://user:secret@host/db", "postgresql+psycopg://user:***@host/db"),
        ("postgresql+psycopg//user:secret@host/db", "postgresql+psycopg//user:***@host/db"),
        ("postgresql+psycopg://user@secret@host/db", "postgresql+psycopg://user@***@host/db"),
        ("postgresql://user:se/cr@et@host:5432/db", "postgresql://user:***@host:5432/db"),
        ("postgresql:user:secret@host/db", "postgresql:user:***@host/db"),
        ("postgresql://host/db", "postgresql://host/db"),
        ("postgresql://user@host/db", "postgresql://user@host/db"),
        ("sqlite:///data/news.db", "sqlite:///data/news.db"),
        ("sqlite:////tmp/a@b/news.db", "sqlite:////tmp/a@b/news.db"),
    ],
)
def test_mask_url_hides_whatever_may_be_the_password(raw: str, shown: str) -> None:
    assert mask_url(raw) == shown


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            "postgresql+psycopg//user:secret@host/db",
            "not a database URL: postgresql+psycopg//user:***@host/db",
        ),
        (
            "postgresql+psycopg://user@secret@host/db",
            "not a database URL: postgresql+psycopg://user@***@host/db (an '@' in the user "
            "name: write user:password@host, and %40 for an '@' inside either)",
        ),
        ("mysql://x:secret@localhost/db", "unsupported database 'mysql': use sqlite or postgresql"),
    ],
)
def test_a_malformed_database_url_is_one_masked_line(raw: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        database_url(raw)
    assert str(caught.value) == message
    assert "secret" not in str(caught.value)


def test_a_percent_encoded_at_in_the_user_name_is_a_valid_url() -> None:
    assert database_url("postgresql://a%40b:pw@host/db").username == "a@b"


def window(days: float, stories: int, authors: int, dated: int, lead: int, words: float | None):
    return Window(days, stories, authors, dated, lead, words)


@pytest.mark.parametrize(
    ("recent", "baseline", "problems"),
    [
        # healthy: the same shares and length as usual
        (window(2, 20, 18, 20, 19, 480), window(14, 140, 130, 140, 133, 500), ()),
        # no baseline yet (a new portal): nothing to compare with
        (window(2, 20, 0, 0, 0, 10), window(14, 0, 0, 0, 0, None), ()),
        # output dropped to zero
        (window(2, 0, 0, 0, 0, None), window(14, 140, 130, 140, 133, 500),
         ("no stories (usually 10.0 a day)",)),
        # authors lost: 10% against 93%
        (window(2, 20, 2, 20, 19, 480), window(14, 140, 130, 140, 133, 500),
         ("authors on 10% of stories (usually 93%)",)),
        # exactly half as many authors is not yet degraded
        (window(2, 20, 10, 20, 20, 500), window(14, 140, 140, 140, 140, 500), ()),
        # dates and leads gone, words halved
        (window(2, 20, 20, 4, 0, 240), window(14, 140, 140, 140, 140, 500),
         ("a date on 20% of stories (usually 100%)", "a lead on 0% of stories (usually 100%)",
          "median words 240 (usually 500)")),
        # a portal that never had authors is not flagged for having none
        (window(2, 20, 0, 20, 20, 500), window(14, 140, 0, 140, 140, 500), ()),
        # too few recent stories to judge the extraction
        (window(2, 4, 0, 4, 4, 100), window(14, 140, 140, 140, 140, 500), ()),
        # no word counts recently: nothing said about words
        (window(2, 20, 20, 20, 20, None), window(14, 140, 140, 140, 140, 500), ()),
    ],
)  # fmt: skip
def test_health_rules(recent: Window, baseline: Window, problems: tuple[str, ...]) -> None:
    assert assess(recent, baseline) == problems


def test_prometheus_text() -> None:
    stats = {
        "newscrawl/store/new": 12,
        "elapsed_time_seconds": 3.5,
        "finish_reason": "finished",
        "start_time": datetime(2024, 5, 1, 8, 0, tzinfo=UTC),
        "log_count/INFO": 7,
        "some/flag": True,
        'odd"key': 1,
    }
    assert prometheus_text(stats, "ippen") == (
        "# HELP newscrawl_stat A numeric stat of the last crawl (Scrapy's stats).\n"
        "# TYPE newscrawl_stat gauge\n"
        'newscrawl_stat{spider="ippen",key="elapsed_time_seconds"} 3.5\n'
        'newscrawl_stat{spider="ippen",key="log_count/INFO"} 7\n'
        'newscrawl_stat{spider="ippen",key="newscrawl/store/new"} 12\n'
        'newscrawl_stat{spider="ippen",key="odd\\"key"} 1\n'
        "# HELP newscrawl_stat_timestamp_seconds A time stat of the last crawl.\n"
        "# TYPE newscrawl_stat_timestamp_seconds gauge\n"
        'newscrawl_stat_timestamp_seconds{spider="ippen",key="start_time"} 1714550400.000\n'
        "# HELP newscrawl_finish_reason Why the last crawl ended (1 for its reason).\n"
        "# TYPE newscrawl_finish_reason gauge\n"
        'newscrawl_finish_reason{spider="ippen",reason="finished"} 1\n'
    )


@pytest.mark.parametrize(
    ("options", "argv"),
    [
        ((), ["scrapy", "crawl", "ippen"]),
        ((("sites", "fr.de,tz.de"),), ["scrapy", "crawl", "ippen", "-a", "sites=fr.de,tz.de"]),
        ((("since", "2d"), ("arguments", ("x=1",)), ("settings", ("A=b", "C=d")),
          ("log_level", "WARNING")),
         ["scrapy", "crawl", "ippen", "-a", "since=2d", "-a", "x=1", "-s", "A=b", "-s", "C=d",
          "--loglevel", "WARNING"]),
        ((("spider", "ippen-archive"),), ["scrapy", "crawl", "ippen-archive"]),
    ],
)  # fmt: skip
def test_crawl_options_become_scrapy_crawl_arguments(
    options: tuple[tuple[str, object], ...], argv: list[str]
) -> None:
    given: dict[str, object] = {
        "spider": "ippen", "arguments": (), "settings": (), "sites": None, "since": None,
        "log_level": None, **dict(options),
    }  # fmt: skip
    assert scrapy_argv(**given) == argv  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "value", "shown"),
    [
        ("NEWSCRAWL_DATABASE_URL", "postgresql+psycopg//u:secret@h/db",
         "postgresql+psycopg//u:***@h/db"),
        ("NEWSCRAWL_DATABASE_URL", "postgresql://u@secret@h/db", "postgresql://u@***@h/db"),
        ("NEWSCRAWL_REDIS_URL", "redis://:secret@h:6379/0", "redis://:***@h:6379/0"),
        ("USER_AGENT", "crawler (+mailto:ops@example.org)", "crawler (+mailto:ops@example.org)"),
        ("LOG_FILE", "see postgresql://u:secret@h/db", "see postgresql://u:***@h/db"),
        ("CONCURRENT_REQUESTS", 16, 16),
    ],
)  # fmt: skip
def test_settings_are_shown_masked(name: str, value: object, shown: object) -> None:
    assert masked(name, value) == shown


def test_export_columns() -> None:
    assert check_columns([]) == list(EXPORT_COLUMNS)
    assert check_columns(["title", " url", "title", ""]) == ["title", "url"]
    with pytest.raises(ValueError, match=r"^unknown column 'nope'; columns: id, url, "):
        check_columns(["url", "nope"])
    assert column_kinds(["id", "title", "authors", "published_at", "paywall"]) == {
        "id": "int", "title": "text", "authors": "json", "published_at": "datetime",
        "paywall": "bool",
    }  # fmt: skip
